// Judging query answers against the workload, point by point.
//
// A range query with step = workload step and a start on the grid evaluates exactly at the grid
// timestamps, so every point has one right value (valueAt). A point is:
// - present:  the right value;
// - missing:  no value, or the value of an earlier grid point of the same series (carried
//             forward by the lookback: what a lost sample looks like in a range query);
// - wrong:    any other value.
// Under churn (series.ts) each generation of a series is a series of its own, expected only at the
// steps of its lifetime [start, end); after its end it may show its last value for the lookback,
// and any other sample outside its lifetime is counted against it (samplesOutsideLifetime).
import type { Labels, MatrixSeries, QueryResult } from './client.ts';
import { generationsBetween, lifetimeOf, seriesLabels, seriesOf, valueAt as workloadValueAt, type Workload } from '../workload/series.ts';

/** A time window in which samples should exist, both ends included. */
export interface CoverageWindow {
  fromMs: number;
  toMs: number;
}

export interface RangeExpectation {
  workload: Workload;
  /** The range query's start, end and step (ms); step = workload.stepMs and start on the grid. */
  startMs: number;
  endMs: number;
  stepMs: number;
  /** Where samples should exist, e.g. [{ fromMs: historyStart, toMs: lastServed }]. */
  coverage: CoverageWindow[];
  /** Right value of series i at t. Default: the workload's valueAt (pass exporter.valueServedAt after overrides). */
  valueAt?: (i: number, tMs: number) => number;
  /** The query's lookback delta: how far back a carried-forward value can come from. Default 5 min. */
  lookbackMs?: number;
  /** The series the answer should hold (a sample of the workload's). Default: every series. */
  indices?: readonly number[];
}

export interface MissingRange {
  startMs: number;
  endMs: number;
  points: number;
  /** Of those, points that showed an earlier sample's value (the rest had no value at all). */
  carried: number;
}

export interface WrongValue {
  t: number;
  expected: number;
  actual: number;
}

export interface SeriesReport {
  labels: Labels;
  /** The workload series index (the `series` label). */
  index: number;
  /** Under churn, the pod generation these labels name (undefined otherwise). */
  generation?: number;
  expected: number;
  present: number;
  missingPoints: number;
  missing: MissingRange[];
  wrong: WrongValue[];
  /** Timestamps that occur more than once in this series' samples. */
  repeatedTimestamps: number[];
  /** Samples where none was expected: outside the coverage windows (e.g. a lookback tail) or off the query steps. */
  unexpectedSamples: number;
  /**
   * Under churn: samples inside the coverage but outside the generation's lifetime, other than its
   * last value carried forward within the lookback after its end. Each one is a failure.
   */
  samplesOutsideLifetime: number;
}

export interface RangeAnalysis {
  /** One report per workload series in the result (with replica labels, several per index). */
  series: SeriesReport[];
  /** Workload series indices that have no series at all in the result (under churn: a generation expected in the range is absent). */
  absentSeries: number[];
  /** Label sets that appear more than once in the result. */
  duplicateLabelSets: Labels[];
  /** Result series that are not workload series. */
  unexpectedSeries: Labels[];
  summary: {
    seriesInResult: number;
    expectedPoints: number;
    presentPoints: number;
    missingPoints: number;
    wrongPoints: number;
    repeatedTimestamps: number;
    /** Under churn: samples of a generation outside its lifetime (not a carried last value). */
    samplesOutsideLifetime: number;
    /** Everything expected is there, right, and only once. */
    ok: boolean;
  };
  /** One paragraph for a human, e.g. "series 3: missing 12:00:00Z–13:29:45Z (360 points, ...)". */
  description: string;
}

const DEFAULT_LOOKBACK_MS = 5 * 60_000;

/** A range query's start, end and step (ms), as the harness asks them. */
export interface QueryWindow {
  start: number;
  end: number;
  step: number;
}

/**
 * analyseRange for a range query over `window`, where every grid point from coveredFromMs (default
 * the window's start, e.g. the history's first sample) to the window's end should be present.
 */
