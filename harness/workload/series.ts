// The deterministic workload: a few series whose value at every grid timestamp is known in advance,
// so any query answer can be checked sample by sample without storing what was written.
import { durationMs } from '../time.ts';

export interface Workload {
  /** The one metric of the flat shape (the findings' default); ignored by the cluster shape. */
  metric: string;
  seriesCount: number;
  /** Distance between two samples of a series (the "grid"); timestamps are multiples of it. */
  stepMs: number;
  job: string;
  instance: string;
  /** undefined: the flat shape, one metric with a `series` label per series. */
  shape?: ClusterShape;
  /** undefined: no churn, every series lives for ever (the findings' workload). Cluster shape only. */
  churn?: Churn;
}

/**
 * Churn (issue 18): pods that end and new ones that start, as a Deployment's rollouts do. Every
 * period, `fraction` of the pods is replaced: the pod's series end, and the same slots go on under
 * a new pod name (`pod-<p>-<generation>`), so N series are active at every moment and the head
 * sees N x (1 + fraction x span / period) series over a span. Which pods are replaced, and every
 * series' lifetime [start, end), is a pure function of (series index, churn): see generationAt.
 */
export interface Churn {
  /** Share of the pods replaced every period, in (0, 1]; at least one pod a period. */
  fraction: number;
  /** A multiple of the workload's step: replacements happen on the grid. */
  periodMs: number;
}

/**
 * A label shape like a Kubernetes cluster's, for runs at scale: several metric names (counters and
 * gauges), each series a container of a pod in a namespace. Series i is
 *   metric    metrics[i % M]                      (M metric names)
 *   container c-(j % containersPerPod)            where j = floor(i / M), the container's index
 *   pod       pod-(floor(j / containersPerPod))
 *   namespace ns-(pod index % namespaces)
 * so every container has one series of each metric, and (metric, pod, container) gives i back.
 * Values are valueAt(i, t) for every metric: a counter's grows by one per second (it wraps every
 * 11.6 days, which reads as a counter reset), a gauge's is the same number declared a gauge.
 */
export interface ClusterShape {
  metrics: { name: string; type: 'counter' | 'gauge' }[];
  namespaces: number;
  containersPerPod: number;
}

export const DEFAULT_CLUSTER_SHAPE: ClusterShape = {
  metrics: [
    { name: 'e2e_container_cpu_usage_seconds_total', type: 'counter' },
    { name: 'e2e_container_network_receive_bytes_total', type: 'counter' },
    { name: 'e2e_container_memory_working_set_bytes', type: 'gauge' },
    { name: 'e2e_container_threads', type: 'gauge' },
  ],
  namespaces: 10,
  containersPerPod: 2,
};

export const DEFAULT_WORKLOAD: Workload = {
  metric: 'e2e_workload_value',
  seriesCount: 10,
  stepMs: 15_000,
  job: 'workload',
  instance: 'workload-exporter',
};

/** The workload a topology runs: its series count and shape, on the topology's grid. */
export function workloadOf(topology: {
  grid: string;
  workload?: { series: number; shape: 'flat' | 'cluster'; namespaces?: number; containersPerPod?: number; churn?: { fraction: number; period: string } | undefined };
}): Workload {
  const spec = topology.workload;
  const w: Workload = { ...DEFAULT_WORKLOAD, stepMs: durationMs(topology.grid), seriesCount: spec?.series ?? DEFAULT_WORKLOAD.seriesCount };
  if (spec?.shape === 'cluster') {
    w.shape = {
      ...DEFAULT_CLUSTER_SHAPE,
      namespaces: spec.namespaces ?? DEFAULT_CLUSTER_SHAPE.namespaces,
      containersPerPod: spec.containersPerPod ?? DEFAULT_CLUSTER_SHAPE.containersPerPod,
    };
  }
  if (spec?.churn) {
    const periodMs = durationMs(spec.churn.period);
    if (!w.shape) throw new Error(`churn ${spec.churn.fraction}/${spec.churn.period}: churn replaces pods, so it needs the cluster shape (give a series count too: --series N)`);
    if (!(spec.churn.fraction > 0 && spec.churn.fraction <= 1)) throw new Error(`churn ${spec.churn.fraction}/${spec.churn.period}: the fraction must be above 0 and at most 1 (or 100%)`);
    if (periodMs <= 0 || periodMs % w.stepMs !== 0) throw new Error(`churn ${spec.churn.fraction}/${spec.churn.period}: the period must be a multiple of the ${topology.grid} workload grid, such as 10m or 1h`);
    w.churn = { fraction: spec.churn.fraction, periodMs };
  }
  return w;
}

/** Every metric name the workload writes, with its type. */
export function metricsOf(w: Workload): { name: string; type: 'counter' | 'gauge' }[] {
  return w.shape?.metrics ?? [{ name: w.metric, type: 'gauge' }];
}

/** A PromQL selector of every workload series (and nothing else). */
export function workloadSelector(w: Workload): string {
  if (!w.shape) return w.metric;
  return `{__name__=~"${w.shape.metrics.map((m) => m.name).join('|')}",job="${w.job}"}`;
}

