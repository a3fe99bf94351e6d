// Checking a range query over the workload at any series count, without holding the answer whole.
//
// At 10k series a 6h range query is 14 million points (400 MB of JSON, 780 MB without dedup: past
// what one JavaScript string can hold), and parsing it blocks the test process for seconds. So the
// check reads two small answers instead:
//
// - Aggregates whose exact value at every grid step follows from the workload in closed form.
//   A workload value encodes the second it belongs to (valueAt: i * 1e6 + seconds mod 1e6), so a
//   sample is fresh at step t exactly when value mod 1e6 == time() mod 1e6: a sample carried
//   forward by the lookback, or one missing, is not. Per metric name and step:
//     count of fresh samples                       = its series x copies
//     per namespace, sum of floor(value / 1e6) = i = copies x the sum of its series' indices
//   The sums are checked at the steps where every sample is fresh (then they are sums over exactly
//   the samples of that step); integers far below 2^53, so exact in float64 in any order.
//   Under churn (series.ts) N series are fresh at every step too, one generation per slot, but the
//   generation a pod just ended still shows, carried forward, for the lookback after its last
//   sample (no staleness marker: every sample carries its own timestamp). So at each step
//     count of all samples                       = (N + the lingering series) x copies
//     per namespace, sum of floor(value / 1e6) = copies x (its indices + the lingering ones')
//   with the lingering series known in closed form (lingeringAt).
//   One query per metric name: arithmetic drops __name__, and the metrics of one container would
//   then collide (label_replace could keep them apart, but it costs a label set per series and
//   step: at 10k series it did not answer within 30 s).
// - Point by point (analyseRange), a seeded random sample of series: every series when N is at
//   most the sample size, so the findings' 10 series are still checked point by point, each.
//   The seed is part of the result, to be named in the report: THANOS_HA_E2E_SEED repeats it.
//
// Thanos' warnings (an endpoint left out of a partial response) are collected from every answer:
// a check with warnings is not ok, whatever the numbers say.
import { analyseRange, type QueryWindow, type RangeAnalysis } from './analysis.ts';
import type { PromApiClient } from './client.ts';
import { churnOf, generationAt, lifetimeOf, lingeringAt, metricsOf, seriesLabels, seriesOfPod, slotSelector, type Workload } from '../workload/series.ts';

export const DEFAULT_SAMPLE_SIZE = 32;
const VALUE_PERIOD = 1_000_000;

export interface WindowCheckRequest {
  /** Query, or the Query Frontend in front of it. */
  client: PromApiClient;
  workload: Workload;
  window: QueryWindow;
  /** The first grid point that should be present (e.g. the history's first); default the window's start. */
  coveredFromMs?: number;
  dedup: boolean;
  /** Copies of each series the answer should hold: 1 with dedup, one per replica without. */
  copies: number;
  sampleSize?: number;
  /** Default sampleSeed(). */
  seed?: number;
  /** The queries' lookback delta (default Prometheus' and Thanos' 5 min): how long an ended series lingers. */
  lookbackMs?: number;
}

export const DEFAULT_LOOKBACK_MS = 5 * 60_000;

export interface AggregateCheck {
  /** Fresh samples every complete step has: N x copies. */
  expectedPerStep: number;
  /** Steps from coveredFromMs to the window's end. */
  steps: number;
  completeSteps: number;
  /** Runs of steps with fewer fresh samples than expected (both ends included), with the fewest fresh samples in each run. */
  gaps: { startMs: number; endMs: number; points: number; fewestFresh: number }[];
  /** Steps with more fresh samples than expected, or the right count under the wrong labels. */
  wrongSteps: number[];
  /** The most series the answer held at any step (fresh or carried forward). */
  seriesInAnswer: number;
  /** The most it should hold at a covered step: N x copies, plus the lingering ones under churn. */
  expectedSeriesInAnswer: number;
}

export interface WindowCheck {
  aggregate: AggregateCheck;
  /** expectedSeries: how many series of each copy the sample's answer should hold (under churn, a sampled slot's every generation that shows in the window). */
  sample: { seed: number; indices: number[]; expectedSeries: number; analysis: RangeAnalysis };
  warnings: string[];
  /** Every step complete, the sample right point by point, no warning. */
  ok: boolean;
  description: string;
}

/** The seed of this run's samples: THANOS_HA_E2E_SEED when set (to repeat a run), else a random one. */
export function sampleSeed(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.THANOS_HA_E2E_SEED;
  if (text === undefined || text === '') return Math.floor(Math.random() * 2 ** 32);
  if (!/^\d+$/.test(text) || Number(text) >= 2 ** 32) throw new Error(`THANOS_HA_E2E_SEED=${text} is not a seed: give an integer from 0 to ${2 ** 32 - 1}, as a report names it`);
  return Number(text);
}