export function analyseWindow(matrix: MatrixSeries[], workload: Workload, window: QueryWindow, coveredFromMs: number = window.start): RangeAnalysis {
  return analyseRange(matrix, { workload, startMs: window.start, endMs: window.end, stepMs: window.step, coverage: [{ fromMs: coveredFromMs, toMs: window.end }] });
}

export function analyseRange(matrix: MatrixSeries[], exp: RangeExpectation): RangeAnalysis {
  const valueAt = exp.valueAt ?? workloadValueAt;
  const expectedSteps = querySteps(exp).filter((t) => exp.coverage.some((w) => w.fromMs <= t && t <= w.toMs));

  const wanted = exp.indices ? new Set(exp.indices) : undefined;
  const seen = new Map<string, { labels: Labels; count: number }>();
  const reports: SeriesReport[] = [];
  const unexpectedSeries: Labels[] = [];
  for (const series of matrix) {
    const key = labelsKey(series.metric);
    const entry = seen.get(key) ?? { labels: series.metric, count: 0 };
    entry.count++;
    seen.set(key, entry);

    const which = seriesOf(exp.workload, series.metric);
    if (which === undefined || (wanted && !wanted.has(which.index))) unexpectedSeries.push(series.metric);
    else reports.push(analyseSeries(series, which.index, which.generation, expectedSteps, exp, valueAt));
  }

  // Every generation (one, without churn) of every wanted series with an expected step must be there.
  const present = new Set(reports.map((r) => `${r.index} ${r.generation}`));
  const absentSeries = new Set<number>();
  let absentPoints = 0;
  const first = expectedSteps[0];
  const last = expectedSteps.at(-1);
  for (const i of exp.indices ?? Array.from({ length: exp.workload.seriesCount }, (_, k) => k)) {
    const generations = first === undefined ? [undefined] : generationsBetween(exp.workload, i, first, last!);
    for (const g of generations) {
      if (present.has(`${i} ${g}`)) continue;
      const { startMs, endMs } = lifetimeOf(exp.workload, i, g);
      const points = expectedSteps.filter((t) => startMs <= t && t < endMs).length;
      if (points === 0 && exp.workload.churn) continue;
      absentSeries.add(i);
      absentPoints += points;
    }
  }
  const duplicateLabelSets = [...seen.values()].filter((e) => e.count > 1).map((e) => e.labels);

  const sum = (f: (r: SeriesReport) => number) => reports.reduce((n, r) => n + f(r), 0);
  const summary = {
    seriesInResult: matrix.length,
    expectedPoints: sum((r) => r.expected) + absentPoints,
    presentPoints: sum((r) => r.present),
    missingPoints: sum((r) => r.missingPoints) + absentPoints,
    wrongPoints: sum((r) => r.wrong.length),
    repeatedTimestamps: sum((r) => r.repeatedTimestamps.length),
    samplesOutsideLifetime: sum((r) => r.samplesOutsideLifetime),
    ok: false,
  };
  summary.ok =
    summary.missingPoints === 0 &&
    summary.wrongPoints === 0 &&
    summary.repeatedTimestamps === 0 &&
    summary.samplesOutsideLifetime === 0 &&
    duplicateLabelSets.length === 0 &&
    unexpectedSeries.length === 0;

  const analysis: RangeAnalysis = { series: reports, absentSeries: [...absentSeries].sort((a, b) => a - b), duplicateLabelSets, unexpectedSeries, summary, description: '' };
  analysis.description = describe(analysis, exp, expectedSteps.length);
  return analysis;
}

