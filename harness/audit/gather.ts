// What the audit asks a live Thanos Query (and its Query Frontend): only GET requests of the
// Prometheus HTTP API, a bounded number of them, each with a timeout, nothing written anywhere.
// The answers go to checks.ts, which judges them.
//
// Requests, at most 9 + K (K = --tries, at most 100):
//   GET /api/v1/stores                      Query's Stores page (also: is this a Thanos Query?)
//   GET /api/v1/status/buildinfo            only when the Stores page answers 404: what is it then?
//   GET /api/v1/status/flags                Query's flags (replica labels, dedup function, strict endpoints)
//   GET /api/v1/query_range  probe          over the range, dedup=true (checks A and D)
//   GET /api/v1/query        probe  x K     at one past time, through the frontend if given (B)
//   GET /api/v1/query        probe  x 2     partial_response=true and =false (partial answers)
//   GET /api/v1/query        vector(1)      through the frontend: is it there? (only with --frontend)
//   GET /api/v1/query_range  probe  x 3     the recent range: through the frontend first of all, then (after
//                                           --cache-wait, the other checks meanwhile) again, and through Query
import { PromApiClient, PromApiError, type MatrixSeries, type QueryResponse, type StoreEndpoint, type VectorSample } from '../promql/client.ts';
import type { AuditInputs, AuditOptions, Outcome } from './checks.ts';

export const MAX_TRIES = 100;

export interface GatherOptions extends AuditOptions {
  query: string;
  frontend?: string;
  /** How far back the fixed past time of the tries (B) and the partial-answer check lies: ingestion has settled there. */
  agoMs: number;
  /** Timeout of each request. */
  timeoutMs: number;
  /** Between the first and the repeated request of the cache check. */
  cacheWaitMs: number;
  /** Called after the cache check's first request (a test releases a stall of the ingestion here). */
  afterFirstCacheAsk?: () => Promise<void>;
  now?: () => number;
  onProgress?: (line: string) => void;
}

/** Bad input: one line naming the problem and the fix; exit 2. */
export class BadInput extends Error {
  override name = 'BadInput';
}

/** The reason of a failed request, without the URL the caller names anyway. */
export function reasonOf(err: unknown): string {
  if (err instanceof PromApiError) {
    const m = err.message.replace(/^GET \S+: /, '');
    return m.replace(/; body: [\s\S]*$/, '').replace(/^(Type)?Error: /, '');
  }
  return err instanceof Error ? err.message : String(err);
}

