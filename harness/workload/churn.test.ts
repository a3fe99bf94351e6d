// Churn (issue 18): pods replaced every period, every series' lifetime known from (index, churn).
// Each closed form of series.ts is compared with a derivation of its own (churn-reference.ts).
import { describe, expect, it } from 'vitest';
import { parseExposition } from './parse-exposition.ts';
import { gridPoints } from '../time.ts';
import { replayRotation, visibleAt, writtenSeries } from './churn-reference.ts';
import { exposition, SeriesTexts, seriesTexts, startExporter } from './exporter.ts';
import { decodeWriteRequest, WorkloadWriter } from './remote-write.ts';
import {
  churnOf,
  generationAt,
  generationsBetween,
  lifetimeOf,
  lingeringAt,
  podCount,
  podOf,
  podsReplacedPerPeriod,
  seriesLabels,
  seriesOf,
  seriesOfPod,
  slotSelector,
  valueAt,
  workloadOf,
  type Workload,
} from './series.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 11, 6, 12, 0, 0); // on every period boundary used here
const churning = (series: number, fraction: number, period: string, grid = '15s'): Workload =>
  workloadOf({ grid, workload: { series, shape: 'cluster', namespaces: 3, containersPerPod: 2, churn: { fraction, period } } });

/** Pod name and generation from a pod label "pod-<p>-<g>". */
const podLabel = (pod: string) => pod.split('-').slice(1).map(Number) as [number, number];

