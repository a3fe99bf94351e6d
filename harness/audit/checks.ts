// The audit's judgement, pure: given what a live Thanos Query (and its Query Frontend) answered,
// which findings of FINDINGS.md it shows. No I/O here: harness/audit/gather.ts asks, this judges,
// and the unit tests feed it answers of the real formats.
//
// One result per check, each named after the finding it detects:
//   A        coverage: the Stores page's time ranges per label set, and the probe's gaps
//   D        copies: series that differ only in external labels not declared as replica labels, same samples
//   B        variation: K identical instant queries at a fixed past time, distinct answers
//   E        endpoints: errors, sidecars without a block, label sets two live sources share; Query's flags
//   partial  partial answers: endpoints left out without a warning
//   cache    frontend cache: a repeated recent range through the frontend misses what Query has
import type { Labels, MatrixSeries, Sample, StoreEndpoint, VectorSample } from '../promql/client.ts';
import { storesTimeline, type Plot } from '../report/plots.ts';

export const CHECKS = ['A', 'D', 'B', 'E', 'partial', 'cache'] as const;
export type CheckId = (typeof CHECKS)[number];
export type CheckStatus = 'ok' | 'finding' | 'unchecked';

export const CHECK_TITLES: Record<CheckId, string> = {
  A: 'A coverage',
  D: 'D copies',
  B: 'B variation',
  E: 'E endpoints',
  partial: 'partial answers',
  cache: 'frontend cache',
};

export interface CheckResult {
  id: CheckId;
  status: CheckStatus;
  /** One line: what was seen, with its figures (or why it could not be checked). */
  summary: string;
  /** Further lines: each finding's particulars, Query's flags. */
  details: string[];
  /** Figures for the JSON file and the report. */
  figures: Record<string, number | string>;
  plots: Plot[];
}

/** An answer, or the one line saying why there is none (an HTTP error, a timeout). */
export type Outcome<T> = { ok: true; value: T; warnings: string[] } | { ok: false; error: string; status?: number };

export interface AuditOptions {
  /** The probe series selector (`up` by default). */
  probe: string;
  /** How far back the probe's range query reaches (the retention the user names). */
  rangeMs: number;
  stepMs: number;
  /** Identical instant queries of check B. */
  tries: number;
}

export interface ProbeRange {
  start: number;
  end: number;
  step: number;
  answer: Outcome<MatrixSeries[]>;
}

export interface AuditInputs {
  nowMs: number;
  options: AuditOptions;
  /** Query's /api/v1/status/flags (flag name without "--" -> value as Thanos prints it), or why not. */
  flags: Outcome<Record<string, unknown>>;
  stores: Record<string, StoreEndpoint[]>;
  /** The probe over the range, deduplicated, through Query. */
  probe: ProbeRange;
  /** Check B: the tries, in the order they were sent, at one past time. */
  variation: { time: number; through: 'frontend' | 'query'; answers: Outcome<VectorSample[]>[] };
  /** The probe at "now" with partial_response=true and =false, through Query. */
  partial: { time: number; allowed: Outcome<VectorSample[]>; refused: Outcome<VectorSample[]> };
  /** Check cache: undefined without --frontend. first: through the frontend; then again through it, and through Query. */
  cache?: { window: { start: number; end: number; step: number }; waitedMs: number; first: Outcome<MatrixSeries[]>; frontend: Outcome<MatrixSeries[]>; query: Outcome<MatrixSeries[]> };
}

// ---- Query's flags ----

/** The values of a repeated flag as Thanos' /api/v1/status/flags prints them ("a,b" in 0.42; "[a b]" tolerated). */
export function flagList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const text = String(value).trim().replace(/^\[|\]$/g, '');
  return text.split(/[\s,]+/).filter((v) => v !== '');
}

export interface QueryFlags {
  replicaLabels: string[];
  dedupFunc: string | undefined;
  strictEndpoints: string[];
  partialResponseDefault: string | undefined;
}

export function queryFlags(flags: Record<string, unknown>): QueryFlags {
  return {
    replicaLabels: flagList(flags['query.replica-label']),
    dedupFunc: flags['deduplication.func'] === undefined ? undefined : String(flags['deduplication.func']),
    strictEndpoints: [...flagList(flags['endpoint-strict']), ...flagList(flags['endpoint-group-strict'])],
    partialResponseDefault: flags['query.partial-response'] === undefined ? undefined : String(flags['query.partial-response']),
  };
}

/**
 * The replica labels in effect: Query's flags where its API shows them; otherwise the names Thanos
 * users commonly declare (then the checks say so).
 */