function analyseSeries(
  series: MatrixSeries,
  index: number,
  generation: number | undefined,
  allExpectedSteps: number[],
  exp: RangeExpectation,
  valueAt: (i: number, t: number) => number,
): SeriesReport {
  const lifetime = lifetimeOf(exp.workload, index, generation);
  const expectedSteps = exp.workload.churn ? allExpectedSteps.filter((t) => lifetime.startMs <= t && t < lifetime.endMs) : allExpectedSteps;
  const byTime = new Map<number, number>();
  const repeated = new Set<number>();
  for (const s of series.samples) {
    if (byTime.has(s.t)) repeated.add(s.t);
    else byTime.set(s.t, s.v);
  }
  const report: SeriesReport = {
    labels: series.metric,
    index,
    ...(generation === undefined ? {} : { generation }),
    expected: expectedSteps.length,
    present: 0,
    missingPoints: 0,
    missing: [],
    wrong: [],
    repeatedTimestamps: [...repeated].sort((a, b) => a - b),
    unexpectedSamples: 0,
    samplesOutsideLifetime: 0,
  };
  const lookbackMs = exp.lookbackMs ?? DEFAULT_LOOKBACK_MS;
  const carrySteps = Math.ceil(lookbackMs / exp.stepMs);
  const isCarried = (t: number, v: number) => {
    for (let k = 1; k <= carrySteps; k++) if (sameValue(v, valueAt(index, t - k * exp.stepMs))) return true;
    return false;
  };

  for (const t of expectedSteps) {
    const actual = byTime.get(t);
    byTime.delete(t);
    const expected = valueAt(index, t);
    if (actual !== undefined && sameValue(actual, expected)) {
      report.present++;
      continue;
    }
    if (actual !== undefined && !isCarried(t, actual)) {
      report.wrong.push({ t, expected, actual });
      continue;
    }
    report.missingPoints++;
    const last = report.missing.at(-1);
    const range = last && last.endMs + exp.stepMs === t ? last : { startMs: t, endMs: t, points: 0, carried: 0 };
    if (range !== last) report.missing.push(range);
    range.endMs = t;
    range.points++;
    if (actual !== undefined) range.carried++;
  }
  report.unexpectedSamples = byTime.size; // what is left matched no expected step
  if (exp.workload.churn) {
    // After its end a generation may still show a sample of its lifetime, carried forward within
    // the lookback (left-open, as Prometheus 3's): its last one, or an earlier one where the last
    // were lost (then its own steps say so). Anything else outside the lifetime is wrong.
    const lastSampleMs = lifetime.endMs - exp.stepMs;
    const covered = new Set(allExpectedSteps);
    const carriedFromLifetime = (t: number, v: number) => {
      for (let s = lastSampleMs; s > t - lookbackMs && s >= lifetime.startMs; s -= exp.stepMs) if (sameValue(v, valueAt(index, s))) return true;
      return false;
    };
    for (const [t, v] of byTime) {
      if (!covered.has(t)) continue;
      if (!(t >= lifetime.endMs && carriedFromLifetime(t, v))) report.samplesOutsideLifetime++;
    }
  }
  return report;
}

/** The timestamps a range query evaluates at: start, start+step, ... <= end. */
function querySteps(exp: { startMs: number; endMs: number; stepMs: number }): number[] {
  const steps: number[] = [];
  for (let t = exp.startMs; t <= exp.endMs; t += exp.stepMs) steps.push(t);
  return steps;
}

