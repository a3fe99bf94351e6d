// The checks at scale under churn: the closed-form aggregates and the sampled series against what a
// query of every written sample answers, computed the slow way (workload/churn-reference.ts).
import { describe, expect, it } from 'vitest';
import { incompleteAggregate, namespaceCountsAt } from '../scale/measure.ts';
import { visibleAt, writtenSeries, type WrittenSeries } from '../workload/churn-reference.ts';
import { gridPoints } from '../time.ts';
import { generationAt, lifetimeOf, lingeringAt, seriesOf, valueAt, workloadOf, type Workload } from '../workload/series.ts';
import { analyseRange } from './analysis.ts';
import type { MatrixSeries } from './client.ts';
import { expectedAggregatesAt, expectedSampleSeries, judgeAggregates, sumKey } from './window-check.ts';

const MIN = 60_000;
const STEP = 15_000;
const T0 = Date.UTC(2026, 11, 6, 12, 0, 0);
const LOOKBACK = 5 * MIN;
// 200 series, 25 pods of 8, 5 replaced every 5 min: at most steps something lingers.
const w: Workload = workloadOf({ grid: '15s', workload: { series: 200, shape: 'cluster', namespaces: 3, containersPerPod: 2, churn: { fraction: 0.2, period: '5m' } } });
const steady: Workload = { ...w, churn: undefined };
const WRITTEN_FROM = T0 - 10 * MIN;
const window = { start: T0, end: T0 + 40 * MIN, step: STEP };
const written = writtenSeries(w, WRITTEN_FROM, window.end);

/** What the three aggregate reads answer, per step, for `copies` copies of each series, from every written sample. */
function aggregateAnswers(copies: number) {
  const fresh = new Map<number, number>();
  const all = new Map<number, number>();
  const indexSums = new Map<string, Map<number, number>>();
  for (const t of gridPoints(window.start, window.end, STEP)) {
    const visible = visibleAt(written, t, LOOKBACK);
    fresh.set(t, copies * visible.filter((v) => v.value % 1e6 === (t / 1000) % 1e6).length);
    all.set(t, copies * visible.length);
    for (const v of visible) {
      const key = sumKey(v.labels.__name__!, v.labels.namespace!);
      const byStep = indexSums.get(key) ?? new Map<number, number>();
      byStep.set(t, (byStep.get(t) ?? 0) + copies * Math.floor(v.value / 1e6));
      indexSums.set(key, byStep);
    }
  }
  return { fresh, all, indexSums };
}

/** A range query's answer for the given slots from every written sample: each series at each step where it shows. */
function rangeAnswer(indices: number[], edit: (s: WrittenSeries, samples: { t: number; v: number }[]) => void = () => {}): MatrixSeries[] {
  const out: MatrixSeries[] = [];
  for (const s of written.values()) {
    if (!indices.includes(s.index)) continue;
    const samples: { t: number; v: number }[] = [];
    for (const t of gridPoints(window.start, window.end, STEP)) {
      let newest: number | undefined;
      for (const x of s.samples) if (x <= t && x > t - LOOKBACK) newest = x;
      if (newest !== undefined) samples.push({ t, v: Math.floor(s.index * 1e6 + ((newest / 1000) % 1e6)) });
    }
    edit(s, samples);
    if (samples.length) out.push({ metric: s.labels, samples });
  }
  return out;
}