export const COMMON_REPLICA_LABELS = ['replica', 'prometheus_replica', 'rule_replica', 'receive_replica'];

// ---- helpers ----

export const labelsKey = (l: Labels): string =>
  Object.keys(l)
    .sort()
    .map((k) => `${k}=${JSON.stringify(l[k])}`)
    .join(',');

export const labelsText = (l: Labels): string => `{${Object.keys(l).sort().map((k) => `${k}="${l[k]}"`).join(', ')}}`;

const without = (l: Labels, drop: readonly string[]): Labels => Object.fromEntries(Object.entries(l).filter(([k]) => !drop.includes(k)));

export const isoOf = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');

export function durationText(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  return `${h}h${String(m % 60).padStart(2, '0')}m`;
}

/** Endpoints a Stores page entry of this type serves from object storage (bounded by its blocks). */
const HISTORICAL_TYPES = new Set(['store']);
/** A bounded maxTime this close to now still counts as live (a Ruler's or a Prometheus' own TSDB moves). */
const LIVE_SLACK_MS = 10 * 60_000;

interface Entry {
  type: string;
  e: StoreEndpoint;
}
const entries = (stores: Record<string, StoreEndpoint[]>): Entry[] => Object.entries(stores).flatMap(([type, es]) => es.map((e) => ({ type, e })));

function isLive(x: Entry, nowMs: number): boolean {
  if (x.e.lastError) return false;
  if (HISTORICAL_TYPES.has(x.type)) return false;
  return x.e.maxTime === 'unbounded' || x.e.maxTime >= nowMs - LIVE_SLACK_MS;
}

function replicaLabelsOf(inputs: AuditInputs): { labels: string[]; from: string } {
  if (inputs.flags.ok) {
    const r = queryFlags(inputs.flags.value).replicaLabels;
    return { labels: r, from: `Query's --query.replica-label (${r.length ? r.join(', ') : 'none'})` };
  }
  return { labels: COMMON_REPLICA_LABELS, from: `the common replica label names (${COMMON_REPLICA_LABELS.join(', ')}): Query's flags could not be read` };
}

// ---- A: coverage ----

export interface Gap {
  startMs: number;
  endMs: number;
  /** Series (of the answer) with no point in the gap. */
  series: number;
}

/**
 * The runs of steps at which a series has no point, after its first point (before it, the series
 * may not have existed yet): each run of at least minSteps steps, the last one up to the range's end.
 */
export function seriesGaps(samples: readonly Sample[], range: { start: number; end: number; step: number }, minSteps = 2): { startMs: number; endMs: number }[] {
  if (samples.length === 0) return [];
  const have = new Set(samples.map((s) => s.t));
  const gaps: { startMs: number; endMs: number }[] = [];
  let runStart: number | undefined;
  const first = Math.min(...samples.map((s) => s.t));
  for (let t = first; t <= range.end; t += range.step) {
    if (!have.has(t)) runStart ??= t;
    else if (runStart !== undefined) {
      if ((t - runStart) / range.step >= minSteps) gaps.push({ startMs: runStart, endMs: t - range.step });
      runStart = undefined;
    }
  }
  if (runStart !== undefined && (range.end - runStart) / range.step + 1 >= minSteps) gaps.push({ startMs: runStart, endMs: range.end });
  return gaps;
}

/** Gaps shared by at least half of the answer's series: the probe shows a hole across the board (one series ending is not one). */
export function commonGaps(matrix: readonly MatrixSeries[], range: { start: number; end: number; step: number }): Gap[] {
  const count = new Map<string, Gap>();
  for (const s of matrix) {
    for (const g of seriesGaps(s.samples, range)) {
      const key = `${g.startMs}-${g.endMs}`;
      const c = count.get(key) ?? { ...g, series: 0 };
      c.series++;
      count.set(key, c);
    }
  }
  return [...count.values()].filter((g) => g.series * 2 >= matrix.length).sort((a, b) => a.startMs - b.startMs);
}

export interface CoverageGroup {
  labels: Labels;
  /** The newest time a Store (object storage) serves for it, if any does. */
  historicalMaxTime: number | undefined;
  historicalMinTime: number | undefined;
  /** The oldest time a live endpoint (sidecar, receive, ...) serves, if any serves it. */
  liveMinTime: number | 'unbounded' | undefined;
  live: string[];
  historical: string[];
  /** Each Store's range for it, as the Stores page shows it ("unbounded" as an infinite bound). */
  historicalRanges: { name: string; minTime: number; maxTime: number }[];
}