function sameValue(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

/** Canonical text of a label set: sorted by name, so equal sets give equal keys. */
export function labelsKey(labels: Labels): string {
  return `{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(', ')}}`;
}

// ---- human description ----

const MAX_ITEMS = 5;

function describe(a: RangeAnalysis, exp: RangeExpectation, stepsPerSeries: number): string {
  const time = (t: number) => formatTime(t, exp.startMs);
  const s = a.summary;
  const header =
    `range ${isoSeconds(exp.startMs)} → ${isoSeconds(exp.endMs)} step ${exp.stepMs / 1000}s, ` +
    `${stepsPerSeries} points expected per series: ${s.seriesInResult} series in the result, ` +
    `${s.presentPoints} of ${s.expectedPoints} expected points present`;
  const problems: string[] = [];
  for (const r of a.series) {
    const name = seriesName(r.labels, r.index, exp.workload, r.generation);
    const parts: string[] = [];
    if (r.missing.length > 0) {
      const ranges = r.missing.slice(0, MAX_ITEMS).map((m) => {
        const carried = m.carried > 0 ? `, ${m.carried} showing an earlier value` : '';
        const span = m.startMs === m.endMs ? time(m.startMs) : `${time(m.startMs)}–${time(m.endMs)}`;
        return `${span} (${m.points} point${m.points === 1 ? '' : 's'}${carried})`;
      });
      parts.push(`missing ${ranges.join(', ')}${more(r.missing.length)}`);
    }
    if (r.wrong.length > 0) {
      const first = r.wrong[0]!;
      parts.push(`${r.wrong.length} wrong value(s), first at ${time(first.t)}: expected ${first.expected}, got ${first.actual}`);
    }
    if (r.repeatedTimestamps.length > 0) parts.push(`${r.repeatedTimestamps.length} repeated timestamp(s), first ${time(r.repeatedTimestamps[0]!)}`);
    if (r.samplesOutsideLifetime > 0) parts.push(`${r.samplesOutsideLifetime} sample(s) outside the generation's lifetime`);
    // Under churn every ended generation shows its lookback tail: not worth a line each.
    if (!exp.workload.churn && r.unexpectedSamples > 0) parts.push(`${r.unexpectedSamples} sample(s) outside the expected coverage`);
    if (parts.length > 0) problems.push(`${name}: ${parts.join('; ')}`);
  }
  if (a.absentSeries.length > 0) problems.push(`absent from the result: series ${a.absentSeries.join(', ')}`);
  for (const labels of a.duplicateLabelSets.slice(0, MAX_ITEMS)) problems.push(`label set appears more than once: ${labelsKey(labels)}`);
  if (a.unexpectedSeries.length > 0) {
    problems.push(`not workload series: ${a.unexpectedSeries.slice(0, MAX_ITEMS).map(labelsKey).join(', ')}${more(a.unexpectedSeries.length)}`);
  }
  return problems.length === 0 ? `${header}; all right.` : `${header}. ${problems.join('. ')}.`;
}

/** "series 3", plus any labels beyond the workload's own (e.g. a replica label in a non-deduplicated answer). */
function seriesName(labels: Labels, index: number, w: Workload, generation?: number): string {
  const own = seriesLabels(w, index, generation);
  if (generation !== undefined) {
    const extra = Object.entries(labels).filter(([k, v]) => own[k] !== v);
    return `series ${index} (pod generation ${generation})${extra.length ? ` ${labelsKey(Object.fromEntries(extra))}` : ''}`;
  }
  const extra = Object.entries(labels).filter(([k, v]) => own[k] !== v);
  return extra.length === 0 ? `series ${index}` : `series ${index} ${labelsKey(Object.fromEntries(extra))}`;
}

function more(total: number): string {
  return total > MAX_ITEMS ? ` and ${total - MAX_ITEMS} more` : '';
}

function isoSeconds(t: number): string {
  return new Date(t).toISOString().replace(/\.000Z$/, 'Z');
}

/** Time of day when on the query start's UTC day, else the full timestamp. */
function formatTime(t: number, startMs: number): string {
  const iso = isoSeconds(t);
  return iso.slice(0, 10) === isoSeconds(startMs).slice(0, 10) ? iso.slice(11) : iso;
}

// ---- variation across repeated identical queries ----

export interface DistinctAnswers {
  tries: number;
  /** How many different answers the tries gave; 1 means every try answered the same. */
  distinct: number;
  /** The different answers, most frequent first: which tries gave each, and its size. */
  answers: { tries: number[]; seriesCount: number; sampleCount: number }[];
  /** Per try: which answer (index into answers), its size, and coverage when an expectation was given. */
  perTry: { answer: number; seriesCount: number; sampleCount: number; warnings: number; presentPoints?: number; expectedPoints?: number }[];
  description: string;
}

/**
 * Compares K answers to the same query (e.g. the Thanos receive jitter bug, where identical
 * queries return different data). Answers are compared canonically: series order does not matter.
 */
export function distinctAnswers(results: (QueryResult & { warnings?: string[] })[], expectation?: RangeExpectation): DistinctAnswers {
  const groups = new Map<string, number[]>();
  results.forEach((r, i) => {
    const key = canonicalAnswer(r);
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  const ordered = [...groups.values()].sort((a, b) => b.length - a.length || a[0]! - b[0]!);
  const answerOf = new Map<number, number>();
  ordered.forEach((tries, answer) => tries.forEach((t) => answerOf.set(t, answer)));

  const perTry = results.map((r, i) => {
    const size = answerSize(r);
    const entry: DistinctAnswers['perTry'][number] = { answer: answerOf.get(i)!, ...size, warnings: r.warnings?.length ?? 0 };
    if (expectation && r.resultType === 'matrix') {
      const { summary } = analyseRange(r.result, expectation);
      entry.presentPoints = summary.presentPoints;
      entry.expectedPoints = summary.expectedPoints;
    }
    return entry;
  });
  const answers = ordered.map((tries) => ({ tries, ...answerSize(results[tries[0]!]!) }));
  const description =
    `${results.length} tries, ${answers.length} distinct answer(s): ` +
    answers
      .map((a, k) => {
        const coverage = perTry[a.tries[0]!]?.presentPoints;
        const covered = coverage === undefined ? '' : `, ${coverage}/${perTry[a.tries[0]!]!.expectedPoints} points right`;
        return `#${k} ×${a.tries.length} (${a.seriesCount} series, ${a.sampleCount} samples${covered})`;
      })
      .join(', ') +
    '.';
  return { tries: results.length, distinct: answers.length, answers, perTry, description };
}

function canonicalAnswer(r: QueryResult): string {
  switch (r.resultType) {
    case 'vector':
      return 'vector\n' + r.result.map((s) => `${labelsKey(s.metric)} ${s.t} ${s.v}`).sort().join('\n');
    case 'matrix':
      return 'matrix\n' + r.result.map((s) => `${labelsKey(s.metric)} ${s.samples.map((p) => `${p.t}=${p.v}`).join(' ')}`).sort().join('\n');
    case 'scalar':
      return `scalar ${r.result.t} ${r.result.v}`;
    case 'string':
      return `string ${r.result.t} ${JSON.stringify(r.result.v)}`;
  }
}

function answerSize(r: QueryResult): { seriesCount: number; sampleCount: number } {
  switch (r.resultType) {
    case 'vector':
      return { seriesCount: r.result.length, sampleCount: r.result.length };
    case 'matrix':
      return { seriesCount: r.result.length, sampleCount: r.result.reduce((n, s) => n + s.samples.length, 0) };
    default:
      return { seriesCount: 0, sampleCount: 1 };
  }
}

export interface PointDifferences {
  /** (series, timestamp) points whose value differs, or that only one answer has. */
  points: number;
  series: number;
  /** The first few, for a message. */
  examples: string[];
}

/** Compares two range answers point by point (series by their full label set; order does not matter). */
export function pointDifferences(expected: MatrixSeries[], actual: MatrixSeries[]): PointDifferences {
  const bySeries = (m: MatrixSeries[]) => new Map(m.map((s) => [labelsKey(s.metric), new Map(s.samples.map((p) => [p.t, p.v]))]));
  const [want, got] = [bySeries(expected), bySeries(actual)];
  const diff: PointDifferences = { points: 0, series: 0, examples: [] };
  for (const key of new Set([...want.keys(), ...got.keys()])) {
    const [w, g] = [want.get(key) ?? new Map<number, number>(), got.get(key) ?? new Map<number, number>()];
    let differing = 0;
    for (const t of [...new Set([...w.keys(), ...g.keys()])].sort((a, b) => a - b)) {
      const [a, b] = [w.get(t), g.get(t)];
      if (a === b || (Number.isNaN(a) && Number.isNaN(b))) continue;
      differing++;
      if (diff.examples.length < 5) diff.examples.push(`${key} at ${new Date(t).toISOString()}: expected ${a ?? 'no point'}, got ${b ?? 'no point'}`);
    }
    diff.points += differing;
    if (differing > 0) diff.series++;
  }
  return diff;
}