describe('the aggregates under churn', () => {
  it('find every step complete when the answer is what the written samples give, copies included', () => {
    for (const copies of [1, 2]) {
      const answers = aggregateAnswers(copies);
      const check = judgeAggregates({ workload: w, window, coveredFromMs: WRITTEN_FROM, copies }, answers);
      expect(check, `${copies} copies`).toMatchObject({ steps: 161, completeSteps: 161, gaps: [], wrongSteps: [] });
      expect(check.seriesInAnswer).toBe(Math.max(...answers.all.values()));
      expect(check.expectedSeriesInAnswer).toBe(check.seriesInAnswer);
      expect(check.seriesInAnswer).toBeGreaterThan(200 * copies); // churn shows: ended pods linger beside their successors
    }
  });

  it('fail, at exactly the steps where an ended pod lingers, if the expectation ignored churn', () => {
    const answers = aggregateAnswers(1);
    const lingering = gridPoints(window.start, window.end, STEP).filter((t) => answers.all.get(t)! > 200);
    // A pod's successor is fresh at once: the fresh count alone cannot tell.
    expect([...answers.fresh.values()].every((n) => n === 200)).toBe(true);
    // Every 5 min boundary leaves its 5 ended pods for 19 steps (20 with a lookback closed on the
    // left): the 8 from T0 to T0 + 35 min, and the one at the window's last step.
    expect(lingering).toHaveLength(8 * 19 + 1);
    const blind = judgeAggregates({ workload: steady, window, coveredFromMs: WRITTEN_FROM, copies: 1 }, answers);
    expect(blind.wrongSteps).toEqual(lingering);
    expect(blind.completeSteps).toBe(161 - lingering.length);
  });

  it('count the lingering series and their index sums as the written samples do', () => {
    for (const t of [T0 + 15_000, T0 + 4 * MIN + 45_000, T0 + 5 * MIN - 15_000]) {
      const visible = visibleAt(written, t, LOOKBACK);
      const expected = expectedAggregatesAt(w, t, WRITTEN_FROM, LOOKBACK);
      expect(expected.all).toBe(visible.length);
      const sums = new Map<string, number>();
      for (const v of visible) sums.set(sumKey(v.labels.__name__!, v.labels.namespace!), (sums.get(sumKey(v.labels.__name__!, v.labels.namespace!)) ?? 0) + v.index);
      expect(expected.indexSums).toEqual(sums);
    }
  });
});

