import { describe, expect, it } from 'vitest';
import { analyseRange, distinctAnswers, pointDifferences, type RangeExpectation } from './analysis.ts';
import type { MatrixSeries, QueryResult } from './client.ts';
import { DEFAULT_WORKLOAD, seriesLabels, valueAt } from '../workload/series.ts';

const STEP = 15_000;
const START = Date.UTC(2025, 10, 24, 10, 0, 0);
const END = START + 4 * 3_600_000;
const W = { ...DEFAULT_WORKLOAD, seriesCount: 3 };
const EXP: RangeExpectation = { workload: W, startMs: START, endMs: END, stepMs: STEP, coverage: [{ fromMs: START, toMs: END }] };
const POINTS = 4 * 240 + 1;

/** What a range query returns for series i when the samples in [lostFrom, lostTo] were lost: 5 min of lookback carry, then nothing. */
function seriesWithLoss(i: number, lostFrom?: number, lostTo?: number, extraLabels: Record<string, string> = {}): MatrixSeries {
  const samples: { t: number; v: number }[] = [];
  let lastStored: { t: number; v: number } | undefined;
  for (let t = START; t <= END; t += STEP) {
    const lost = lostFrom !== undefined && lostTo !== undefined && lostFrom <= t && t <= lostTo;
    if (!lost) lastStored = { t, v: valueAt(i, t) };
    if (lastStored && t - lastStored.t <= 5 * 60_000) samples.push({ t, v: lastStored.v });
  }
  return { metric: { ...seriesLabels(W, i), ...extraLabels }, samples };
}

describe('analyseRange', () => {
  it('a complete answer is ok', () => {
    const a = analyseRange([0, 1, 2].map((i) => seriesWithLoss(i)), EXP);
    expect(a.summary).toEqual({ seriesInResult: 3, expectedPoints: 3 * POINTS, presentPoints: 3 * POINTS, missingPoints: 0, wrongPoints: 0, repeatedTimestamps: 0, samplesOutsideLifetime: 0, ok: true });
    expect(a.description).toMatch(/2883 of 2883 expected points present; all right\.$/);
  });

  it('a lost range is missing, whether the lookback carried an old value or there was none', () => {
    const lostFrom = Date.UTC(2025, 10, 24, 12, 0, 0);
    const lostTo = Date.UTC(2025, 10, 24, 13, 29, 45);
    const a = analyseRange([seriesWithLoss(0), seriesWithLoss(1), seriesWithLoss(2, lostFrom, lostTo)], EXP);
    const s2 = a.series[2]!;
    expect(s2.missing).toEqual([{ startMs: lostFrom, endMs: lostTo, points: 360, carried: 20 }]);
    expect(s2.wrong).toEqual([]);
    expect(s2.present).toBe(POINTS - 360);
    expect(a.summary.ok).toBe(false);
    expect(a.description).toContain('series 2: missing 12:00:00Z–13:29:45Z (360 points, 20 showing an earlier value)');
  });

  it('a value that is neither right nor carried is wrong; repeated timestamps and duplicate label sets are reported', () => {
    const s0 = seriesWithLoss(0);
    s0.samples[10] = { t: s0.samples[10]!.t, v: 42 };
    const s1 = seriesWithLoss(1);
    s1.samples.splice(5, 0, { ...s1.samples[5]! });
    const a = analyseRange([s0, s1, seriesWithLoss(1), seriesWithLoss(2)], EXP);
    expect(a.series[0]!.wrong).toEqual([{ t: START + 10 * STEP, expected: valueAt(0, START + 10 * STEP), actual: 42 }]);
    expect(a.series[1]!.repeatedTimestamps).toEqual([START + 5 * STEP]);
    expect(a.duplicateLabelSets).toEqual([seriesLabels(W, 1)]);
    expect(a.description).toContain(`series 0: 1 wrong value(s), first at 10:02:30Z: expected ${valueAt(0, START + 10 * STEP)}, got 42`);
    expect(a.description).toContain('label set appears more than once');
  });

  it('another series\' value is wrong, not carried', () => {
    const swapped = { ...seriesWithLoss(1), metric: seriesLabels(W, 0) };
    const a = analyseRange([swapped, seriesWithLoss(1), seriesWithLoss(2)], EXP);
    expect(a.series[0]!.wrong).toHaveLength(POINTS);
  });

  it('absent series count as missing; replica copies are judged one by one; foreign series are listed', () => {
    const a = analyseRange(
      [seriesWithLoss(0, undefined, undefined, { replica: 'a' }), seriesWithLoss(0, undefined, undefined, { replica: 'b' }), { metric: { __name__: 'up' }, samples: [] }],
      EXP,
    );
    expect(a.absentSeries).toEqual([1, 2]);
    expect(a.summary.expectedPoints).toBe(4 * POINTS);
    expect(a.summary.missingPoints).toBe(2 * POINTS);
    expect(a.unexpectedSeries).toEqual([{ __name__: 'up' }]);
    expect(a.duplicateLabelSets).toEqual([]);
    expect(a.description).toContain('absent from the result: series 1, 2');
    expect(a.description).toContain('not workload series: {__name__="up"}');
  });

  it('only points inside the coverage windows are expected; values outside are counted apart', () => {
    const coverageEnd = START + 3_600_000;
    const a = analyseRange([0, 1, 2].map((i) => seriesWithLoss(i)), { ...EXP, coverage: [{ fromMs: START, toMs: coverageEnd }] });
    expect(a.series[0]).toMatchObject({ expected: 241, present: 241, unexpectedSamples: POINTS - 241 });
    expect(a.summary.ok).toBe(true);
  });

  it('uses the given valueAt (e.g. the exporter\'s overrides)', () => {
    const overridden = (i: number, t: number) => (i === 0 && t >= START + STEP ? 99 : valueAt(i, t));
    const s0 = { metric: seriesLabels(W, 0), samples: [{ t: START, v: valueAt(0, START) }, { t: START + STEP, v: 99 }] };
    const a = analyseRange([s0], { ...EXP, endMs: START + STEP, valueAt: overridden });
    expect(a.series[0]).toMatchObject({ present: 2, wrong: [] });
  });
});