/** Per label set (replica labels left out): who serves it, from object storage and live. */
export function coverageGroups(stores: Record<string, StoreEndpoint[]>, replicaLabels: readonly string[], nowMs: number): CoverageGroup[] {
  const groups = new Map<string, CoverageGroup>();
  for (const x of entries(stores)) {
    const live = isLive(x, nowMs);
    const historical = HISTORICAL_TYPES.has(x.type) && !x.e.lastError;
    if (!live && !historical) continue;
    for (const ls of x.e.labelSets) {
      const labels = without(ls, replicaLabels);
      const key = labelsKey(labels);
      const g = groups.get(key) ?? { labels, historicalMaxTime: undefined, historicalMinTime: undefined, liveMinTime: undefined, live: [], historical: [], historicalRanges: [] };
      if (live) {
        if (!g.live.includes(x.e.name)) g.live.push(x.e.name);
        const min = x.e.minTime;
        g.liveMinTime = g.liveMinTime === undefined ? min : min === 'unbounded' || g.liveMinTime === 'unbounded' ? 'unbounded' : Math.min(g.liveMinTime, min);
      } else {
        if (!g.historical.includes(x.e.name)) g.historical.push(x.e.name);
        // A Store with no block advertises MaxInt64..MinInt64: it serves nothing.
        if (x.e.exactMinTime <= x.e.exactMaxTime && !g.historicalRanges.some((r) => r.name === x.e.name)) g.historicalRanges.push({ name: x.e.name, minTime: x.e.minTime === 'unbounded' ? -Infinity : x.e.minTime, maxTime: x.e.maxTime === 'unbounded' ? Infinity : x.e.maxTime });
        if (typeof x.e.maxTime === 'number') g.historicalMaxTime = Math.max(g.historicalMaxTime ?? -Infinity, x.e.maxTime);
        if (typeof x.e.minTime === 'number') g.historicalMinTime = Math.min(g.historicalMinTime ?? Infinity, x.e.minTime);
      }
      groups.set(key, g);
    }
  }
  return [...groups.values()].sort((a, b) => labelsKey(a.labels).localeCompare(labelsKey(b.labels)));
}

export interface StoreHole {
  startMs: number;
  endMs: number;
  /** The Stores whose newest time is its start, and those whose oldest is its end. */
  before: string[];
  after: string[];
}

/**
 * Holes in what object storage serves a label set: stretches between two Stores' ranges (Stores
 * partitioned by --min-time/--max-time with a hole between them) that no Store serves, longer
 * than a step, within [fromMs, toMs], and ending before the live endpoints' oldest (what a live
 * endpoint serves is not missing; the stretch up to it is the Store/live hole).
 */
export function storeHoles(g: CoverageGroup, window: { fromMs: number; toMs: number; stepMs: number }): StoreHole[] {
  const ranges = [...g.historicalRanges].filter((r) => r.minTime <= r.maxTime).sort((a, b) => a.minTime - b.minTime);
  const liveFrom = g.liveMinTime === undefined ? Infinity : g.liveMinTime === 'unbounded' ? -Infinity : g.liveMinTime;
  const holes: StoreHole[] = [];
  let covered = -Infinity;
  let newest: string[] = [];
  for (const r of ranges) {
    if (covered > -Infinity && r.minTime > covered + window.stepMs) {
      const end = Math.min(r.minTime, liveFrom);
      if (end > covered + window.stepMs && end > window.fromMs && covered < window.toMs) {
        holes.push({ startMs: covered, endMs: end, before: newest, after: ranges.filter((x) => x.minTime === r.minTime).map((x) => x.name) });
      }
    }
    if (r.maxTime > covered) {
      covered = r.maxTime;
      newest = [r.name];
    } else if (r.maxTime === covered && !newest.includes(r.name)) newest.push(r.name);
  }
  return holes;
}

