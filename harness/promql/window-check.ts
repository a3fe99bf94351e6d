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
import { metricsOf, seriesLabels, seriesSelector, type Workload } from '../workload/series.ts';

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
}

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
}

export interface WindowCheck {
  aggregate: AggregateCheck;
  sample: { seed: number; indices: number[]; analysis: RangeAnalysis };
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
    const labels = seriesLabels(w, i);
    const key = sumKey(labels.__name__!, labels.namespace ?? '');
    sums.set(key, (sums.get(key) ?? 0) + i);
  }
  return sums;
}

export const sumKey = (metric: string, namespace: string) => `${metric} ${namespace}`;

/**
 * What the aggregate answers say, step by step (pure: the unit tests feed it answers). fresh and
 * all: summed over the metric names; indexSums: by sumKey(metric, namespace).
 */
export function judgeAggregates(
  req: { workload: Workload; window: QueryWindow; coveredFromMs: number; copies: number },
  answers: { fresh: Map<number, number>; all: Map<number, number>; indexSums: Map<string, Map<number, number>> },
  expectedSums: Map<string, number> = expectedIndexSums(req.workload),
): AggregateCheck {
  const { window, copies } = req;
  const expectedPerStep = req.workload.seriesCount * copies;
  const check: AggregateCheck = { expectedPerStep, steps: 0, completeSteps: 0, gaps: [], wrongSteps: [], seriesInAnswer: Math.max(0, ...answers.all.values()) };
  for (let t = window.start; t <= window.end; t += window.step) {
    if (t < req.coveredFromMs) continue;
    check.steps++;
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
    // Every sample of the step is fresh only if the answer holds no other: all == fresh.
    const sumsRight =
      (answers.all.get(t) ?? 0) === fresh &&
      answers.indexSums.size === expectedSums.size &&
      [...expectedSums].every(([key, sum]) => answers.indexSums.get(key)?.get(t) === sum * copies);
    if (fresh === expectedPerStep && sumsRight) check.completeSteps++;
    else check.wrongSteps.push(t);
  }
  return check;
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
  const aggregate = judgeAggregates({ workload: w, window, coveredFromMs, copies: req.copies }, { fresh, all, indexSums });

  const indices = sampleIndices(w.seriesCount, req.sampleSize ?? DEFAULT_SAMPLE_SIZE, seed);
  const matrix = await range(indices.map((i) => seriesSelector(w, i)).join(' or '));
  const analysis = analyseRange(matrix, {
    workload: w,
    startMs: window.start,
    endMs: window.end,
    stepMs: window.step,
    coverage: [{ fromMs: coveredFromMs, toMs: window.end }],
    indices,
  });

  const ok = aggregate.gaps.length === 0 && aggregate.wrongSteps.length === 0 && analysis.summary.ok && warnings.length === 0;
  const iso = (t: number) => new Date(t).toISOString().replace(/\.000Z$/, 'Z');
  const gaps = aggregate.gaps.map((g) => `${iso(g.startMs)}–${iso(g.endMs)} (${g.points} steps, at least ${g.fewestFresh} of ${aggregate.expectedPerStep} fresh)`);
  const description =
    `aggregates over ${w.seriesCount} series x ${req.copies}: ${aggregate.completeSteps} of ${aggregate.steps} steps complete` +
    (gaps.length ? `; incomplete ${gaps.slice(0, 5).join(', ')}${gaps.length > 5 ? ` and ${gaps.length - 5} more` : ''}` : '') +
    (aggregate.wrongSteps.length ? `; ${aggregate.wrongSteps.length} steps with wrong values, first ${iso(aggregate.wrongSteps[0]!)}` : '') +
    `. Sample of ${indices.length} series (seed ${seed}): ${analysis.description}` +
    (warnings.length ? ` Warnings: ${[...new Set(warnings)].join('; ')}` : '');
  return { aggregate, sample: { seed, indices, analysis }, warnings, ok, description };
}
