// The two waits scenarios and steps use on what components report about themselves, in the style
// of efficientgo/e2e's WaitSumMetrics(Equals(n), name): a metric's sum across matching series, and
// Query's Stores page. Each names what it waits for, prints progress and gives up at once when a
// component exits (see wait.ts).
import { waitFor } from '../wait.ts';
import { PromApiClient, type StoreEndpoint } from './client.ts';
import { metricSum } from './metrics.ts';

export interface Matcher {
  /** For messages: "= 4", ">= 2". */
  readonly text: string;
  matches(value: number): boolean;
}

export const equals = (n: number): Matcher => ({ text: `= ${n}`, matches: (v) => v === n });
export const greaterOrEqual = (n: number): Matcher => ({ text: `>= ${n}`, matches: (v) => v >= n });
export const greater = (n: number): Matcher => ({ text: `> ${n}`, matches: (v) => v > n });

export interface MetricWaitOptions {
  /** Only series with these label values count. */
  labels?: Record<string, string>;
  timeoutMs?: number;
  intervalMs?: number;
  onProgress?: (line: string) => void;
}

/**
 * Waits until the sum of `metric` over the series matching opts.labels on the component at
 * baseUrl satisfies the matcher; a metric not exposed yet counts as 0. Several metrics are summed
 * together (as efficientgo/e2e's WaitSumMetrics does): a wait for whichever of two outcomes comes.
 * Returns the sum. `component` names it in progress lines and errors ("observer/store").
 */
export async function waitSumMetrics(component: string, baseUrl: string, matcher: Matcher, metric: string | string[], opts: MetricWaitOptions = {}): Promise<number> {
  const client = new PromApiClient(baseUrl);
  const labels = opts.labels && Object.keys(opts.labels).length ? JSON.stringify(opts.labels) : '';
  const metrics = typeof metric === 'string' ? [metric] : metric;
  return await waitFor(
    `${component} ${metrics.join(' + ')}${labels} ${matcher.text}`,
    async (note) => {
      const text = await client.metrics();
      const value = metrics.reduce((sum, m) => sum + (metricSum(text, m, opts.labels) ?? 0), 0);
      note(`now ${value}`);
      return matcher.matches(value) ? value : undefined;
    },
    { timeoutMs: opts.timeoutMs ?? 180_000, intervalMs: opts.intervalMs ?? 500, onProgress: opts.onProgress },
  );
}

export type StoresPage = Record<string, StoreEndpoint[]>;

export interface StoresExpectation {
  /** Only endpoints of this type count ("store", "sidecar", "receive", ...); default all. */
  type?: string;
  /** Exactly this many endpoints (of `type`). */
  count: number;
  /** Every one checked after this time (ms) without error; or, with `failing`, with an error. */
  checkedAfter?: number;
  /** Every one's last check failed (Query has noticed it is gone). */
  failing?: boolean;
  /** Every sidecar, receive and rule endpoint advertises data from this time (ms) on: Query skips one that does not overlap a query. */
  covering?: number;
  /**
   * Every one advertises exactly this minTime (ms). E.g. sidecars their Prometheus' lowest
   * timestamp: a sidecar re-reads it every 30 s, so this says it has since that last changed.
   */
  minTime?: number;
  /** Every one has a label set with these labels: which endpoint it is where a Service hides its address (e.g. { receive_replica: 'receive-0' }). */
  labels?: Record<string, string>;
}

/** Whether a Stores page meets the expectation; a reason (for progress lines) when not. */
export function storesMismatch(page: StoresPage, e: StoresExpectation): string | undefined {
  const endpoints = e.type ? (page[e.type] ?? []) : Object.values(page).flat();
  const what = e.type ? `${e.type} endpoints` : 'endpoints';
  if (endpoints.length !== e.count) return `${endpoints.length} ${what}, expecting ${e.count}`;
  const healthy = (s: StoreEndpoint) => (e.failing ? s.lastError !== null : s.lastError === null);
  const unchecked = endpoints.filter((s) => !healthy(s) || (e.checkedAfter !== undefined && (s.lastCheck ?? 0) <= e.checkedAfter));
  if (unchecked.length) {
    const since = e.checkedAfter === undefined ? '' : ` since ${new Date(e.checkedAfter).toISOString()}`;
    return `${unchecked.length} of ${endpoints.length} ${what} not yet ${e.failing ? 'failing' : 'checked without error'}${since} (${unchecked.map((s) => `${s.name}: ${s.lastError ?? 'ok'}`).join('; ')})`;
  }
  if (e.covering !== undefined) {
    const from = e.covering;
    const late = endpoints.filter((s) => ['sidecar', 'receive', 'rule'].includes(typeOf(page, s)) && !(typeof s.minTime === 'number' && s.minTime <= from));
    if (late.length) return `${late.length} sidecar/receive/rule endpoints without data from ${new Date(from).toISOString()}`;
  }
  if (e.labels) {
    const want = Object.entries(e.labels);
    const other = endpoints.filter((s) => !s.labelSets.some((set) => want.every(([k, v]) => set[k] === v)));
    if (other.length) return `${other.length} of ${endpoints.length} ${what} without ${JSON.stringify(e.labels)} (${other.map((s) => `${s.name}: ${JSON.stringify(s.labelSets)}`).join('; ')})`;
  }
  if (e.minTime !== undefined) {
    const other = endpoints.filter((s) => s.minTime !== e.minTime);
    if (other.length) return `${other.length} of ${endpoints.length} ${what} advertise another minTime than ${new Date(e.minTime).toISOString()} (${other.map((s) => `${s.name}: ${s.minTime}`).join('; ')})`;
  }
  return undefined;
}

const typeOf = (page: StoresPage, s: StoreEndpoint) => Object.entries(page).find(([, list]) => list.includes(s))?.[0] ?? '';

/** Waits until Query's Stores page (/api/v1/stores) meets the expectation; returns the page then. */
export async function waitForStores(
  queryName: string,
  query: PromApiClient,
  expected: StoresExpectation,
  opts: { timeoutMs?: number; onProgress?: (line: string) => void } = {},
): Promise<StoresPage> {
  const parts = [
    `${expected.count} ${expected.type ?? ''} endpoint(s)`.replace('  ', ' '),
    expected.failing ? 'failing' : expected.checkedAfter !== undefined ? `checked since ${new Date(expected.checkedAfter).toISOString()}` : undefined,
    expected.covering !== undefined ? `covering ${new Date(expected.covering).toISOString()}` : undefined,
    expected.minTime !== undefined ? `minTime ${new Date(expected.minTime).toISOString()}` : undefined,
    expected.labels ? `labelled ${JSON.stringify(expected.labels)}` : undefined,
  ].filter(Boolean);
  return await waitFor(
    `${queryName}'s Stores page to show ${parts.join(', ')}`,
    async (note) => {
      const page = await query.stores();
      const mismatch = storesMismatch(page, expected);
      if (mismatch) note(mismatch);
      return mismatch ? undefined : page;
    },
    { timeoutMs: opts.timeoutMs ?? 180_000, intervalMs: 500, onProgress: opts.onProgress },
  );
}