/**
 * A PromQL selector of exactly series i (all its copies, e.g. one per replica label); under churn,
 * of its given generation (see slotSelector for all of them).
 */
export function seriesSelector(w: Workload, i: number, generation?: number): string {
  const { __name__: name, ...labels } = seriesLabels(w, i, generation);
  return `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`;
}

/** A PromQL selector of every generation of series i (seriesSelector where there is no churn). */
export function slotSelector(w: Workload, i: number): string {
  if (!w.churn) return seriesSelector(w, i);
  const { __name__: name, pod, ...labels } = seriesLabels(w, i, 0);
  const podPattern = `${pod!.replace(/-0$/, '')}-[0-9]+`;
  return `${name}{${[...Object.entries(labels).map(([k, v]) => `${k}="${v}"`), `pod=~"${podPattern}"`].join(',')}}`;
}

/**
 * Label set of series i, including __name__. The backfill, the exporter and the checks use exactly
 * this. Under churn the pod's generation is part of its name, and must be given (generationAt).
 */
export function seriesLabels(w: Workload, i: number, generation?: number): Record<string, string> {
  const shape = w.shape;
  if (!shape) return { __name__: w.metric, job: w.job, instance: w.instance, series: String(i) };
  const m = shape.metrics.length;
  const container = Math.floor(i / m);
  const pod = Math.floor(container / shape.containersPerPod);
  if (w.churn && generation === undefined) throw new Error(`series ${i} of a churning workload: its labels need the pod's generation (generationAt)`);
  return {
    __name__: shape.metrics[i % m]!.name,
    job: w.job,
    instance: w.instance,
    namespace: `ns-${pod % shape.namespaces}`,
    pod: w.churn ? `pod-${pod}-${generation}` : `pod-${pod}`,
    container: `c-${container % shape.containersPerPod}`,
  };
}

/** The inverse of seriesLabels: which series a label set is (extra labels, e.g. a replica's, allowed). */
export function seriesIndexOf(w: Workload, labels: Record<string, string>): number | undefined {
  return seriesOf(w, labels)?.index;
}

/** The inverse of seriesLabels with the generation: undefined where there is no churn. */
export function seriesOf(w: Workload, labels: Record<string, string>): { index: number; generation: number | undefined } | undefined {
  const shape = w.shape;
  let index: number | undefined;
  let generation: number | undefined;
  if (!shape) {
    if (labels.__name__ !== undefined && labels.__name__ !== w.metric) return undefined;
    const text = labels.series;
    if (text === undefined || !/^\d+$/.test(text)) return undefined;
    index = Number(text);
  } else {
    const m = shape.metrics.findIndex((x) => x.name === labels.__name__);
    const pod = (w.churn ? /^pod-(\d+)-(\d+)$/ : /^pod-(\d+)$/).exec(labels.pod ?? '');
    const container = /^c-(\d+)$/.exec(labels.container ?? '');
    if (m < 0 || !pod || !container || Number(container[1]) >= shape.containersPerPod) return undefined;
    index = (Number(pod[1]) * shape.containersPerPod + Number(container[1])) * shape.metrics.length + m;
    if (w.churn) generation = Number(pod[2]);
    if (index >= w.seriesCount || labels.namespace !== seriesLabels(w, index, generation).namespace) return undefined;
  }
  return index < w.seriesCount ? { index, generation } : undefined;
}

/** The churn as --churn spells it ("20%/5m"), or undefined without churn: for reports and log lines. */
export function churnOf(w: Workload): string | undefined {
  if (!w.churn) return undefined;
  const p = w.churn.periodMs;
  const period = p % 3_600_000 === 0 ? `${p / 3_600_000}h` : p % 60_000 === 0 ? `${p / 60_000}m` : `${p / 1000}s`;
  return `${+(w.churn.fraction * 100).toFixed(4)}%/${period}`;
}

// ---- churn: which generation of each pod lives when ----
//
// The pods are replaced in rotation, R = round(fraction x pods) of them a period (at least 1):
// think of an endless row of positions q = 0, 1, 2, ..., position q being generation floor(q / P)
// of pod q mod P (P pods). The period k (from the epoch: [k x period, (k+1) x period)) starts
// positions [k R, (k+1) R): those pods end their generation and start the next at k x period.
// So each generation lives P / R periods (rounded to whole periods), and the generation of pod p
// during period k is the last position of p before (k+1) R: floor(((k+1) R - 1 - p) / P).

/** How many pods the cluster shape spreads the series over (the last one may be partial). */
export function podCount(w: Workload): number {
  const shape = w.shape;
  if (!shape) return w.seriesCount;
  return Math.ceil(w.seriesCount / (shape.metrics.length * shape.containersPerPod));
}

/** The pod series i belongs to. */
export function podOf(w: Workload, i: number): number {
  const shape = w.shape;
  return shape ? Math.floor(Math.floor(i / shape.metrics.length) / shape.containersPerPod) : i;
}

