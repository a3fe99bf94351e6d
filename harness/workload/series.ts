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
export function workloadOf(topology: { grid: string; workload?: { series: number; shape: 'flat' | 'cluster'; namespaces?: number; containersPerPod?: number } }): Workload {
  const spec = topology.workload;
  const w: Workload = { ...DEFAULT_WORKLOAD, stepMs: durationMs(topology.grid), seriesCount: spec?.series ?? DEFAULT_WORKLOAD.seriesCount };
  if (spec?.shape === 'cluster') {
    w.shape = {
      ...DEFAULT_CLUSTER_SHAPE,
      namespaces: spec.namespaces ?? DEFAULT_CLUSTER_SHAPE.namespaces,
      containersPerPod: spec.containersPerPod ?? DEFAULT_CLUSTER_SHAPE.containersPerPod,
    };
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

/** A PromQL selector of exactly series i (all its copies, e.g. one per replica label). */
export function seriesSelector(w: Workload, i: number): string {
  const { __name__: name, ...labels } = seriesLabels(w, i);
  return `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`;
}

/** Label set of series i, including __name__. The backfill, the exporter and the checks use exactly this. */
export function seriesLabels(w: Workload, i: number): Record<string, string> {
  const shape = w.shape;
  if (!shape) return { __name__: w.metric, job: w.job, instance: w.instance, series: String(i) };
  const m = shape.metrics.length;
  const container = Math.floor(i / m);
  const pod = Math.floor(container / shape.containersPerPod);
  return {
    __name__: shape.metrics[i % m]!.name,
    job: w.job,
    instance: w.instance,
    namespace: `ns-${pod % shape.namespaces}`,
    pod: `pod-${pod}`,
    container: `c-${container % shape.containersPerPod}`,
  };
}

/** The inverse of seriesLabels: which series a label set is (extra labels, e.g. a replica's, allowed). */
export function seriesIndexOf(w: Workload, labels: Record<string, string>): number | undefined {
  const shape = w.shape;
  let index: number | undefined;
  if (!shape) {
    if (labels.__name__ !== undefined && labels.__name__ !== w.metric) return undefined;
    const text = labels.series;
    if (text === undefined || !/^\d+$/.test(text)) return undefined;
    index = Number(text);
  } else {
    const m = shape.metrics.findIndex((x) => x.name === labels.__name__);
    const pod = /^pod-(\d+)$/.exec(labels.pod ?? '');
    const container = /^c-(\d+)$/.exec(labels.container ?? '');
    if (m < 0 || !pod || !container || Number(container[1]) >= shape.containersPerPod) return undefined;
    index = (Number(pod[1]) * shape.containersPerPod + Number(container[1])) * shape.metrics.length + m;
    if (labels.namespace !== seriesLabels(w, index).namespace) return undefined;
  }
  return index < w.seriesCount ? index : undefined;
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