export function checkCoverage(inputs: AuditInputs): CheckResult {
  const { nowMs, options, probe } = inputs;
  const replica = replicaLabelsOf(inputs);
  const details: string[] = [];
  const findings: string[] = [];
  const marks: { label: string; from: number; to: number }[] = [];
  const groups = coverageGroups(inputs.stores, replica.labels, nowMs);
  let storeHoleCount = 0;
  for (const g of groups) {
    if (g.live.length === 0 && g.historicalMaxTime !== undefined && g.historicalMaxTime >= nowMs - options.rangeMs) {
      findings.push(
        `${labelsText(g.labels)}: only object storage serves it (${g.historical.join(', ')}), up to ${isoOf(g.historicalMaxTime)}, ${durationText(nowMs - g.historicalMaxTime)} ago; no live endpoint (sidecar, receive) serves anything newer: the newest ${durationText(nowMs - g.historicalMaxTime)} are invisible (add the sidecars or receives as Query endpoints)`,
      );
      marks.push({ label: 'not served', from: g.historicalMaxTime, to: nowMs });
    } else if (g.live.length && g.historicalMaxTime !== undefined && typeof g.liveMinTime === 'number' && g.liveMinTime > g.historicalMaxTime + options.stepMs) {
      findings.push(`${labelsText(g.labels)}: a hole from ${isoOf(g.historicalMaxTime)} (Store's newest) to ${isoOf(g.liveMinTime)} (the live endpoints' oldest: ${g.live.join(', ')}), ${durationText(g.liveMinTime - g.historicalMaxTime)}`);
      marks.push({ label: 'hole', from: g.historicalMaxTime, to: g.liveMinTime });
    }
    for (const h of storeHoles(g, { fromMs: nowMs - options.rangeMs, toMs: nowMs, stepMs: options.stepMs })) {
      findings.push(
        `${labelsText(g.labels)}: a hole in what object storage serves, from ${isoOf(h.startMs)} (the newest of ${h.before.join(', ')}) to ${isoOf(h.endMs)} (the oldest of ${h.after.join(', ')}), ${durationText(h.endMs - h.startMs)}: no endpoint serves it (Stores partitioned by --min-time/--max-time with a hole between them?)`,
      );
      marks.push({ label: 'hole between Stores', from: h.startMs, to: h.endMs });
      storeHoleCount++;
    }
  }
  const plots: Plot[] = [];
  const figures: Record<string, number | string> = { labelSets: groups.length, storeHoles: storeHoleCount };
  let probeLine: string;
  if (!probe.answer.ok) {
    probeLine = `the probe ${options.probe} could not be asked: ${probe.answer.error}`;
  } else if (probe.answer.value.length === 0) {
    probeLine = `the probe ${options.probe} has no series over the last ${durationText(options.rangeMs)} (choose another with --probe)`;
  } else {
    const matrix = probe.answer.value;
    const gaps = commonGaps(matrix, probe);
    figures.probeSeries = matrix.length;
    figures.probeGaps = gaps.length;
    for (const g of gaps) {
      findings.push(`the probe ${options.probe} has no point from ${isoOf(g.startMs)} to ${isoOf(g.endMs)} (${durationText(g.endMs - g.startMs + probe.step)}) in ${g.series} of ${matrix.length} series${g.endMs === probe.end ? ': the newest data is missing' : ''}`);
      marks.push({ label: g.endMs === probe.end ? 'probe: newest missing' : 'probe: gap', from: g.startMs, to: g.endMs });
    }
    if (gaps.length) figures.gapStart = isoOf(gaps[0]!.startMs);
    if (gaps.length) figures.gapEnd = isoOf(gaps[0]!.endMs);
    probeLine = gaps.length ? '' : `the probe ${options.probe}: ${matrix.length} series, no gap over ${isoOf(probe.start)} .. ${isoOf(probe.end)}`;
  }
  // The Stores page as a timeline, the probe's range under it, the holes marked.
  const rows = entries(inputs.stores).map(({ type, e }) => ({ label: `${type} ${e.name}${e.lastError ? ' (error)' : ''}`, minTime: e.minTime, maxTime: e.maxTime }));
  if (rows.length) plots.push(withoutFarBounds(storesTimeline(`Query's Stores page and the probe's range (${options.probe}), holes marked`, rows, probe, marks), nowMs, options.rangeMs));
  const status: CheckStatus = findings.length ? 'finding' : probe.answer.ok && probe.answer.value.length ? 'ok' : groups.length ? 'ok' : 'unchecked';
  details.push(...findings);
  if (probeLine) details.push(probeLine);
  details.push(`label sets grouped without ${replica.from}`);
  const summary = findings.length
    ? `${findings.length} coverage problem(s): ${findings[0]}`
    : `${groups.length} label set(s), each served up to now by a live endpoint${probeLine ? `; ${probeLine}` : ''}`;
  return { id: 'A', status, summary, details, figures, plots };
}

/** Keeps a timeline readable: nothing older than twice the range before now, nothing after now. */
function withoutFarBounds(p: Plot, nowMs: number, rangeMs: number): Plot {
  if (p.kind !== 'timeline') return p;
  const from = Math.max(p.range.from, nowMs - 2 * rangeMs);
  const to = Math.min(p.range.to, nowMs);
  return { ...p, range: { from, to } };
}

// ---- D: copies ----

