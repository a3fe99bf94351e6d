import { describe, expect, it } from 'vitest';
import { DEFAULT_WORKLOAD, describeValue, metricsOf, seriesIndexOf, seriesLabels, seriesSelector, valueAt, workloadOf, workloadSelector } from './series.ts';
import { alignDown, alignUp, gridPoints } from '../time.ts';

const T0 = Date.UTC(2025, 10, 24, 12, 0, 0);
const STEP = DEFAULT_WORKLOAD.stepMs;

describe('valueAt', () => {
  it('is a safe integer, so it is exact in float64 and in every wire format', () => {
    for (const t of gridPoints(T0, T0 + 3_600_000, STEP)) {
      for (let i = 0; i < DEFAULT_WORKLOAD.seriesCount; i++) {
        const v = valueAt(i, t);
        expect(Number.isSafeInteger(v)).toBe(true);
        expect(Number(String(v))).toBe(v);
      }
    }
  });

  it('differs at every grid timestamp of a series over a week, and between series', () => {
    const points = gridPoints(T0, T0 + 7 * 24 * 3_600_000, STEP);
    const seen = new Set<number>();
    for (let i = 0; i < 3; i++) for (const t of points) seen.add(valueAt(i, t));
    expect(seen.size).toBe(3 * points.length);
  });

  it('can be read back into series and second', () => {
    expect(describeValue(valueAt(7, T0))).toEqual({ series: 7, secondsMod: (T0 / 1000) % 1e6 });
    expect(describeValue(1.5)).toBeUndefined();
  });
});

describe('grid helpers', () => {
  it('aligns down and up', () => {
    expect(alignDown(T0 + 14_999, STEP)).toBe(T0);
    expect(alignDown(T0, STEP)).toBe(T0);
    expect(alignUp(T0 + 1, STEP)).toBe(T0 + STEP);
  });

  it('gridPoints includes both aligned ends and only grid timestamps', () => {
    expect(gridPoints(T0, T0 + 30_000, STEP)).toEqual([T0, T0 + 15_000, T0 + 30_000]);
    expect(gridPoints(T0 + 1, T0 + 29_999, STEP)).toEqual([T0 + 15_000]);
    expect(gridPoints(T0 + 1, T0 + 2, STEP)).toEqual([]);
  });

  it('labels carry name, job, instance and series index', () => {
    expect(seriesLabels(DEFAULT_WORKLOAD, 3)).toEqual({
      __name__: 'e2e_workload_value',
      job: DEFAULT_WORKLOAD.job,
      instance: DEFAULT_WORKLOAD.instance,
      series: '3',
    });
  });
});

describe('the cluster shape', () => {
  const w = workloadOf({ grid: '15s', workload: { series: 1000, shape: 'cluster', namespaces: 7, containersPerPod: 3 } });

  it('gives every container one series of each metric, in namespaces, pods and containers', () => {
    expect(metricsOf(w).map((m) => m.type)).toEqual(['counter', 'counter', 'gauge', 'gauge']);
    expect(seriesLabels(w, 0)).toEqual({ __name__: 'e2e_container_cpu_usage_seconds_total', job: 'workload', instance: 'workload-exporter', namespace: 'ns-0', pod: 'pod-0', container: 'c-0' });
    // Series 4..7 are the second container of pod 0; 12 the first container of pod 1 (3 containers x 4 metrics per pod).
    expect(seriesLabels(w, 5)).toMatchObject({ __name__: 'e2e_container_network_receive_bytes_total', pod: 'pod-0', container: 'c-1', namespace: 'ns-0' });
    expect(seriesLabels(w, 12)).toMatchObject({ __name__: 'e2e_container_cpu_usage_seconds_total', pod: 'pod-1', container: 'c-0', namespace: 'ns-1' });
    expect(seriesLabels(w, 7 * 12)).toMatchObject({ pod: 'pod-7', namespace: 'ns-0' });
  });

  it('has a distinct label set per series, and the labels give the index back', () => {
    const keys = new Set<string>();
    for (let i = 0; i < w.seriesCount; i++) {
      const labels = seriesLabels(w, i);
      keys.add(JSON.stringify(labels));
      expect(seriesIndexOf(w, { ...labels, prometheus_replica: 'a' })).toBe(i);
    }
    expect(keys.size).toBe(w.seriesCount);
    expect(seriesIndexOf(w, { ...seriesLabels(w, 5), namespace: 'ns-3' })).toBeUndefined(); // not a series of the workload
    expect(seriesIndexOf(w, seriesLabels({ ...w, seriesCount: 2000 }, 1500))).toBeUndefined(); // beyond its count
  });

  it('selects every series with one selector, and one series with another', () => {
    expect(workloadSelector(w)).toBe(`{__name__=~"${metricsOf(w).map((m) => m.name).join('|')}",job="workload"}`);
    expect(seriesSelector(w, 5)).toBe('e2e_container_network_receive_bytes_total{job="workload",instance="workload-exporter",namespace="ns-0",pod="pod-0",container="c-1"}');
    expect(workloadSelector(DEFAULT_WORKLOAD)).toBe('e2e_workload_value');
    expect(seriesSelector(DEFAULT_WORKLOAD, 3)).toBe('e2e_workload_value{job="workload",instance="workload-exporter",series="3"}');
  });
});
