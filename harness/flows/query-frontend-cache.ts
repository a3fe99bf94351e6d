// The Query Frontend results cache (FINDINGS.md G) over Arch 1's real blocks: what each request
// through a frontend cost the Query behind it, what the frontend's cache found, and a stalled
// ingestion that makes "the newest part is not in yet" a known, held state instead of a race.
import { type QueryWindow } from '../promql/analysis.ts';
import { PromApiClient, type MatrixSeries, type RangeQueryResponse } from '../promql/client.ts';
import { metricSum } from '../promql/metrics.ts';
import type { RunningTopology } from '../substrates/index.ts';
import { durationMs } from '../time.ts';
import { refOf, type QueryFrontend } from '../topology/model.ts';
import { FRONTEND_CACHE } from '../topology/presets-query-frontend.ts';
import { waitFor } from '../wait.ts';
import { HOUR_MS } from '../time.ts';
import { waitForLiveUpTo } from '../workload/populate.ts';
import { alignDown } from '../time.ts';
import { prepareArch1, type Arch1Run } from './arch1.ts';

export type FrontendRole = 'faulty' | 'fixed';
export const FRONTEND_ROLES: readonly FrontendRole[] = ['faulty', 'fixed'];

/** A caching Query Frontend in front of the topology's Query. */
export interface CachingFrontend {
  /** "cluster/name". */
  ref: string;
  client: PromApiClient;
  splitMs: number;
  labelsSplitMs: number;
  /** Results newer than now minus this are never cached. */
  maxFreshnessMs: number;
}

/** What one request through a frontend cost: counters read just before and just after it. */
export interface Measured<T> {
  answer: T;
  /** When the request was sent (the frontend's "now" for its freshness window, to the millisecond). */
  sentAtMs: number;
  /** Requests the Query answered meanwhile, by its own http_requests_total (the handler asked for). */
  queryRequests: number;
  /** The frontend's results-cache lookups meanwhile (cortex_cache_fetched_keys_total), and how many found an entry (cortex_cache_hits_total). */
  cacheLookups: number;
  cacheHits: number;
}

/**
 * Grid slots the stalled ingestion holds back when the first request is made: that request ends at
 * "now" and its newest 2 points (30 s on the 15 s grid) are not ingested yet. The lag (now minus the
 * newest ingested sample) is then 30 s to 45 s, below the fixed frontend's 1m max freshness.
 */
export const STALLED_SLOTS = 2;

export interface FreshnessExperiment {
  /** The newest slot ingested during the stall. */
  heldAfterMs: number;
  /** The note's 6h range, ending at heldAfterMs + STALLED_SLOTS slots ("now" when first asked). */
  window: QueryWindow;
  /** Now minus heldAfterMs before the first and after the last request of the stall: the ingestion lag. */
  lagMs: { first: number; last: number };
  /** During the stall: the Query's own answer, then each frontend's (each the first with this step). */
  stalled: { query: RangeQueryResponse } & Record<FrontendRole, Measured<RangeQueryResponse>>;
  /** The identical request once every held-back slot is stored. */
  caughtUp: { query: RangeQueryResponse } & Record<FrontendRole, Measured<RangeQueryResponse>>;
}

export interface FrontendCacheRun {
  arch1: Arch1Run;
  t: RunningTopology;
  queryRef: string;
  query: PromApiClient;
  frontends: Record<FrontendRole, CachingFrontend>;
  /** The stalled-ingestion experiment, run once by whichever test asks first. */
  freshness: () => Promise<FreshnessExperiment>;
}

/** Arch 1's history in, shipped and served (prepareArch1), and the two frontends found in the topology. */
export async function prepareFrontendCache(t: RunningTopology, log: (line: string) => void): Promise<FrontendCacheRun> {
  const arch1 = await prepareArch1(t, log);
  const queryRef = `observer/${FRONTEND_CACHE.query}`;
  const frontendOf = (name: string): CachingFrontend => {
    const c = t.topology.components.find((x): x is QueryFrontend => x.kind === 'query-frontend' && x.name === name);
    if (!c?.resultsCache) throw new Error(`topology ${t.topology.name} has no query-frontend "${name}" with a results cache (see presets-query-frontend.ts)`);
    if (c.downstream !== queryRef) throw new Error(`query-frontend "${name}" reads ${c.downstream}, not ${queryRef}`);
    return {
      ref: refOf(c),
      client: new PromApiClient(t.url(refOf(c))),
      splitMs: durationMs(c.splitInterval),
      labelsSplitMs: durationMs(c.labelsSplitInterval),
      maxFreshnessMs: durationMs(c.resultsCache.maxFreshness),
    };
  };
  let experiment: Promise<FreshnessExperiment> | undefined;
  const run: FrontendCacheRun = {
    arch1,
    t,
    queryRef,
    query: new PromApiClient(t.url(queryRef)),
    frontends: { faulty: frontendOf(FRONTEND_CACHE.faulty), fixed: frontendOf(FRONTEND_CACHE.fixed) },
    freshness: () => (experiment ??= runFreshnessExperiment(run, log)),
  };
  return run;
}