export interface Copies {
  /** The labels the two copies differ in (absent on one of them counts as differing). */
  labels: string[];
  a: Labels;
  b: Labels;
  /** Common timestamps, and how many of them carry equal values. */
  common: number;
  equal: number;
}

/** Two series are copies when at least this share of their common timestamps carry equal values... */
const COPY_EQUAL_SHARE = 0.9;
/** ...over at least this many timestamps and two distinct values (a constant, like `up`, proves nothing). */
const COPY_MIN_POINTS = 3;

/**
 * Pairs of series of a deduplicated answer that differ only in `candidates` (external labels Query
 * does not treat as replica labels) and carry the same samples: one series, counted twice.
 */
export function findCopies(matrix: readonly MatrixSeries[], candidates: readonly string[]): { copies: Copies[]; comparable: number } {
  const groups = new Map<string, MatrixSeries[]>();
  for (const s of matrix) {
    const key = labelsKey(without(s.metric, candidates));
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  const copies: Copies[] = [];
  let comparable = 0;
  for (const group of groups.values()) {
    for (let i = 0; i < group.length; i++) {
      for (let j = i + 1; j < group.length; j++) {
        const [a, b] = [group[i]!, group[j]!];
        const bv = new Map(b.samples.map((s) => [s.t, s.v]));
        let common = 0;
        let equal = 0;
        const values = new Set<number>();
        for (const s of a.samples) {
          const v = bv.get(s.t);
          if (v === undefined) continue;
          common++;
          if (v === s.v || (Number.isNaN(v) && Number.isNaN(s.v))) {
            equal++;
            values.add(s.v);
          }
        }
        if (common < COPY_MIN_POINTS || values.size < 2) continue;
        comparable++;
        if (equal >= COPY_EQUAL_SHARE * common) {
          const labels = candidates.filter((l) => (a.metric[l] ?? '') !== (b.metric[l] ?? ''));
          copies.push({ labels, a: a.metric, b: b.metric, common, equal });
        }
      }
    }
  }
  return { copies, comparable };
}

/** The label names of every label set on the Stores page: what endpoints add to their series. */
export function externalLabelNames(stores: Record<string, StoreEndpoint[]>): string[] {
  return [...new Set(entries(stores).flatMap((x) => x.e.labelSets.flatMap((l) => Object.keys(l))))].sort();
}

export function checkCopies(inputs: AuditInputs): CheckResult {
  const { options, probe } = inputs;
  const replica = replicaLabelsOf(inputs);
  const candidates = externalLabelNames(inputs.stores).filter((l) => !replica.labels.includes(l));
  const base = { id: 'D' as const, plots: [] };
  if (!probe.answer.ok) return { ...base, status: 'unchecked', summary: `the probe ${options.probe} could not be asked: ${probe.answer.error}`, details: [], figures: {} };
  const matrix = probe.answer.value;
  if (matrix.length === 0) return { ...base, status: 'unchecked', summary: `the probe ${options.probe} has no series (choose another with --probe)`, details: [], figures: {} };
  const { copies, comparable } = findCopies(matrix, candidates);
  const figures: Record<string, number | string> = { series: matrix.length, externalLabelsNotReplica: candidates.join(' ') };
  if (copies.length) {
    const byLabels = new Map<string, Copies[]>();
    for (const c of copies) byLabels.set(c.labels.join(','), [...(byLabels.get(c.labels.join(',')) ?? []), c]);
    const details = [...byLabels.entries()].map(([labels, cs]) => {
      const flags = labels.split(',').map((l) => `--query.replica-label=${l}`).join(' ');
      return `${cs.length} pair(s) of series differ only in ${labels} and carry the same samples (e.g. ${labelsText(cs[0]!.a)} and ${labelsText(cs[0]!.b)}, ${cs[0]!.equal} of ${cs[0]!.common} points equal): declare it with ${flags}`;
    });
    details.push(`replica labels: ${replica.from}`);
    figures.copies = copies.length;
    figures.labels = [...byLabels.keys()].join(' ');
    const first = [...byLabels.keys()][0]!;
    return { ...base, status: 'finding', summary: `${copies.length} series counted twice despite dedup: they differ only in ${first}, which Query does not declare as a replica label (--query.replica-label)`, details, figures };
  }
  if (comparable === 0 && new Set(matrix.flatMap((s) => s.samples.map((x) => x.v))).size < 2) {
    return { ...base, status: 'unchecked', summary: `the probe ${options.probe} is constant (every value equal): equal samples prove nothing; use --probe with a series whose values change`, details: [`replica labels: ${replica.from}`], figures };
  }
  return { ...base, status: 'ok', summary: `${matrix.length} series, none a copy of another that differs only in external labels (${candidates.join(', ') || 'none'}) not declared as replica labels`, details: [`replica labels: ${replica.from}`], figures };
}

// ---- B: variation ----

const answerKey = (vector: readonly VectorSample[]) =>
  vector
    .map((s) => `${labelsKey(s.metric)}@${s.t}=${s.v}`)
    .sort()
    .join('\n');

export interface DistinctAnswer {
  /** How many tries gave it. */
  tries: number;
  series: number;
  /** Series whose value equals the value most tries gave for it. */
  agreeing: number;
}

export function distinctVectors(answers: readonly VectorSample[][]): DistinctAnswer[] {
  const by = new Map<string, { tries: number; vector: readonly VectorSample[] }>();
  for (const a of answers) {
    const k = answerKey(a);
    const e = by.get(k) ?? { tries: 0, vector: a };
    e.tries++;
    by.set(k, e);
  }
  // The majority value of each series over every try: what "agreeing" counts against.
  const votes = new Map<string, Map<number, number>>();
  for (const a of answers) {
    for (const s of a) {
      const k = labelsKey(s.metric);
      const m = votes.get(k) ?? new Map<number, number>();
      m.set(s.v, (m.get(s.v) ?? 0) + 1);
      votes.set(k, m);
    }
  }
  const majority = new Map([...votes].map(([k, m]) => [k, [...m.entries()].sort((x, y) => y[1] - x[1])[0]![0]]));
  return [...by.values()]
    .map(({ tries, vector }) => ({ tries, series: vector.length, agreeing: vector.filter((s) => majority.get(labelsKey(s.metric)) === s.v).length }))
    .sort((a, b) => b.tries - a.tries);
}

export function checkVariation(inputs: AuditInputs): CheckResult {
  const { variation, options } = inputs;
  const ok = variation.answers.filter((a): a is Extract<Outcome<VectorSample[]>, { ok: true }> => a.ok).map((a) => a.value);
  const failed = variation.answers.filter((a) => !a.ok) as { ok: false; error: string }[];
  const base = { id: 'B' as const };
  const at = `${options.probe} at ${isoOf(variation.time)} through ${variation.through === 'frontend' ? 'the Query Frontend' : 'Query'}`;
  if (ok.length < 2) {
    return { ...base, status: 'unchecked', summary: `${ok.length} of ${variation.answers.length} tries of ${at} answered${failed[0] ? `: ${failed[0].error}` : ''}`, details: [], figures: { tries: variation.answers.length }, plots: [] };
  }
  const distinct = distinctVectors(ok);
  const figures = { tries: variation.answers.length, answered: ok.length, distinct: distinct.length };
  const plots: Plot[] = [
    {
      kind: 'bars',
      title: `${variation.answers.length} identical instant queries of ${at}: tries per distinct answer`,
      bars: distinct.map((d, i) => ({ label: `answer ${i + 1}: ${d.series} series, ${d.agreeing} as most tries`, value: d.tries, group: i === 0 ? 'most common' : 'other' })),
      unit: 'tries',
    },
  ];
  const details = distinct.map((d, i) => `answer ${i + 1}: ${d.tries} tries, ${d.series} series, ${d.agreeing} of them with the value most tries gave`);
  if (failed.length) details.push(`${failed.length} tries failed: ${failed[0]!.error}`);
  if (distinct.length > 1) {
    return {
      ...base,
      status: 'finding',
      summary: `${distinct.length} distinct answers to ${ok.length} identical requests (${at}): the answer depends on which replica serves it (receives without replication, or Query replicas pinned to different endpoints)`,
      details,
      figures,
      plots,
    };
  }
  return { ...base, status: 'ok', summary: `${ok.length} identical requests (${at}) gave one answer, ${distinct[0]!.series} series`, details, figures, plots };
}

// ---- E: endpoints ----

export function checkEndpoints(inputs: AuditInputs): CheckResult {
  const all = entries(inputs.stores);
  const findings: string[] = [];
  for (const { type, e } of all) if (e.lastError) findings.push(`${type} ${e.name}: ${e.lastError}`);
  for (const { type, e } of all) {
    if (type === 'sidecar' && !e.lastError && e.minTime === 'unbounded' && e.maxTime === 'unbounded') findings.push(`sidecar ${e.name} has no block yet (minTime unbounded): its Prometheus has cut none, so nothing of it reaches object storage`);
  }
  // Two live sources with one label set: their blocks overlap in the bucket and the Compactor halts on them.
  const bySet = new Map<string, { labels: Labels; sources: string[] }>();
  for (const x of all) {
    if (HISTORICAL_TYPES.has(x.type) || x.type === 'query') continue;
    for (const ls of x.e.labelSets) {
      const k = labelsKey(ls);
      const v = bySet.get(k) ?? { labels: ls, sources: [] };
      if (!v.sources.includes(x.e.name)) v.sources.push(`${x.type} ${x.e.name}`);
      bySet.set(k, v);
    }
  }
  for (const { labels, sources } of bySet.values()) {
    if (sources.length > 1) findings.push(`${sources.join(' and ')} share the label set ${labelsText(labels)}: their blocks overlap and the Compactor will halt on them (give each a distinct replica label)`);
  }
  const details = [...findings];
  const figures: Record<string, number | string> = { endpoints: all.length, withErrors: all.filter((x) => x.e.lastError).length };
  if (inputs.flags.ok) {
    const f = queryFlags(inputs.flags.value);
    details.push(
      `Query's flags: replica labels ${f.replicaLabels.join(', ') || 'none'}; deduplication ${f.dedupFunc ?? 'default (penalty)'}; strict endpoints ${f.strictEndpoints.join(', ') || 'none'}; partial responses by default ${f.partialResponseDefault ?? 'unknown'}`,
    );
    figures.replicaLabels = f.replicaLabels.join(' ');
    figures.dedupFunc = f.dedupFunc ?? '';
    figures.strictEndpoints = f.strictEndpoints.length;
  } else {
    details.push(`Query's flags could not be read (${inputs.flags.error})`);
  }
  const types = Object.entries(inputs.stores).map(([t, es]) => `${es.length} ${t}`).join(', ');
  return {
    id: 'E',
    status: findings.length ? 'finding' : 'ok',
    summary: findings.length ? `${findings.length} endpoint problem(s): ${findings[0]}` : `${all.length} endpoints (${types}), none with an error, no label set shared by two sources`,
    details,
    figures,
    plots: [],
  };
}

// ---- partial answers ----

export function checkPartial(inputs: AuditInputs): CheckResult {
  const { allowed, refused } = inputs.partial;
  const failing = entries(inputs.stores).filter((x) => x.e.lastError);
  const names = failing.map((x) => `${x.type} ${x.e.name}`);
  const figures: Record<string, number | string> = { failingEndpoints: failing.length };
  const base = { id: 'partial' as const, plots: [] };
  if (!allowed.ok && !refused.ok) return { ...base, status: 'unchecked', summary: `the probe ${inputs.options.probe} failed both ways: ${allowed.error}`, details: [], figures };
  const warned = allowed.ok && allowed.warnings.length > 0;
  const details = [
    `partial_response=true: ${allowed.ok ? `HTTP 200, ${allowed.value.length} series, ${allowed.warnings.length} warning(s)${allowed.warnings[0] ? ` (${allowed.warnings[0]})` : ''}` : allowed.error}`,
    `partial_response=false: ${refused.ok ? `HTTP 200, ${refused.value.length} series, ${refused.warnings.length} warning(s)` : refused.error}`,
  ];
  if (failing.length === 0) {
    return { ...base, status: 'ok', summary: `no endpoint is failing; partial_response=true and =false answered ${allowed.ok && refused.ok && allowed.value.length === refused.value.length ? 'alike' : 'differently'}`, details, figures };
  }
  if (refused.ok && !warned && refused.warnings.length === 0) {
    return {
      ...base,
      status: 'finding',
      summary: `${failing.length} endpoint(s) failing (${names.join(', ')}) and left out without a warning: partial_response=false still answered HTTP 200 (declare them with --endpoint-strict, or alert on Query's endpoint errors)`,
      details,
      figures,
    };
  }
  return { ...base, status: 'ok', summary: `${failing.length} endpoint(s) failing (${names.join(', ')}), and Query says so: ${warned ? 'a warning with partial_response=true' : ''}${warned && !refused.ok ? ', ' : ''}${!refused.ok ? 'an error with partial_response=false' : ''}`, details, figures };
}

// ---- frontend cache ----

export interface PointDifference {
  series: Labels;
  t: number;
  frontend: number | undefined;
  query: number;
}

/** Points Query has that the frontend's answer lacks or gives another value for. */
export function pointsMissed(frontend: readonly MatrixSeries[], query: readonly MatrixSeries[]): PointDifference[] {
  const f = new Map(frontend.map((s) => [labelsKey(s.metric), new Map(s.samples.map((x) => [x.t, x.v]))]));
  const out: PointDifference[] = [];
  for (const s of query) {
    const mine = f.get(labelsKey(s.metric));
    for (const x of s.samples) {
      const v = mine?.get(x.t);
      if (v !== x.v && !(v !== undefined && Number.isNaN(v) && Number.isNaN(x.v))) out.push({ series: s.metric, t: x.t, frontend: v, query: x.v });
    }
  }
  return out;
}

export function checkCache(inputs: AuditInputs): CheckResult {
  const base = { id: 'cache' as const, plots: [] as Plot[] };
  const c = inputs.cache;
  if (!c) return { ...base, status: 'unchecked', summary: 'no --frontend given: nothing to compare Query with', details: [], figures: {} };
  const failed = [c.first, c.frontend, c.query].find((o) => !o.ok) as { ok: false; error: string } | undefined;
  if (failed) return { ...base, status: 'unchecked', summary: `the recent range could not be asked: ${failed.error}`, details: [], figures: {} };
  const [first, frontend, query] = [(c.first as { value: MatrixSeries[] }).value, (c.frontend as { value: MatrixSeries[] }).value, (c.query as { value: MatrixSeries[] }).value];
  // A cached gap: the repeat misses what Query has, exactly as the first answer did (it came from the cache).
  const firstMissed = new Set(pointsMissed(first, frontend).map((m) => `${labelsKey(m.series)}@${m.t}`));
  const missed = pointsMissed(frontend, query).filter((m) => !firstMissed.has(`${labelsKey(m.series)}@${m.t}`));
  const range = `${isoOf(c.window.start)} .. ${isoOf(c.window.end)} (step ${durationText(c.window.step)})`;
  const figures: Record<string, number | string> = { pointsQuery: query.reduce((n, s) => n + s.samples.length, 0), pointsMissed: missed.length, waitedMs: c.waitedMs };
  if (missed.length === 0) {
    return { ...base, status: 'ok', summary: `the recent range ${range}, asked again through the frontend ${durationText(c.waitedMs)} later, equals Query's answer`, details: [], figures };
  }
  const times = [...new Set(missed.map((m) => m.t))].sort((a, b) => a - b);
  const series = new Set(missed.map((m) => labelsKey(m.series))).size;
  // Zoomed on the end of the range, where a cached gap sits: 20 steps before the first missed point.
  const from = Math.max(c.window.start, times[0]! - 20 * c.window.step);
  base.plots.push({
    kind: 'timeline',
    title: `the recent range's newest ${durationText(c.window.end - from)}: points the frontend answered as Query does, and those it missed (marked)`,
    range: { from, to: c.window.end },
    rows: [
      { label: 'Query', segments: [{ from, to: c.window.end }] },
      { label: 'frontend (repeat)', segments: [{ from, to: Math.max(from, times[0]! - c.window.step) }] },
    ],
    marks: [{ label: 'cached gap', from: times[0]!, to: times.at(-1)! }],
  });
  return {
    ...base,
    status: 'finding',
    summary: `the frontend's repeat of ${range} misses ${missed.length} point(s) Query has (${series} series, ${isoOf(times[0]!)} .. ${isoOf(times.at(-1)!)}): its results cache kept a gap of the newest data (raise --query-range.response-cache-max-freshness above the ingestion lag)`,
    details: missed.slice(0, 5).map((m) => `${labelsText(m.series)} at ${isoOf(m.t)}: frontend ${m.frontend ?? 'no point'}, Query ${m.query}`),
    figures,
  };
}

export function judge(inputs: AuditInputs): CheckResult[] {
  const variation = checkVariation(inputs);
  // Where identical requests already get different answers, frontend and Query differing says nothing of a cache.
  const cache: CheckResult =
    variation.status === 'finding' && inputs.cache
      ? { id: 'cache', status: 'unchecked', summary: 'identical requests get different answers (B): a difference between the frontend and Query would not tell a cached gap from that', details: [], figures: {}, plots: [] }
      : checkCache(inputs);
  return [checkCoverage(inputs), checkCopies(inputs), variation, checkEndpoints(inputs), checkPartial(inputs), cache];
}

/** 0 clean, 1 a finding was seen. */
export const exitCodeOf = (results: readonly CheckResult[]): 0 | 1 => (results.some((r) => r.status === 'finding') ? 1 : 0);

/** One line per check: "A coverage      FINDING  ...". */
export function resultLines(results: readonly CheckResult[]): string[] {
  const word = { ok: 'ok', finding: 'FINDING', unchecked: 'could not check' } as const;
  return results.map((r) => `${CHECK_TITLES[r.id].padEnd(16)} ${word[r.status].padEnd(15)} ${r.summary}`);
}
