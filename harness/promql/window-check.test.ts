import { describe, expect, it } from 'vitest';
import { DEFAULT_WORKLOAD, seriesLabels, seriesSelector, workloadOf, type Workload } from '../workload/series.ts';
import { aggregateQueries, expectedIndexSums, judgeAggregates, sampleIndices, sampleQueries, sampleSeed, sumKey } from './window-check.ts';

const T0 = Date.UTC(2025, 10, 24, 12, 0, 0);
const STEP = 15_000;
const window = { start: T0, end: T0 + 9 * STEP, step: STEP };
const cluster: Workload = workloadOf({ grid: '15s', workload: { series: 100, shape: 'cluster', namespaces: 3, containersPerPod: 2 } });

/** Aggregate answers of a complete window, `copies` of each series, with `edit` applied per step. */
function answers(w: Workload, copies: number, edit: (t: number, fresh: number) => number = (_, f) => f) {
  const sums = expectedIndexSums(w);
  const fresh = new Map<number, number>();
  const all = new Map<number, number>();
  const indexSums = new Map([...sums.keys()].map((ns) => [ns, new Map<number, number>()]));
  for (let t = window.start; t <= window.end; t += STEP) {
    fresh.set(t, edit(t, w.seriesCount * copies));
    all.set(t, w.seriesCount * copies);
    for (const [ns, sum] of sums) indexSums.get(ns)!.set(t, sum * copies);
  }
  return { fresh, all, indexSums };
}

describe('judgeAggregates', () => {
  const req = (w: Workload, copies: number) => ({ workload: w, window, coveredFromMs: window.start, copies });

  it('finds every step complete when each holds N x copies fresh samples with the right index sums', () => {
    expect(judgeAggregates(req(cluster, 2), answers(cluster, 2))).toEqual({ expectedPerStep: 200, steps: 10, completeSteps: 10, gaps: [], wrongSteps: [], seriesInAnswer: 200, expectedSeriesInAnswer: 200 });
  });

  it('reports runs of steps with fewer fresh samples as gaps, with their fewest fresh samples', () => {
    const a = answers(cluster, 1, (t, f) => (t >= T0 + 6 * STEP ? 0 : t === T0 + 2 * STEP ? f - 1 : f));
    a.fresh.delete(T0 + 9 * STEP); // no fresh sample at all: count() gives no point
    const check = judgeAggregates(req(cluster, 1), a);
    expect(check.gaps).toEqual([
      { startMs: T0 + 2 * STEP, endMs: T0 + 2 * STEP, points: 1, fewestFresh: 99 },
      { startMs: T0 + 6 * STEP, endMs: T0 + 9 * STEP, points: 4, fewestFresh: 0 },
    ]);
    expect(check.completeSteps).toBe(5);
  });

  it('calls a step wrong when it holds too many fresh samples, a stale one besides, or the right count under the wrong labels', () => {
    const a = answers(cluster, 1, (t, f) => (t === T0 + STEP ? f + 1 : f));
    a.indexSums.get(sumKey('e2e_container_threads', 'ns-1'))!.set(T0 + 3 * STEP, 7);
    a.all.set(T0 + 5 * STEP, cluster.seriesCount + 1); // a series carried forward next to complete fresh ones
    expect(judgeAggregates(req(cluster, 1), a).wrongSteps).toEqual([T0 + STEP, T0 + 3 * STEP, T0 + 5 * STEP]);
  });

  it('ignores steps before the covered range', () => {
    const a = answers(DEFAULT_WORKLOAD, 1, (t, f) => (t < T0 + 3 * STEP ? 0 : f));
    expect(judgeAggregates({ ...req(DEFAULT_WORKLOAD, 1), coveredFromMs: T0 + 3 * STEP }, a)).toMatchObject({ steps: 7, completeSteps: 7, gaps: [] });
  });
});