/** Requests the Query has answered on one API handler ("query_range", "label_values"): its own http_requests_total. */
export async function queryRequestsServed(run: FrontendCacheRun, handler: string): Promise<number> {
  return metricSum(await run.query.metrics(), 'http_requests_total', { handler }) ?? 0;
}

async function cacheCounters(frontend: CachingFrontend, tripperware: 'query_range' | 'labels'): Promise<{ lookups: number; hits: number }> {
  const text = await frontend.client.metrics();
  return {
    lookups: metricSum(text, 'cortex_cache_fetched_keys_total', { tripperware }) ?? 0,
    hits: metricSum(text, 'cortex_cache_hits_total', { tripperware }) ?? 0,
  };
}

/** One request through a frontend, with what it cost the Query and what the frontend's cache found. */
async function measured<T>(run: FrontendCacheRun, frontend: CachingFrontend, api: 'range' | 'labels', request: () => Promise<T>): Promise<Measured<T>> {
  const [handler, tripperware] = api === 'range' ? (['query_range', 'query_range'] as const) : (['label_values', 'labels'] as const);
  const [requestsBefore, cacheBefore] = [await queryRequestsServed(run, handler), await cacheCounters(frontend, tripperware)];
  const sentAtMs = Date.now();
  const answer = await request();
  const [requestsAfter, cacheAfter] = [await queryRequestsServed(run, handler), await cacheCounters(frontend, tripperware)];
  return { answer, sentAtMs, queryRequests: requestsAfter - requestsBefore, cacheLookups: cacheAfter.lookups - cacheBefore.lookups, cacheHits: cacheAfter.hits - cacheBefore.hits };
}

/** The workload's range query through a frontend (dedup on: the frontend caches nothing else). */
export function rangeThrough(run: FrontendCacheRun, role: FrontendRole, window: QueryWindow): Promise<Measured<RangeQueryResponse>> {
  const frontend = run.frontends[role];
  return measured(run, frontend, 'range', () => frontend.client.queryRange(run.t.workload.workload.metric, { ...window, dedup: true }));
}

/** The Query's own answer to the same range query. */
export function rangeFromQuery(run: FrontendCacheRun, window: QueryWindow): Promise<RangeQueryResponse> {
  return run.query.queryRange(run.t.workload.workload.metric, { ...window, dedup: true });
}

/** The values of the workload's `series` label over a time range, through a frontend. */
export function seriesValuesThrough(run: FrontendCacheRun, role: FrontendRole, window: { start: number; end: number }): Promise<Measured<string[]>> {
  const frontend = run.frontends[role];
  return measured(run, frontend, 'labels', () => frontend.client.labelValues('series', { ...window, dedup: true }));
}

/**
 * Stalls the ingestion (the exporter holds back every slot after the current one), waits until
 * STALLED_SLOTS slots are due and held, asks the Query and both frontends for the 6h ending at the
 * newest due slot, releases the stall, waits until every Prometheus stored those slots, and asks
 * again. Nothing else runs meanwhile, so each counter difference is that one request's.
 */
async function runFreshnessExperiment(run: FrontendCacheRun, log: (line: string) => void): Promise<FreshnessExperiment> {
  const { t } = run;
  const step = t.workload.workload.stepMs;
  const prometheus = run.arch1.workload.prometheus;
  const heldAfterMs = alignDown(Date.now(), step);
  const window = { start: heldAfterMs + STALLED_SLOTS * step - 6 * HOUR_MS, end: heldAfterMs + STALLED_SLOTS * step, step };
  const ask = async () => ({ query: await rangeFromQuery(run, window), faulty: await rangeThrough(run, 'faulty', window), fixed: await rangeThrough(run, 'fixed', window) });
  let stalled: FreshnessExperiment['stalled'];
  let lagMs: FreshnessExperiment['lagMs'];
  await t.workload.holdAfter(heldAfterMs);
  try {
    await waitForLiveUpTo(t, prometheus, heldAfterMs, log);
    // Slots come due with the clock: a wait on the exporter's own state, not on the answer.
    await waitFor(
      `${STALLED_SLOTS} workload slots after ${new Date(heldAfterMs).toISOString()} to be due and held back`,
      async (note) => {
        const held = t.workload.heldBackSlots();
        note(`${held} held back`);
        return held >= STALLED_SLOTS ? held : undefined;
      },
      { timeoutMs: (STALLED_SLOTS + 1) * step + 10_000, intervalMs: 200, onProgress: log },
    );
    const first = Date.now() - heldAfterMs;
    stalled = await ask();
    lagMs = { first, last: Date.now() - heldAfterMs };
  } finally {
    await t.workload.release();
  }
  await waitForLiveUpTo(t, prometheus, window.end, log);
  return { heldAfterMs, window, lagMs, stalled, caughtUp: await ask() };
}
