import { describe, expect, it } from 'vitest';
import { parseExposition } from './parse-exposition.ts';
import { exposition, seriesTexts } from './exporter.ts';
import { DEFAULT_WORKLOAD, metricsOf, seriesIndexOf, valueAt, workloadOf } from './series.ts';

const T = Date.UTC(2025, 10, 24, 12, 0, 15);


describe('exposition', () => {
  it('serves each series of the cluster shape once, under its metric with its type, at its value', () => {
    const w = workloadOf({ grid: '15s', workload: { series: 1001, shape: 'cluster', namespaces: 10, containersPerPod: 2 } });
    const text = exposition(w, seriesTexts(w), T, (i) => valueAt(i, T));
    expect(text.match(/^# TYPE .*$/gm)).toEqual(metricsOf(w).map((m) => `# TYPE ${m.name} ${m.type}`));
    const parsed = parseExposition(text);
    expect(parsed).toHaveLength(1001);
    const indices = parsed.map((s) => seriesIndexOf(w, s.labels));
    expect(new Set(indices).size).toBe(1001);
    for (const [k, s] of parsed.entries()) {
      expect(s.v).toBe(valueAt(indices[k]!, T));
      expect(s.t).toBe(T);
    }
  });

  it('serves the flat shape as before: one gauge, series in order', () => {
    const text = exposition(DEFAULT_WORKLOAD, seriesTexts(DEFAULT_WORKLOAD), T, (i) => valueAt(i, T));
    expect(parseExposition(text).map((s) => s.labels.series)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(text.split('\n')[1]).toBe('# TYPE e2e_workload_value gauge');
  });
});