function checkUrl(what: string, url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BadInput(`${what} "${url}" is not a URL: give the HTTP address, e.g. http://thanos-query:9090`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new BadInput(`${what} "${url}" is not an http(s) URL: give the HTTP address, e.g. http://thanos-query:9090`);
  return url.replace(/\/+$/, '');
}

/** Counts every request; refuses one past the bound (a bug here must not flood a production Query). */
class Requests {
  sent = 0;
  readonly bound: number;
  constructor(bound: number) {
    this.bound = bound;
  }
  async run<T>(f: () => Promise<T>): Promise<Outcome<T>> {
    if (++this.sent > this.bound) throw new Error(`audit: more than ${this.bound} requests: refusing`);
    try {
      return { ok: true, value: await f(), warnings: [] };
    } catch (err) {
      return { ok: false, error: reasonOf(err), ...(err instanceof PromApiError && err.status !== undefined ? { status: err.status } : {}) };
    }
  }
}

export interface Gathered {
  inputs: AuditInputs;
  requests: number;
}

/** Checks that `query` is a reachable Thanos Query with endpoints (BadInput otherwise), then asks the rest. */
export async function gather(o: GatherOptions): Promise<Gathered> {
  const queryUrl = checkUrl('--query', o.query);
  const frontendUrl = o.frontend === undefined ? undefined : checkUrl('--frontend', o.frontend);
  if (!Number.isInteger(o.tries) || o.tries < 2 || o.tries > MAX_TRIES) throw new BadInput(`--tries ${o.tries}: give a whole number from 2 to ${MAX_TRIES}`);
  const now = o.now ?? Date.now;
  const log = o.onProgress ?? (() => {});
  const query = new PromApiClient(queryUrl, { timeoutMs: o.timeoutMs });
  const frontend = frontendUrl ? new PromApiClient(frontendUrl, { timeoutMs: o.timeoutMs }) : undefined;
  const requests = new Requests(9 + o.tries);

  // Is it a Thanos Query, with endpoints?
  const stores = await requests.run(() => query.stores());
  if (!stores.ok) {
    if (stores.status === undefined) throw new BadInput(`cannot reach ${queryUrl}: ${stores.error}: is Thanos Query's HTTP address right (--query)?`);
    if (stores.status === 404) {
      const build = await requests.run(() => query.status('buildinfo'));
      const what = build.ok ? `it answers the Prometheus API as version ${String(build.value.version ?? '?')}, without a Stores page: a plain Prometheus` : 'it has no Stores page (/api/v1/stores answers 404)';
      throw new BadInput(`${queryUrl} is not a Thanos Query: ${what}; point --query at Thanos Query's HTTP address`);
    }
    throw new BadInput(`${queryUrl} is not a Thanos Query: /api/v1/stores answered ${stores.error}; point --query at Thanos Query's HTTP address`);
  }
  const endpoints: StoreEndpoint[] = Object.values(stores.value).flat();
  if (endpoints.length === 0) throw new BadInput(`the Thanos Query at ${queryUrl} has no endpoints (its Stores page is empty): give it --endpoint for each sidecar, Store and receive`);
  if (frontend) {
    const up = await requests.run(() => frontend.query('vector(1)'));
    if (!up.ok) throw new BadInput(`${up.status === undefined ? 'cannot reach' : 'no query API at'} ${frontendUrl}: ${up.error}: is the Query Frontend's HTTP address right (--frontend)?`);
  }
  log(`audit: ${queryUrl}: ${endpoints.length} endpoints`);

  const flags = await requests.run(() => query.status('flags'));

  // The frontend's cache, first: a recent range through it now; the other checks run while the
  // wait before its repeat passes.
  let firstAsk: { window: { start: number; end: number; step: number }; first: Outcome<MatrixSeries[]>; askedAt: number; range: (c: PromApiClient) => Promise<Outcome<MatrixSeries[]>> } | undefined;
  if (frontend) {
    const cacheEnd = Math.floor(now() / o.stepMs) * o.stepMs;
    const window = { start: cacheEnd - Math.min(o.rangeMs, 3_600_000), end: cacheEnd, step: o.stepMs };
    const range = (c: PromApiClient) => requests.run(async () => (await c.queryRange(o.probe, { ...window, dedup: true })).result);
    const first = await range(frontend);
    const askedAt = now();
    log(`audit: the recent range ${new Date(window.start).toISOString()} .. ${new Date(window.end).toISOString()} through the frontend`);
    if (o.afterFirstCacheAsk) await o.afterFirstCacheAsk();
    firstAsk = { window, first, askedAt, range };
  }
  const at = now();
  const step = o.stepMs;
  const alignDown = (t: number) => Math.floor(t / step) * step;
  const end = alignDown(at) - step;
  const probeWindow = { start: alignDown(at - o.rangeMs) + step, end, step };
  const probe = await requests.run(() => query.queryRange(o.probe, { ...probeWindow, dedup: true }));
  log(`audit: probe ${o.probe} over ${new Date(probeWindow.start).toISOString()} .. ${new Date(probeWindow.end).toISOString()}`);

  // B: K identical instant queries at one past time, all at once (several connections, as refreshes of a dashboard by several people).
  const variationTime = alignDown(at - o.agoMs);
  const through = frontend ?? query;
  const answers = await Promise.all(
    Array.from({ length: o.tries }, () => requests.run(() => through.query(o.probe, { time: variationTime, dedup: true }))),
  );
  log(`audit: ${o.tries} identical instant queries at ${new Date(variationTime).toISOString()}`);

  // Partial answers: the same instant query, partial responses allowed and refused.
  const instant = (partialResponse: boolean) => requests.run(() => query.query(o.probe, { time: variationTime, dedup: true, partialResponse }));
  const allowed = await instant(true);
  const refused = await instant(false);

  // The cache check's repeat, once the wait since its first request is over.
  let cache: AuditInputs['cache'];
  if (firstAsk) {
    const { window, first, askedAt, range } = firstAsk;
    const left = o.cacheWaitMs - (now() - askedAt);
    if (left > 0) await new Promise((r) => setTimeout(r, left));
    const waitedMs = now() - askedAt;
    const again = await range(frontend!);
    const fromQuery = await range(query);
    cache = { window, waitedMs, first, frontend: again, query: fromQuery };
    log(`audit: the recent range through the frontend again ${waitedMs} ms later, and through Query`);
  }

  const inputs: AuditInputs = {
    nowMs: at,
    options: { probe: o.probe, rangeMs: o.rangeMs, stepMs: o.stepMs, tries: o.tries },
    flags: flags.ok ? { ok: true, value: flags.value, warnings: [] } : flags,
    stores: stores.value,
    probe: { ...probeWindow, answer: probe.ok ? { ok: true, value: probe.value.result, warnings: probe.value.warnings } : probe },
    variation: { time: variationTime, through: frontend ? 'frontend' : 'query', answers: answers.map(vectorOf) },
    partial: { time: variationTime, allowed: vectorOf(allowed), refused: vectorOf(refused) },
    ...(cache ? { cache } : {}),
  };
  return { inputs, requests: requests.sent };
}

/** An instant query's outcome as its vector and warnings (a non-vector answer holds no series). */
function vectorOf(o: Outcome<QueryResponse>): Outcome<VectorSample[]> {
  if (!o.ok) return o;
  return { ok: true, value: o.value.resultType === 'vector' ? o.value.result : [], warnings: [...o.value.warnings] };
}