describe('expectedIndexSums', () => {
  it('sums the series indices per metric name and namespace, all in one group for the flat shape', () => {
    const sums = expectedIndexSums(cluster);
    expect(sums.size).toBe(4 * 3);
    expect([...sums.values()].reduce((a, b) => a + b, 0)).toBe((100 * 99) / 2);
    let threadsNs1 = 0;
    for (let i = 0; i < 100; i++) {
      const l = seriesLabels(cluster, i);
      if (l.namespace === 'ns-1' && l.__name__ === 'e2e_container_threads') threadsNs1 += i;
    }
    expect(sums.get(sumKey('e2e_container_threads', 'ns-1'))).toBe(threadsNs1);
    expect(expectedIndexSums(DEFAULT_WORKLOAD)).toEqual(new Map([[sumKey('e2e_workload_value', ''), 45]]));
  });
});

describe('the sample', () => {
  it('is every series when there are no more than its size', () => {
    expect(sampleIndices(10, 32, 1)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('is `size` distinct indices, the same for the same seed and another for another', () => {
    const a = sampleIndices(100_000, 32, 42);
    expect(new Set(a).size).toBe(32);
    expect(a.every((i) => Number.isInteger(i) && i >= 0 && i < 100_000)).toBe(true);
    expect(a).toEqual([...a].sort((x, y) => x - y));
    expect(sampleIndices(100_000, 32, 42)).toEqual(a);
    expect(sampleIndices(100_000, 32, 43)).not.toEqual(a);
  });

  it('takes its seed from THANOS_HA_E2E_SEED, refusing one that is not a seed in one line', () => {
    expect(sampleSeed({ THANOS_HA_E2E_SEED: '1234' })).toBe(1234);
    expect(() => sampleSeed({ THANOS_HA_E2E_SEED: 'abc' })).toThrow(/^THANOS_HA_E2E_SEED=abc is not a seed: give an integer from 0 to 4294967295/);
    const random = sampleSeed({});
    expect(Number.isInteger(random) && random >= 0 && random < 2 ** 32).toBe(true);
  });
});

describe('sampleQueries', () => {
  // PromQL's `or` matches label sets without __name__: two series that differ only in it cannot share one.
  const withoutName = (selector: string) => selector.replace(/^[^{]*/, '');
  it('reads every sampled series, never two whose labels differ only in the metric name in one `or`', () => {
    const indices = [4, 5, 6, 7, 12, 44, 99]; // 4..7: the four metrics of one container
    const queries = sampleQueries(cluster, indices);
    expect(queries).toHaveLength(4);
    for (const q of queries) {
      const selectors = q.split(' or ');
      expect(new Set(selectors.map(withoutName)).size, q).toBe(selectors.length);
      expect(new Set(selectors.map((s) => s.replace(/\{.*$/, ''))).size, q).toBe(1);
    }
    expect(queries.flatMap((q) => q.split(' or ')).sort()).toEqual(indices.map((i) => seriesSelector(cluster, i)).sort());
    expect(sampleQueries(DEFAULT_WORKLOAD, [0, 3])).toEqual(['e2e_workload_value{job="workload",instance="workload-exporter",series="0"} or e2e_workload_value{job="workload",instance="workload-exporter",series="3"}']);
  });
});

describe('aggregateQueries', () => {
  it('reads each metric name apart: arithmetic drops __name__, and one container\'s metrics would collide', () => {
    const q = aggregateQueries(cluster);
    expect(q.map((x) => x.metric)).toEqual(cluster.shape!.metrics.map((m) => m.name));
    expect(q[0]).toEqual({
      metric: 'e2e_container_cpu_usage_seconds_total',
      fresh: 'count((e2e_container_cpu_usage_seconds_total{job="workload"} % 1000000) == (time() % 1000000))',
      all: 'count(e2e_container_cpu_usage_seconds_total{job="workload"})',
      indexSums: 'sum by (namespace) (floor(e2e_container_cpu_usage_seconds_total{job="workload"} / 1000000))',
    });
    expect(aggregateQueries(DEFAULT_WORKLOAD).map((x) => x.all)).toEqual(['count(e2e_workload_value{job="workload"})']);
  });
});