describe('distinctAnswers', () => {
  const matrix = (series: MatrixSeries[]): QueryResult & { warnings: string[] } => ({ resultType: 'matrix', result: series, warnings: [] });
  const full = () => [0, 1, 2].map((i) => seriesWithLoss(i));

  it('counts distinct answers regardless of series order, with coverage per try', () => {
    const jittered = full();
    jittered[1] = seriesWithLoss(1, START + 3_600_000, START + 2 * 3_600_000);
    const tries = [matrix(full()), matrix(full().reverse()), matrix(jittered), { ...matrix(full()), warnings: ['partial'] }];
    const d = distinctAnswers(tries, EXP);
    expect(d.distinct).toBe(2);
    expect(d.answers.map((a) => a.tries)).toEqual([[0, 1, 3], [2]]);
    expect(d.perTry.map((t) => t.answer)).toEqual([0, 0, 1, 0]);
    expect(d.perTry[2]).toMatchObject({ presentPoints: 3 * POINTS - 241, expectedPoints: 3 * POINTS });
    expect(d.perTry[3]!.warnings).toBe(1);
    expect(d.description).toBe(`4 tries, 2 distinct answer(s): #0 ×3 (3 series, ${3 * POINTS} samples, ${3 * POINTS}/${3 * POINTS} points right), #1 ×1 (3 series, ${3 * POINTS - 241 + 20} samples, ${3 * POINTS - 241}/${3 * POINTS} points right).`);
  });

  it('compares vectors by label set and value', () => {
    const v = (value: number): QueryResult => ({ resultType: 'vector', result: [{ metric: { a: '1' }, t: 0, v: value }] });
    expect(distinctAnswers([v(1), v(1), v(NaN), v(NaN)]).distinct).toBe(2);
  });
});

describe('pointDifferences', () => {
  const series = (s: string, points: [number, number][]): MatrixSeries => ({ metric: { series: s }, samples: points.map(([t, v]) => ({ t, v })) });

  it('finds nothing between equal answers in another series order', () => {
    const a = [series('0', [[1, 10], [2, 20]]), series('1', [[1, NaN]])];
    expect(pointDifferences(a, [...a].reverse())).toEqual({ points: 0, series: 0, examples: [] });
  });

  it('counts changed, missing and extra points and whole missing series', () => {
    const expected = [series('0', [[1_000, 10], [2_000, 20], [3_000, 30]]), series('1', [[1_000, 1]])];
    const actual = [series('0', [[1_000, 10], [2_000, 10], [4_000, 40]]), series('2', [[1_000, 2]])];
    const diff = pointDifferences(expected, actual);
    expect(diff).toMatchObject({ points: 5, series: 3 });
    expect(diff.examples[0]).toBe('{series="0"} at 1970-01-01T00:00:02.000Z: expected 20, got 10');
    expect(diff.examples).toHaveLength(5);
  });
});