describe('the lifetime of a series under churn', () => {
  it('replaces round(fraction x pods) pods at each boundary, in rotation, as a replay of the rotation does', () => {
    // 1000 series of 8 per pod: 125 pods; 10% is 12.5, rounded to 13, which does not divide 125.
    const w = churning(1000, 0.1, '10m');
    expect([podCount(w), podsReplacedPerPeriod(w)]).toEqual([125, 13]);
    const periods = 60;
    const at = (k: number, p: number) => generationAt(w, p * 8, T0 + k * 10 * MIN)!;
    // The replay's cursor at the first period: the pod the closed form replaces first after T0.
    const first = Array.from({ length: 125 }, (_, p) => p).filter((p) => at(1, p) !== at(0, p));
    expect(first).toHaveLength(13);
    const cursor = first.find((p) => !first.includes((p + 124) % 125))!;
    const replay = replayRotation(125, 13, periods, cursor);
    for (let k = 0; k < periods; k++) for (let p = 0; p < 125; p++) expect(at(k, p) - at(0, p), `pod ${p}, period ${k}`).toBe(replay[k]![p]);
  });

  it('keeps a generation for a whole number of periods, the same for every series of a pod, and only on the grid', () => {
    const w = churning(1000, 0.2, '10m'); // 25 of 125 pods a period: each generation lives 5 periods
    for (const i of [0, 7, 8, 500, 999]) {
      const g = generationAt(w, i, T0)!;
      const { startMs, endMs } = lifetimeOf(w, i, g);
      expect(endMs - startMs).toBe(50 * MIN);
      expect(startMs).toBeLessThanOrEqual(T0);
      expect(endMs).toBeGreaterThan(T0);
      // Exactly the grid points of [start, end) belong to g: the previous one to g - 1, the end to g + 1.
      for (const t of gridPoints(startMs - 15_000, endMs, 15_000)) expect(generationAt(w, i, t)).toBe(t < startMs ? g - 1 : t < endMs ? g : g + 1);
      for (const sibling of seriesOfPod(w, podOf(w, i))) expect(lifetimeOf(w, sibling, g)).toEqual({ startMs, endMs });
      expect(generationsBetween(w, i, startMs, endMs - 1)).toEqual([g]);
      expect(generationsBetween(w, i, startMs - 1, endMs)).toEqual([g - 1, g, g + 1]);
    }
    // Staggered: at every boundary a fifth of the pods starts a new generation.
    const starts = new Map<number, number>();
    for (let p = 0; p < 125; p++) {
      const start = lifetimeOf(w, p * 8, generationAt(w, p * 8, T0)).startMs;
      starts.set(start, (starts.get(start) ?? 0) + 1);
    }
    expect([...starts.values()]).toEqual([25, 25, 25, 25, 25]);
  });

  it('names each generation in its pod label, gives index and generation back, and selects all generations of a slot', () => {
    const w = churning(100, 0.5, '5m');
    const g = generationAt(w, 13, T0)!;
    const labels = seriesLabels(w, 13, g);
    expect(labels).toMatchObject({ __name__: 'e2e_container_network_receive_bytes_total', pod: `pod-1-${g}`, container: 'c-1', namespace: 'ns-1' });
    expect(seriesOf(w, { ...labels, prometheus_replica: 'a' })).toEqual({ index: 13, generation: g });
    expect(seriesOf(w, { ...labels, pod: 'pod-1' })).toBeUndefined(); // a name without generation is not a series of this workload
    expect(() => seriesLabels(w, 13)).toThrow(/need the pod's generation/);
    const selector = slotSelector(w, 13);
    expect(selector).toBe('e2e_container_network_receive_bytes_total{job="workload",instance="workload-exporter",namespace="ns-1",container="c-1",pod=~"pod-1-[0-9]+"}');
    const pattern = new RegExp(`^${/pod=~"([^"]+)"/.exec(selector)![1]}$`);
    for (const k of [g - 3, g, g + 40]) expect(pattern.test(seriesLabels(w, 13, k).pod!)).toBe(true);
    expect(pattern.test(seriesLabels(w, 5, g).pod!)).toBe(false); // pod 0
  });

  it('is refused where it cannot hold: the flat shape, a period off the grid, a share out of range', () => {
    expect(() => workloadOf({ grid: '15s', workload: { series: 10, shape: 'flat', churn: { fraction: 0.1, period: '10m' } } })).toThrow(/needs the cluster shape/);
    expect(() => churning(100, 0.1, '20s')).toThrow(/multiple of the 15s workload grid/);
    expect(() => churning(100, 1.5, '10m')).toThrow(/at most 1/);
    expect(workloadOf({ grid: '15s', workload: { series: 100, shape: 'cluster' } }).churn).toBeUndefined();
    expect([churnOf(churning(100, 0.1, '10m')), churnOf(churning(100, 0.125, '2h')), churnOf(churning(100, 1, '45s')), churnOf(workloadOf({ grid: '15s' }))]).toEqual(['10%/10m', '12.5%/2h', '100%/45s', undefined]);
  });
});

describe('the ended generations a query still sees (lingeringAt)', () => {
  // The reference: every sample written from FROM on, and each series' newest one within the lookback.
  const cases: [string, Workload][] = [
    ['20% every 5m', churning(200, 0.2, '5m')],
    ['10% every 10m, rounded', churning(200, 0.1, '10m')],
    ['every pod every minute: several generations of one pod within the lookback', churning(40, 1, '1m')],
  ];
  for (const [name, w] of cases) {
    it(`are those the written samples show: ${name}`, () => {
      const FROM = T0 - 7 * MIN;
      const written = writtenSeries(w, FROM, T0 + 45 * MIN);
      // On the grid, and off it (the sweep's 5 min steps need not fall on the grid).
      for (const t of [...gridPoints(T0, T0 + 40 * MIN, 15_000), T0 + 7_500, T0 + 5 * MIN + 1, T0 + 10 * MIN - 1]) {
        const visible = visibleAt(written, t, 5 * MIN);
        const alive = visible.filter((v) => seriesOf(w, v.labels)!.generation === generationAt(w, v.index, t));
        expect(alive, `one series alive per slot at ${t}`).toHaveLength(w.seriesCount);
        const lingering = lingeringAt(w, t, 5 * MIN, FROM).flatMap(({ pod, generation }) => seriesOfPod(w, pod).map((i) => JSON.stringify(seriesLabels(w, i, generation))));
        const ended = visible.filter((v) => !alive.includes(v)).map((v) => JSON.stringify(v.labels));
        expect(lingering.sort(), `at ${new Date(t).toISOString()}`).toEqual(ended.sort());
      }
    });
  }

  it('leaves out what was never written, and is empty without churn', () => {
    const w = churning(200, 0.2, '5m');
    expect(lingeringAt(w, T0 + 15_000, 5 * MIN, T0 - 5 * MIN)).toHaveLength(5); // the pods replaced at T0
    expect(lingeringAt(w, T0 + 15_000, 5 * MIN, T0)).toEqual([]); // their last sample, T0 - 15 s, was before the history
    expect(lingeringAt(workloadOf({ grid: '15s', workload: { series: 200, shape: 'cluster' } }), T0 + 15_000, 5 * MIN, 0)).toEqual([]);
  });
});


describe('the exporter under churn', () => {
  it('serves each slot once, under the pod generation alive at the scrape: an ended pod is gone, its successor is there', async () => {
    const w = churning(200, 0.2, '5m'); // 25 pods, 5 replaced a period
    let now = T0 - 15_000;
    await using exporter = await startExporter({ workload: w, now: () => now });
    exporter.arm(T0 - 15_000);
    const scrape = async () => parseExposition(await (await fetch(`${exporter.url}/metrics`)).text());
    const before = await scrape();
    now = T0; // a boundary: 5 pods replaced
    const at = await scrape();
    now = T0 + 11 * MIN; // two boundaries later: served from the texts kept between scrapes
    const later = await scrape();
    for (const [samples, t] of [[before, T0 - 15_000], [at, T0], [later, T0 + 11 * MIN]] as const) {
      expect(samples).toHaveLength(200);
      expect(new Set(samples.map((s) => seriesOf(w, s.labels)!.index)).size).toBe(200);
      for (const s of samples) {
        expect(s.t).toBe(t);
        expect(s.v).toBe(valueAt(seriesOf(w, s.labels)!.index, t));
      }
    }
    const pods = (samples: typeof before) => new Set(samples.map((s) => s.labels.pod!));
    const gone = [...pods(before)].filter((p) => !pods(at).has(p));
    const came = [...pods(at)].filter((p) => !pods(before).has(p));
    expect(gone).toHaveLength(5);
    expect(came.map((p) => podLabel(p)[0]).sort()).toEqual(gone.map((p) => podLabel(p)[0]).sort()); // the same pods, ...
    for (const p of came) expect(podLabel(p)[1]).toBe(podLabel(gone.find((q) => podLabel(q)[0] === podLabel(p)[0])!)[1] + 1); // ... one generation on
    expect([...pods(later)].filter((p) => !pods(at).has(p))).toHaveLength(10);
    // The texts kept between scrapes are those rendered afresh.
    expect(later.map((s) => s.labels)).toEqual(parseExposition(exposition(w, seriesTexts(w, T0 + 11 * MIN), T0 + 11 * MIN, (i) => valueAt(i, T0 + 11 * MIN))).map((s) => s.labels));
  });

  it('needs the time for a churning workload, and serves a steady one as before', () => {
    const w = churning(16, 0.5, '1m');
    expect(() => seriesTexts(w)).toThrow(/needs the time/);
    const steady = workloadOf({ grid: '15s', workload: { series: 16, shape: 'cluster' } });
    expect(new SeriesTexts(steady).at(T0)).toEqual(new SeriesTexts(steady).at(T0 + 3_600_000));
  });
});

describe('the history writer under churn', () => {
  it('writes every slot at every grid point once per copy, each sample under the generation alive then, no series past its lifetime', () => {
    const w = churning(200, 0.2, '5m');
    const copies = [{ prometheus_replica: 'a' }, { prometheus_replica: 'b' }];
    const writer = new WorkloadWriter(w, copies);
    const from = T0 - 2 * MIN - 15_000;
    const to = T0 + 13 * MIN;
    const seen = new Set<string>();
    const labelSets = new Set<string>();
    let samples = 0;
    for (const request of writer.requests(from, to, 1_000)) {
      const series = decodeWriteRequest(request.body);
      expect(series.reduce((n, s) => n + s.samples.length, 0)).toBe(request.samples);
      expect(request.samples).toBeLessThanOrEqual(1_000);
      for (const s of series) {
        const { prometheus_replica: replica, ...own } = s.labels;
        const which = seriesOf(w, own)!;
        const { startMs, endMs } = lifetimeOf(w, which.index, which.generation);
        labelSets.add(JSON.stringify(s.labels));
        for (const { t, v } of s.samples) {
          expect(t >= startMs && t < endMs, `series ${which.index} generation ${which.generation} at ${t}`).toBe(true);
          expect(v).toBe(valueAt(which.index, t));
          const key = `${replica} ${which.index} ${t}`;
          expect(seen.has(key)).toBe(false);
          seen.add(key);
          samples++;
        }
      }
    }
    const points = gridPoints(from, to, w.stepMs);
    expect(samples).toBe(2 * 200 * points.length);
    // As many label sets as the reference writes, per copy.
    expect(labelSets.size).toBe(2 * writtenSeries(w, from, to).size);
    // Three boundaries (T0, +5m, +10m) replaced 15 pods of 8 series: 200 + 120 series per copy.
    expect(writtenSeries(w, from, to).size).toBe(320);
  });
});