/** `size` distinct series indices below n, ascending, the same for the same seed: every index when n <= size. */
export function sampleIndices(n: number, size: number, seed: number): number[] {
  if (n <= size) return Array.from({ length: n }, (_, i) => i);
  const random = mulberry32(seed);
  const picked = new Set<number>();
  // Floyd's algorithm: exactly `size` draws, uniform, without a list of n.
  for (let j = n - size; j < n; j++) {
    const k = Math.floor(random() * (j + 1));
    picked.add(picked.has(k) ? j : k);
  }
  return [...picked].sort((a, b) => a - b);
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * The range queries that read the sampled series: one per metric name, each the `or` of its
 * sampled series' selectors (under churn, of every generation of each: slotSelector). Never two
 * metric names in one `or`: PromQL's set operators match label sets without __name__, so the four
 * metrics of one container are one label set there, and `a or b` would drop b (a sample of 32 of
 * 1,000 series that held two metrics of one container lost one series whole, at 1k with churn).
 */
export function sampleQueries(w: Workload, indices: readonly number[]): string[] {
  return metricsOf(w)
    .map(({ name }) => indices.filter((i) => seriesLabels(w, i, w.churn ? 0 : undefined).__name__ === name))
    .filter((group) => group.length > 0)
    .map((group) => group.map((i) => slotSelector(w, i)).join(' or '));
}

/** The PromQL of the aggregate reads, per metric name (exported for the unit tests and for a human reading a report). */
export function aggregateQueries(w: Workload): { metric: string; fresh: string; all: string; indexSums: string }[] {
  return metricsOf(w).map(({ name }) => {
    const selector = `${name}{job="${w.job}"}`;
    return {
      metric: name,
      fresh: `count((${selector} % ${VALUE_PERIOD}) == (time() % ${VALUE_PERIOD}))`,
      all: `count(${selector})`,
      indexSums: `sum by (namespace) (floor(${selector} / ${VALUE_PERIOD}))`,
    };
  });
}

/** Per metric name and namespace ('' for the flat shape, which has none), the sum of its series' indices; keyed by sumKey. */
export function expectedIndexSums(w: Workload): Map<string, number> {
  const sums = new Map<string, number>();
  for (let i = 0; i < w.seriesCount; i++) {
    const labels = seriesLabels(w, i, w.churn ? 0 : undefined); // a pod's namespace is the same in every generation
    const key = sumKey(labels.__name__!, labels.namespace ?? '');
    sums.set(key, (sums.get(key) ?? 0) + i);
  }
  return sums;
}

export const sumKey = (metric: string, namespace: string) => `${metric} ${namespace}`;

/**
 * What the aggregate answers should hold at step t for one copy of each series: N fresh samples,
 * and, under churn, the ended generations whose last sample (written at or after writtenFromMs) is
 * still within the lookback, in `all` and in the index sums. `base`: expectedIndexSums(w).
 */
export function expectedAggregatesAt(
  w: Workload,
  tMs: number,
  writtenFromMs: number,
  lookbackMs: number = DEFAULT_LOOKBACK_MS,
  base: Map<string, number> = expectedIndexSums(w),
): { fresh: number; all: number; indexSums: Map<string, number> } {
  const lingering = lingeringAt(w, tMs, lookbackMs, writtenFromMs);
  if (lingering.length === 0) return { fresh: w.seriesCount, all: w.seriesCount, indexSums: base };
  const indexSums = new Map(base);
  let all = w.seriesCount;
  for (const { pod, generation } of lingering) {
    for (const i of seriesOfPod(w, pod)) {
      const labels = seriesLabels(w, i, generation);
      const key = sumKey(labels.__name__!, labels.namespace ?? '');
      indexSums.set(key, (indexSums.get(key) ?? 0) + i);
      all++;
    }
  }
  return { fresh: w.seriesCount, all, indexSums };
}

/**
 * What the aggregate answers say, step by step (pure: the unit tests feed it answers). fresh and
 * all: summed over the metric names; indexSums: by sumKey(metric, namespace).
 */
export function judgeAggregates(
  req: { workload: Workload; window: QueryWindow; coveredFromMs: number; copies: number; lookbackMs?: number },
  answers: { fresh: Map<number, number>; all: Map<number, number>; indexSums: Map<string, Map<number, number>> },
  baseSums: Map<string, number> = expectedIndexSums(req.workload),
): AggregateCheck {
  const { window, copies } = req;
  const expectedPerStep = req.workload.seriesCount * copies;
  const check: AggregateCheck = {
    expectedPerStep,
    steps: 0,
    completeSteps: 0,
    gaps: [],
    wrongSteps: [],
    seriesInAnswer: Math.max(0, ...answers.all.values()),
    expectedSeriesInAnswer: 0,
  };
  for (let t = window.start; t <= window.end; t += window.step) {
    if (t < req.coveredFromMs) continue;
    check.steps++;
    const expected = expectedAggregatesAt(req.workload, t, req.coveredFromMs, req.lookbackMs, baseSums);
    check.expectedSeriesInAnswer = Math.max(check.expectedSeriesInAnswer, expected.all * copies);
    const expectedSums = expected.indexSums;
    const fresh = answers.fresh.get(t) ?? 0;
    if (fresh < expectedPerStep) {
      const last = check.gaps.at(-1);
      if (last && last.endMs + window.step === t) {
        last.endMs = t;
        last.points++;
        last.fewestFresh = Math.min(last.fewestFresh, fresh);
      } else check.gaps.push({ startMs: t, endMs: t, points: 1, fewestFresh: fresh });
      continue;
    }
    // Every sample of the step is fresh only if the answer holds no other: all == fresh (with churn,
    // besides the ended generations still within the lookback).
    const sumsRight =
      (answers.all.get(t) ?? 0) === expected.all * copies &&
      answers.indexSums.size === expectedSums.size &&
      [...expectedSums].every(([key, sum]) => answers.indexSums.get(key)?.get(t) === sum * copies);
    if (fresh === expectedPerStep && sumsRight) check.completeSteps++;
    else check.wrongSteps.push(t);
  }
  return check;
}

/**
 * How many series (of one copy) a range query of the given slots over the window holds: one per
 * slot, and under churn one per generation with a sample written (from writtenFromMs on) that shows
 * at some step: a sample in [start - lookback, end], its last one carried up to a lookback on.
 */
export function expectedSampleSeries(w: Workload, indices: readonly number[], window: QueryWindow, writtenFromMs: number, lookbackMs: number = DEFAULT_LOOKBACK_MS): number {
  if (!w.churn) return indices.length;
  let n = 0;
  for (const i of indices) {
    for (let g = generationAt(w, i, Math.max(writtenFromMs, window.start - lookbackMs))!; g <= generationAt(w, i, window.end)!; g++) {
      const { startMs, endMs } = lifetimeOf(w, i, g);
      const lastSampleMs = endMs - w.stepMs;
      if (lastSampleMs >= writtenFromMs && lastSampleMs > window.start - lookbackMs && startMs <= window.end) n++;
    }
  }
  return n;
}

/** Reads the aggregates and the sample through `client` and judges both. */
export async function checkWindow(req: WindowCheckRequest): Promise<WindowCheck> {
  const { client, workload: w, window, dedup } = req;
  const coveredFromMs = req.coveredFromMs ?? window.start;
  const seed = req.seed ?? sampleSeed();
  const warnings: string[] = [];
  const range = async (expr: string) => {
    const answer = await client.queryRange(expr, { ...window, dedup });
    warnings.push(...answer.warnings);
    return answer.result;
  };
  const byStep = (series: { samples: { t: number; v: number }[] } | undefined) => new Map((series?.samples ?? []).map((s) => [s.t, s.v]));

  const fresh = new Map<number, number>();
  const all = new Map<number, number>();
  const indexSums = new Map<string, Map<number, number>>();
  const add = (into: Map<number, number>, series: { samples: { t: number; v: number }[] } | undefined) => {
    for (const s of series?.samples ?? []) into.set(s.t, (into.get(s.t) ?? 0) + s.v);
  };
  for (const q of aggregateQueries(w)) {
    add(fresh, (await range(q.fresh))[0]);
    add(all, (await range(q.all))[0]);
    for (const s of await range(q.indexSums)) indexSums.set(sumKey(q.metric, s.metric.namespace ?? ''), byStep(s));
  }
  const lookbackMs = req.lookbackMs ?? DEFAULT_LOOKBACK_MS;
  const aggregate = judgeAggregates({ workload: w, window, coveredFromMs, copies: req.copies, lookbackMs }, { fresh, all, indexSums });

  const indices = sampleIndices(w.seriesCount, req.sampleSize ?? DEFAULT_SAMPLE_SIZE, seed);
  const matrix = [];
  for (const q of sampleQueries(w, indices)) matrix.push(...(await range(q)));
  const analysis = analyseRange(matrix, {
    workload: w,
    startMs: window.start,
    endMs: window.end,
    stepMs: window.step,
    coverage: [{ fromMs: coveredFromMs, toMs: window.end }],
    indices,
    lookbackMs,
  });

  const ok = aggregate.gaps.length === 0 && aggregate.wrongSteps.length === 0 && analysis.summary.ok && warnings.length === 0;
  const iso = (t: number) => new Date(t).toISOString().replace(/\.000Z$/, 'Z');
  const gaps = aggregate.gaps.map((g) => `${iso(g.startMs)}–${iso(g.endMs)} (${g.points} steps, at least ${g.fewestFresh} of ${aggregate.expectedPerStep} fresh)`);
  const description =
    `aggregates over ${w.seriesCount} series x ${req.copies}${w.churn ? ` (churn ${churnOf(w)})` : ''}: ${aggregate.completeSteps} of ${aggregate.steps} steps complete` +
    (gaps.length ? `; incomplete ${gaps.slice(0, 5).join(', ')}${gaps.length > 5 ? ` and ${gaps.length - 5} more` : ''}` : '') +
    (aggregate.wrongSteps.length ? `; ${aggregate.wrongSteps.length} steps with wrong values, first ${iso(aggregate.wrongSteps[0]!)}` : '') +
    `. Sample of ${indices.length} series (seed ${seed}): ${analysis.description}` +
    (warnings.length ? ` Warnings: ${[...new Set(warnings)].join('; ')}` : '');
  const expectedSeries = expectedSampleSeries(w, indices, window, coveredFromMs, lookbackMs);
  return { aggregate, sample: { seed, indices, expectedSeries, analysis }, warnings, ok, description };
}
