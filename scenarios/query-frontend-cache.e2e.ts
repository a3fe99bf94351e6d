// The Query Frontend results cache (FINDINGS.md G; thanos-io/thanos #3972, #5075, #7831, #8641).
//
// Arch 1's fixed query path (Query over Store and the HA pair's sidecars, real 2h blocks in S3)
// behind two Query Frontends that split ranges and labels by 1h and cache results in memory: the
// faulty one with --query-range.response-cache-max-freshness=0s, the fixed one with 1m. Through
// both, old data answers exactly as the Query does, and a repeated old range costs the Query
// nothing. Then the ingestion stalls for a known 2 slots: a range ending at "now" is asked while
// its newest part is not in yet, and again once it is. The faulty frontend keeps serving the old
// gap from its cache; the fixed one never cached the newest minute and answers completely.
//
// Each test queries with a step of its own: the cache key includes the step, so each starts from an
// empty cache whatever ran before it, and its counts are exact.
import { describe, expect, it } from 'vitest';
import { cacheableSplits, labelsSplits, rangeSplits } from '../harness/models/query-frontend.ts';
import type { Handle } from '../harness/presets/handles.ts';
import { FRONTEND_CACHE_FRESHNESS, FRONTEND_ROLES, queryFrontendCache, type FrontendRole } from '../harness/presets/query-frontend-cache.ts';
import { analyseWindow, pointDifferences, type QueryWindow, type RangeAnalysis } from '../harness/promql/analysis.ts';
import { PromApiClient, type MatrixSeries, type RangeQueryResponse } from '../harness/promql/client.ts';
import { metricSum } from '../harness/promql/metrics.ts';
import { recordFinding } from '../harness/report/findings.ts';
import type { BarsPlot } from '../harness/report/plots.ts';
import { log, useTopology } from '../harness/scenario.ts';
import { prepareArch1, type Arch1Run } from '../harness/steps/arch1.ts';
import { waitForLiveUpTo } from '../harness/steps/live.ts';
import type { RunningTopology } from '../harness/substrates/index.ts';
import { alignDown, alignUp, durationMs, HOUR_MS, iso } from '../harness/time.ts';
import { waitFor } from '../harness/wait.ts';

const SCENARIO = 'query-frontend-cache';
const preset = queryFrontendCache();
const { topology } = preset;
const seconds = (ms: number) => +(ms / 1000).toFixed(1);

/** A caching Query Frontend in front of the topology's Query. */
interface CachingFrontend {
  /** "cluster/name". */
  ref: string;
  client: PromApiClient;
  splitMs: number;
  labelsSplitMs: number;
  /** Results newer than now minus this are never cached. */
  maxFreshnessMs: number;
}