describe('the sampled series under churn', () => {
  const indices = [0, 9, 17, 58, 199];
  const analyse = (matrix: MatrixSeries[], workload: Workload = w) =>
    analyseRange(matrix, { workload, startMs: window.start, endMs: window.end, stepMs: STEP, coverage: [{ fromMs: WRITTEN_FROM, toMs: window.end }], indices, lookbackMs: LOOKBACK });

  it('are right point by point, each generation over its lifetime, its lookback tail allowed', () => {
    const matrix = rangeAnswer(indices);
    expect(matrix).toHaveLength(expectedSampleSeries(w, indices, window, WRITTEN_FROM, LOOKBACK));
    expect(matrix.length).toBeGreaterThan(indices.length);
    const a = analyse(matrix);
    expect(a.summary, a.description).toMatchObject({ missingPoints: 0, wrongPoints: 0, samplesOutsideLifetime: 0, ok: true });
    // One generation of each slot at each step: as many points as without churn.
    expect(a.summary.presentPoints).toBe(indices.length * 161);
    expect(a.absentSeries).toEqual([]);
  });

  it('find a generation that lost its first sample, one that went on past its end, and one left out', () => {
    const ended = [...written.values()].find((s) => s.index === 17 && s.samples.at(-1)! < window.end - 20 * STEP)!;
    const endOf = ended.samples.at(-1)! + STEP;
    const successor = [...written.values()].find((s) => s.index === 17 && s.samples[0] === endOf)!;
    const matrix = rangeAnswer(indices, (s, samples) => {
      // The successor's first sample lost: its first step shows nothing.
      if (s === successor) samples.splice(samples.findIndex((x) => x.t === endOf), 1);
      // The ended generation written one step too long: a fresh value after its end.
      if (s === ended) samples.splice(samples.findIndex((x) => x.t === endOf), 1, { t: endOf, v: 17 * 1e6 + ((endOf / 1000) % 1e6) });
    });
    const a = analyse(matrix);
    expect(a.summary).toMatchObject({ missingPoints: 1, samplesOutsideLifetime: 1, ok: false });
    expect(a.description).toMatch(/series 17 \(pod generation \d+\): 1 sample\(s\) outside the generation's lifetime/);

    const left = rangeAnswer(indices).filter((s) => !(seriesOf(w, s.metric)!.index === 58 && seriesOf(w, s.metric)!.generation === generationAt(w, 58, T0 + 20 * MIN)));
    const b = analyse(left);
    expect(b.absentSeries).toEqual([58]);
    expect(b.summary.ok).toBe(false);
  });

  it("show finding A's gap once per slot: nothing written after a cut, every generation missing its part of it", () => {
    const cut = T0 + 17 * MIN + 30_000; // not on a boundary: one generation of each slot spans it
    // Every slot: some generations end within the lookback after the cut, still showing the value
    // from before the cut after their end (their own steps count it missing).
    const indices = Array.from({ length: 200 }, (_, i) => i);
    const analyse = (matrix: MatrixSeries[]) =>
      analyseRange(matrix, { workload: w, startMs: window.start, endMs: window.end, stepMs: STEP, coverage: [{ fromMs: WRITTEN_FROM, toMs: window.end }], indices, lookbackMs: LOOKBACK });
    const upToCut = writtenSeries(w, WRITTEN_FROM, cut - STEP);
    const answer: MatrixSeries[] = [];
    for (const s of upToCut.values()) {
      const samples = gridPoints(window.start, window.end, STEP).flatMap((t) => {
        const newest = s.samples.filter((x) => x <= t && x > t - LOOKBACK).at(-1);
        return newest === undefined ? [] : [{ t, v: valueAt(s.index, newest) }];
      });
      if (samples.length) answer.push({ metric: s.labels, samples });
    }
    const a = analyse(answer);
    const gapPoints = (window.end - cut) / STEP + 1;
    expect(a.summary).toMatchObject({ wrongPoints: 0, samplesOutsideLifetime: 0, missingPoints: indices.length * gapPoints });
    for (const r of a.series) {
      const { startMs, endMs } = lifetimeOf(w, r.index, r.generation);
      const from = Math.max(cut, startMs);
      const to = Math.min(window.end, endMs - STEP);
      expect(r.missing.map((m) => [m.startMs, m.endMs, m.points])).toEqual(from <= to ? [[from, to, (to - from) / STEP + 1]] : []);
    }
    expect(a.absentSeries).toEqual(indices); // every slot has a generation born after the cut
    expect(a.series.filter((r) => r.unexpectedSamples > 0).length).toBeGreaterThan(0);
  });

  it('fail if churn were ignored: no generation is a series of the steady workload', () => {
    const a = analyse(rangeAnswer(indices), steady);
    expect(a.summary.ok).toBe(false);
    expect(a.unexpectedSeries.length).toBeGreaterThan(indices.length);
  });
});

describe("the sweep's count by namespace under churn", () => {
  it('is what the written samples give at the 5 min steps, on the grid or not', () => {
    for (const t of [T0 + 7_500, T0 + 5 * MIN + 1, T0 + 13 * MIN + 2_000, T0 + 20 * MIN]) {
      const counts = new Map<string, number>();
      for (const v of visibleAt(written, t, LOOKBACK)) counts.set(v.labels.namespace!, (counts.get(v.labels.namespace!) ?? 0) + 1);
      expect(namespaceCountsAt(w, t, WRITTEN_FROM), new Date(t).toISOString()).toEqual(counts);
    }
  });

  it('judges an answer per step, and calls it incomplete against the steady counts', () => {
    const steps = gridPoints(T0, T0 + 30 * MIN, 5 * MIN / 2);
    const answer = {
      warnings: [],
      result: ['ns-0', 'ns-1', 'ns-2'].map((ns) => ({ metric: { namespace: ns }, samples: steps.map((t) => ({ t, v: visibleAt(written, t, LOOKBACK).filter((v) => v.labels.namespace === ns).length })) })),
    };
    expect(incompleteAggregate(answer, (t) => namespaceCountsAt(w, t, WRITTEN_FROM), steps.length)).toBeUndefined();
    expect(lingeringAt(w, steps[1]!, LOOKBACK, WRITTEN_FROM).length).toBeGreaterThan(0);
    expect(incompleteAggregate(answer, namespaceCountsAt(w, T0 - 2 * MIN, WRITTEN_FROM), steps.length)).toMatch(/namespace ns-\d: \d+ of 13 steps/);
  });
});