/** Pods replaced at every period boundary (undefined without churn). */
export function podsReplacedPerPeriod(w: Workload): number | undefined {
  if (!w.churn) return undefined;
  const pods = podCount(w);
  return Math.min(pods, Math.max(1, Math.round(w.churn.fraction * pods)));
}

/** The generation of pod p alive at tMs (churn only). */
export function podGenerationAt(w: Workload, p: number, tMs: number): number {
  const k = Math.floor(tMs / w.churn!.periodMs);
  return Math.floor(((k + 1) * podsReplacedPerPeriod(w)! - 1 - p) / podCount(w));
}

/** The generation of series i alive at tMs (undefined without churn: the series lives for ever). */
export function generationAt(w: Workload, i: number, tMs: number): number | undefined {
  return w.churn ? podGenerationAt(w, podOf(w, i), tMs) : undefined;
}

/** When generation g of series i lives: [startMs, endMs), both on the grid. Without churn: for ever. */
export function lifetimeOf(w: Workload, i: number, generation: number | undefined): { startMs: number; endMs: number } {
  if (!w.churn || generation === undefined) return { startMs: -Infinity, endMs: Infinity };
  const r = podsReplacedPerPeriod(w)!;
  const q = generation * podCount(w) + podOf(w, i);
  return { startMs: Math.floor(q / r) * w.churn.periodMs, endMs: Math.floor((q + podCount(w)) / r) * w.churn.periodMs };
}

/** The generations of series i alive at some time in [fromMs, toMs], oldest first ([undefined] without churn). */
export function generationsBetween(w: Workload, i: number, fromMs: number, toMs: number): (number | undefined)[] {
  if (!w.churn) return [undefined];
  const first = generationAt(w, i, fromMs)!;
  const last = generationAt(w, i, toMs)!;
  return Array.from({ length: last - first + 1 }, (_, k) => first + k);
}

/**
 * The pods whose previous generation still shows at tMs (any time, on the grid or not): it ended at
 * a boundary B <= t (its successor has started) with its last sample, at B - step, inside the
 * lookback (t - lookback < B - step: left-open, as in Prometheus 3) and written (B - step >=
 * writtenFromMs). A query at t sees such a series beside its successor: there is no staleness
 * marker, as the exporter's samples carry their own timestamps (and remote-written history has
 * none). A pod replaced twice within the lookback is listed twice.
 */
export function lingeringAt(w: Workload, tMs: number, lookbackMs: number, writtenFromMs: number): { pod: number; generation: number; lastSampleMs: number }[] {
  if (!w.churn) return [];
  const { periodMs } = w.churn;
  const step = w.stepMs;
  const r = podsReplacedPerPeriod(w)!;
  const pods = podCount(w);
  const found: { pod: number; generation: number; lastSampleMs: number }[] = [];
  for (let k = Math.floor((tMs - lookbackMs + step) / periodMs); k * periodMs <= tMs; k++) {
    const lastSampleMs = k * periodMs - step;
    if (lastSampleMs <= tMs - lookbackMs || lastSampleMs < writtenFromMs) continue;
    for (let q = k * r; q < (k + 1) * r; q++) found.push({ pod: q % pods, generation: Math.floor(q / pods) - 1, lastSampleMs });
  }
  return found;
}

/** The series indices of pod p (every metric of every container, below the series count). */
export function seriesOfPod(w: Workload, p: number): number[] {
  const shape = w.shape;
  if (!shape) return p < w.seriesCount ? [p] : [];
  const perPod = shape.metrics.length * shape.containersPerPod;
  const out: number[] = [];
  for (let i = p * perPod; i < Math.min(w.seriesCount, (p + 1) * perPod); i++) out.push(i);
  return out;
}

/** 1e6 seconds ≈ 11.6 days: the period after which a series' values repeat. */
const VALUE_PERIOD_S = 1_000_000;

/**
 * Value of series i at time tMs:  i * 1e6 + (whole seconds since the epoch mod 1e6).
 *
 * - Deterministic and an integer below 2^53, so exact in float64 and in every wire format.
 * - Different at every grid timestamp of a series within 11.6 days, so a sample that is missing
 *   in storage shows up in a range query as a wrong value (the previous one, carried forward by
 *   the lookback), never as a coincidentally right one.
 * - Different between series (series i owns [i*1e6, (i+1)*1e6)), so samples that end up under the
 *   wrong labels are wrong values too. A value can be read back by a human: see describeValue.
 */
export function valueAt(i: number, tMs: number): number {
  const seconds = Math.floor(tMs / 1000);
  return i * VALUE_PERIOD_S + (((seconds % VALUE_PERIOD_S) + VALUE_PERIOD_S) % VALUE_PERIOD_S);
}

/** Reads a workload value back: which series produced it and at which second (mod 1e6 s). */
export function describeValue(v: number): { series: number; secondsMod: number } | undefined {
  if (!Number.isInteger(v) || v < 0) return undefined;
  return { series: Math.floor(v / VALUE_PERIOD_S), secondsMod: v % VALUE_PERIOD_S };
}