/** What one request through a frontend cost: counters read just before and just after it. */
interface Measured<T> {
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
const STALLED_SLOTS = 2;

interface FreshnessExperiment {
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

interface FrontendCacheRun {
  arch1: Arch1Run;
  t: RunningTopology;
  queryRef: string;
  query: PromApiClient;
  frontends: Record<FrontendRole, CachingFrontend>;
  /** The stalled-ingestion experiment, run once by whichever test asks first. */
  freshness: () => Promise<FreshnessExperiment>;
}

/** Arch 1's history in, shipped and served (prepareArch1), and the two frontends. */
async function prepareFrontendCache(t: RunningTopology): Promise<FrontendCacheRun> {
  const arch1 = await prepareArch1(t, { ...preset, queries: [preset.query] }, log);
  const frontendOf = (h: Handle<'query-frontend'>): CachingFrontend => ({
    ref: h.ref,
    client: new PromApiClient(t.url(h.ref)),
    splitMs: durationMs(h.spec.splitInterval),
    labelsSplitMs: durationMs(h.spec.labelsSplitInterval),
    maxFreshnessMs: durationMs(h.spec.resultsCache!.maxFreshness),
  });
  let experiment: Promise<FreshnessExperiment> | undefined;
  const run: FrontendCacheRun = {
    arch1,
    t,
    queryRef: preset.query.ref,
    query: new PromApiClient(t.url(preset.query.ref)),
    frontends: { faulty: frontendOf(preset.frontends.faulty), fixed: frontendOf(preset.frontends.fixed) },
    freshness: () => (experiment ??= runFreshnessExperiment(run, log)),
  };
  return run;
}

/** Requests the Query has answered on one API handler ("query_range", "label_values"): its own http_requests_total. */
async function queryRequestsServed(run: FrontendCacheRun, handler: string): Promise<number> {
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
function rangeThrough(run: FrontendCacheRun, role: FrontendRole, window: QueryWindow): Promise<Measured<RangeQueryResponse>> {
  const frontend = run.frontends[role];
  return measured(run, frontend, 'range', () => frontend.client.queryRange(run.t.workload.workload.metric, { ...window, dedup: true }));
}

/** The Query's own answer to the same range query. */
function rangeFromQuery(run: FrontendCacheRun, window: QueryWindow): Promise<RangeQueryResponse> {
  return run.query.queryRange(run.t.workload.workload.metric, { ...window, dedup: true });
}

/** The values of the workload's `series` label over a time range, through a frontend. */
function seriesValuesThrough(run: FrontendCacheRun, role: FrontendRole, window: { start: number; end: number }): Promise<Measured<string[]>> {
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

// Bring-up: Arch 1 served. The stalled-ingestion experiment runs once, when a test first asks for it.
const run = useTopology(topology, prepareFrontendCache);

function analysis(r: FrontendCacheRun, matrix: MatrixSeries[], window: QueryWindow): RangeAnalysis {
  return analyseWindow(matrix, r.t.workload.workload, window, r.arch1.workload.historyFromMs);
}

function expectComplete(r: FrontendCacheRun, matrix: MatrixSeries[], window: QueryWindow, what: string): RangeAnalysis {
  const a = analysis(r, matrix, window);
  expect(a.series, `${what}: ${a.description}`).toHaveLength(r.t.workload.workload.seriesCount);
  expect(a.summary, `${what}: ${a.description}`).toMatchObject({ missingPoints: 0, wrongPoints: 0, repeatedTimestamps: 0, ok: true });
  return a;
}

/** Where a frontend got each split of the range ending at "now" from, during the stall and once ingested (for the report). */
function splitsPlot(role: FrontendRole, splits: number, stalled: Measured<unknown>, caughtUp: Measured<unknown>): BarsPlot {
  return {
    kind: 'bars',
    title: `${role} frontend (max freshness ${FRONTEND_CACHE_FRESHNESS[role]}), the 6h range ending at now: its splits asked of the Query and found in its cache, during the stall and once ingested`,
    bars: [
      { label: 'stalled: to the Query', value: stalled.queryRequests, group: 'Query' },
      { label: 'stalled: cache hits', value: stalled.cacheHits, group: 'cache' },
      { label: 'caught up: to the Query', value: caughtUp.queryRequests, group: 'Query' },
      { label: 'caught up: cache hits', value: caughtUp.cacheHits, group: 'cache' },
    ],
    reference: { label: 'splits', value: splits },
    unit: 'splits',
  };
}

function expectSame(expected: MatrixSeries[], actual: MatrixSeries[], what: string): void {
  const diff = pointDifferences(expected, actual);
  expect(diff.points, `${what}: ${diff.examples.join('; ')}`).toBe(0);
}

describe('query-frontend-cache: answers and cache hits on old data (both frontends)', () => {
  it("answers a 6h range across 1h split and 2h block boundaries exactly as the Query does, split into 1h requests", async () => {
    const r = run();
    const step = 2 * r.t.workload.workload.stepMs;
    // Older than either frontend's freshness window, so that each looks up every split.
    const end = alignDown(Date.now() - 2 * Math.max(...FRONTEND_ROLES.map((role) => r.frontends[role].maxFreshnessMs)), step);
    const window = { start: alignUp(end - 6 * HOUR_MS, step), end, step };
    const blockBoundaries = [...new Set(r.arch1.blocks.map((b) => b.maxTime))].filter((t) => window.start < t && t < window.end);
    // What the range must cross: block ends (one of them Store's newest, where the sidecars take over) and hours.
    expect(blockBoundaries.length).toBeGreaterThan(0);
    expect(window.start).toBeLessThan(r.arch1.storeMaxTime);
    expect(window.end).toBeGreaterThan(r.arch1.storeMaxTime);
    const query = await rangeFromQuery(r, window);
    expectComplete(r, query.result, window, 'Query');
    for (const role of FRONTEND_ROLES) {
      const frontend = r.frontends[role];
      const splits = rangeSplits(window, frontend.splitMs);
      expect(splits.length).toBeGreaterThan(1);
      const through = await rangeThrough(r, role, window);
      expectSame(query.result, through.answer.result, `${role} frontend vs Query`);
      expectComplete(r, through.answer.result, window, `${role} frontend`);
      // A first request with this step: every 1h split is a cache miss and one request to the Query.
      expect(through, role).toMatchObject({ queryRequests: splits.length, cacheLookups: splits.length, cacheHits: 0 });

      const labelWindow = { start: window.start, end: window.end };
      const values = await seriesValuesThrough(r, role, labelWindow);
      const expected = Array.from({ length: r.t.workload.workload.seriesCount }, (_, i) => String(i)).sort();
      expect(values.answer.sort(), `${role} frontend label values`).toEqual(expected);
      expect(values.queryRequests, `${role} frontend label requests to the Query`).toBe(labelsSplits(labelWindow, frontend.labelsSplitMs));
      log(`[${SCENARIO}] ${role}: ${splits.length} range and ${values.queryRequests} label requests to the Query; answers equal across ${blockBoundaries.length} block boundaries`);
    }
  });

  it('serves a repeated old range from the cache: hits on every split, no request to the Query', async () => {
    const r = run();
    const step = 4 * r.t.workload.workload.stepMs;
    const now = Date.now();
    // Entirely older than either frontend's freshness window, inside the history.
    const window = { start: alignUp(now - 6 * HOUR_MS, step), end: alignDown(now - 2 * HOUR_MS, step), step };
    expect(window.end).toBeLessThan(now - Math.max(...FRONTEND_ROLES.map((role) => r.frontends[role].maxFreshnessMs)));
    const query = await rangeFromQuery(r, window);
    expectComplete(r, query.result, window, 'Query');
    for (const role of FRONTEND_ROLES) {
      const splits = rangeSplits(window, r.frontends[role].splitMs).length;
      const first = await rangeThrough(r, role, window);
      const repeat = await rangeThrough(r, role, window);
      expect(first, `${role}, first`).toMatchObject({ queryRequests: splits, cacheLookups: splits, cacheHits: 0 });
      expect(repeat, `${role}, repeated`).toMatchObject({ queryRequests: 0, cacheLookups: splits, cacheHits: splits });
      expectSame(query.result, first.answer.result, `${role} frontend, first`);
      expectSame(query.result, repeat.answer.result, `${role} frontend, repeated`);
      log(`[${SCENARIO}] ${role}: old range ${iso(window.start)}..${iso(window.end)}: ${splits} splits; repeated: ${repeat.cacheHits} cache hits, ${repeat.queryRequests} Query requests`);
    }
  });
});

describe('query-frontend-cache: a range ending at "now" while its newest part is still being ingested', () => {
  it(`faulty (max freshness ${FRONTEND_CACHE_FRESHNESS.faulty}): the repeated request returns the old gap from the cache, while the Query answers completely`, async () => {
    const r = run();
    const e = await r.freshness();
    const n = r.t.workload.workload.seriesCount;
    const splits = rangeSplits(e.window, r.frontends.faulty.splitMs).length;
    const gapMs = e.window.end - e.heldAfterMs;
    // The stall as the Query saw it: every series stops at the held slot; its newest STALLED_SLOTS points show that older value.
    const stalledQuery = analysis(r, e.stalled.query.result, e.window);
    expect(stalledQuery.series).toHaveLength(n);
    for (const s of stalledQuery.series) {
      expect(s.missing.map((m) => [iso(m.startMs), iso(m.endMs), m.points, m.carried])).toEqual([
        [iso(e.heldAfterMs + e.window.step), iso(e.window.end), STALLED_SLOTS, STALLED_SLOTS],
      ]);
    }
    expect(stalledQuery.summary.wrongPoints).toBe(0);
    // First request: the frontend answered as the Query did, from one request per split, and cached it all.
    const { stalled, caughtUp } = { stalled: e.stalled.faulty, caughtUp: e.caughtUp.faulty };
    expect(stalled).toMatchObject({ queryRequests: splits, cacheLookups: splits, cacheHits: 0 });
    expectSame(e.stalled.query.result, stalled.answer.result, 'faulty frontend vs Query, during the stall');

    // Once ingested, the Query is complete; the frontend asks it nothing and returns what it cached.
    const caughtUpQuery = expectComplete(r, e.caughtUp.query.result, e.window, 'Query, caught up');
    expect(caughtUp).toMatchObject({ queryRequests: 0, cacheLookups: splits, cacheHits: splits });
    expectSame(stalled.answer.result, caughtUp.answer.result, 'faulty frontend, repeated vs its first answer');
    const stale = pointDifferences(e.caughtUp.query.result, caughtUp.answer.result);
    expect(stale.points).toBe(n * STALLED_SLOTS);
    expect(stale.series).toBe(n);
    const served = analysis(r, caughtUp.answer.result, e.window);
    expect(served.summary.missingPoints).toBe(n * STALLED_SLOTS);
    log(`[${SCENARIO}] faulty: ${served.description}`);
    recordFinding({
      finding: 'G',
      scenario: SCENARIO,
      topology: `${topology.name} ${r.frontends.faulty.ref}`,
      substrate: r.t.substrate,
      configuration: 'faulty',
      observed:
        `with max freshness ${FRONTEND_CACHE_FRESHNESS.faulty}, a 6h range ending at now was cached while its newest ${seconds(gapMs)}s were not ingested ` +
        `(lag ${seconds(e.lagMs.first)}s); repeated once ingested, it came back from the cache (${caughtUp.cacheHits} hits, ${caughtUp.queryRequests} Query requests) ` +
        `with ${stale.points} points of the old gap, while the Query answered all ${caughtUpQuery.summary.presentPoints}`,
      figures: {
        gapPointsPerSeries: STALLED_SLOTS,
        gapPoints: stale.points,
        gapSeconds: seconds(gapMs),
        ingestionLagSeconds: seconds(e.lagMs.first),
        maxFreshness: FRONTEND_CACHE_FRESHNESS.faulty,
        splits,
        firstQueryRequests: stalled.queryRequests,
        repeatedCacheHits: caughtUp.cacheHits,
        repeatedQueryRequests: caughtUp.queryRequests,
      },
      plots: [splitsPlot('faulty', splits, stalled, caughtUp)],
    });
  });

  it(`fixed (max freshness ${FRONTEND_CACHE_FRESHNESS.fixed}, longer than the lag): once ingested the repeated request is complete, each answer equal to the Query's`, async () => {
    const r = run();
    const e = await r.freshness();
    const fixed = r.frontends.fixed;
    const splits = rangeSplits(e.window, fixed.splitMs).length;
    // The premise: the lag stayed within the freshness window for every request of the stall.
    expect(e.lagMs.last).toBeLessThan(fixed.maxFreshnessMs);
    const { stalled, caughtUp } = { stalled: e.stalled.fixed, caughtUp: e.caughtUp.fixed };
    // A split that starts within the newest minute is not even looked up (when "now" is just past an hour).
    expect(stalled).toMatchObject({ queryRequests: splits, cacheLookups: cacheableSplits(e.window, fixed, stalled.sentAtMs), cacheHits: 0 });
    expectSame(e.stalled.query.result, stalled.answer.result, 'fixed frontend vs Query, during the stall');

    expectComplete(r, e.caughtUp.query.result, e.window, 'Query, caught up');
    expectSame(e.caughtUp.query.result, caughtUp.answer.result, 'fixed frontend vs Query, caught up');
    const served = expectComplete(r, caughtUp.answer.result, e.window, 'fixed frontend, caught up');
    // It asked the Query again for the newest part only: the older splits came from its cache.
    expect(caughtUp.queryRequests).toBeGreaterThanOrEqual(1);
    expect(caughtUp.queryRequests).toBeLessThan(splits);
    expect(caughtUp.cacheHits).toBeGreaterThanOrEqual(splits - caughtUp.queryRequests);
    log(`[${SCENARIO}] fixed: ${served.description}`);
    recordFinding({
      finding: 'G',
      scenario: SCENARIO,
      topology: `${topology.name} ${fixed.ref}`,
      substrate: r.t.substrate,
      configuration: 'fixed',
      observed:
        `with max freshness ${FRONTEND_CACHE_FRESHNESS.fixed} over a lag of at most ${seconds(e.lagMs.last)}s, the repeated 6h range was complete ` +
        `(${served.summary.presentPoints} points, equal to the Query's): ${caughtUp.cacheHits} of ${splits} splits found in its cache; the never-cached newest part of ${caughtUp.queryRequests} split(s) asked of the Query again`,
      figures: {
        gapPoints: served.summary.missingPoints,
        presentPoints: served.summary.presentPoints,
        ingestionLagSeconds: seconds(e.lagMs.last),
        maxFreshness: FRONTEND_CACHE_FRESHNESS.fixed,
        splits,
        firstQueryRequests: stalled.queryRequests,
        repeatedCacheHits: caughtUp.cacheHits,
        repeatedQueryRequests: caughtUp.queryRequests,
      },
      plots: [splitsPlot('fixed', splits, stalled, caughtUp)],
    });
  });
});
