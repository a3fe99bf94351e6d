// Arch 1 (sidecar), findings A and E of FINDINGS.md, plus HA-pair deduplication.
//
// The observee's HA pair gets 6h of history; Prometheus cuts real 2h blocks and the real sidecars
// ship them to S3, where the observer's Store serves them. Two query paths read that one bucket:
// a Query with Store as its only endpoint (the note's first try) misses everything newer than the
// newest shipped block; a Query over Store and the sidecars (the note's fix) answers completely
// across the block boundary. Each has its own Query Frontend; the assertions go through it.
import { describe, expect, it } from 'vitest';
import { arch1 } from '../harness/presets/arch1.ts';
import { PromApiClient, type StoreEndpoint } from '../harness/promql/client.ts';
import { metricValue } from '../harness/promql/metrics.ts';
import { expectedAggregatesAt, sampleSeed, type WindowCheck } from '../harness/promql/window-check.ts';
import { recordFinding } from '../harness/report/findings.ts';
import { log, useTopology } from '../harness/scenario.ts';
import { prepareArch1, queryPathOf, windowCheck, type Arch1Run, type QueryPath } from '../harness/steps/arch1.ts';
import { durationMs, HOUR_MS, iso } from '../harness/time.ts';
import { churnOf, lifetimeOf } from '../harness/workload/series.ts';

const hours = (ms: number) => +(ms / HOUR_MS).toFixed(2);

const preset = arch1('side-by-side');
const { topology, replicaLabel: REPLICA_LABEL } = preset;
// Bring-up and the state A and E are about: history shipped, Store loaded, both Queries current,
// live data up to the window's end. This file scales: `run --series N` (THANOS_HA_E2E_SERIES) runs
// it with N series of the cluster shape, and `--churn 10%/10m` (THANOS_HA_E2E_CHURN) replaces pods as
// it runs: the checks then expect the ended generations within the lookback beside the N alive
// (promql/window-check.ts).
const run = useTopology(
  topology,
  async (t) => {
    const r = await prepareArch1(t, { ...preset, queries: [preset.paths.storeOnly.query, preset.paths.storeAndSidecar.query] }, log);
    return { ...r, storeOnly: queryPathOf(t, preset.paths.storeOnly), storeAndSidecar: queryPathOf(t, preset.paths.storeAndSidecar) };
  },
  { scales: true },
);
/** Which series the checks read point by point: THANOS_HA_E2E_SEED=<seed> repeats a run's sample. */
const seed = sampleSeed();
const sampled = (c: WindowCheck) => ({ sampleSeed: c.sample.seed, sampledSeries: c.sample.indices.length, ...(churnOf(run().t.workload.workload) ? { churn: churnOf(run().t.workload.workload) } : {}) });
const storeOnly = () => run().storeOnly;
const storeAndSidecar = () => run().storeAndSidecar;
/** Where a finding was seen: the topology and the Query path. */
const where = (path: QueryPath) => `${topology.name} ${path.ref}`;
const pointsIn = (w: Arch1Run['window']) => (w.end - w.start) / w.step + 1;
const BLOCK_MS = durationMs(preset.prometheus.spec.blockDuration);

function expectStoreEntry(store: StoreEndpoint | undefined, r: Arch1Run): void {
  expect(store, 'Query lists the Store').toBeDefined();
  expect(store!.minTime).toBe(r.storeMinTime);
  expect(store!.maxTime).toBe(r.storeMaxTime);
  expect(store!.labelSets.map((l) => l[REPLICA_LABEL]).sort()).toEqual(r.replicas.map((p) => p.replica).sort());
}

describe('Arch 1, faulty: Query reads Store only (finding A)', () => {
  it('answers every sample up to the newest shipped block and none after it', async () => {
    const r = run();
    const n = r.t.workload.workload.seriesCount;
    const check = await windowCheck(r, storeOnly(), true, seed);
    const { aggregate, sample } = check;
    const gapPoints = (r.window.end - r.storeMaxTime) / r.window.step + 1;
    // Every series, by the aggregates: complete up to Store's maxTime (exclusive in meta.json, so its
    // own sample is gone too), then not one fresh sample to the end. At most N at a step, and under
    // churn the ended pods lingering in the lookback besides, at the steps Store has data for.
    const w = r.t.workload.workload;
    let most = 0;
    for (let t = r.window.start; t < r.storeMaxTime; t += r.window.step) most = Math.max(most, expectedAggregatesAt(w, t, r.workload.historyFromMs).all);
    if (!w.churn) expect(most).toBe(n);
    expect(aggregate.seriesInAnswer).toBe(most);
    expect(aggregate.wrongSteps).toEqual([]);
    expect(aggregate.gaps.map((g) => [iso(g.startMs), iso(g.endMs), g.points, g.fewestFresh])).toEqual([[iso(r.storeMaxTime), iso(r.window.end), gapPoints, 0]]);
    expect(aggregate.completeSteps).toBe(aggregate.steps - gapPoints);
    // The sample, point by point: one gap per series, the same (under churn, per generation: the
    // part of the gap in its lifetime; a generation born in the gap is absent altogether).
    expect(sample.analysis.summary.wrongPoints).toBe(0);
    expect(sample.analysis.summary.missingPoints).toBe(sample.indices.length * gapPoints);
    if (!w.churn) expect(sample.analysis.series).toHaveLength(sample.indices.length);
    for (const s of sample.analysis.series) {
      const { startMs, endMs } = lifetimeOf(w, s.index, s.generation);
      const from = Math.max(r.storeMaxTime, startMs);
      const to = Math.min(r.window.end, endMs - r.window.step);
      const points = from <= to ? (to - from) / r.window.step + 1 : 0;
      expect(s.missing.map((m) => [iso(m.startMs), iso(m.endMs), m.points])).toEqual(points ? [[iso(from), iso(to), points]] : []);
      expect(s.present).toBe(s.expected - points);
    }
    // Prometheus cuts the head up to its last block boundary once it spans more than 1.5 blocks:
    // what stays in the head, invisible here, spans more than half a block and at most 1.5 blocks
    // (less the half minute the window ends before now).
    const gapMs = r.window.end - r.storeMaxTime;
    expect(gapMs).toBeGreaterThan(BLOCK_MS / 2 - 60_000);
    expect(gapMs).toBeLessThanOrEqual(1.5 * BLOCK_MS);
    log(`[${where(storeOnly())}] ${check.description}`);
    recordFinding({
      finding: 'A',
      scenario: 'arch1-sidecar',
      topology: where(storeOnly()),
      substrate: r.t.substrate,
      configuration: 'faulty',
      observed: `the last ${hours(gapMs)}h of a 6h range query are missing (${iso(r.storeMaxTime)} to ${iso(r.window.end)}) for all ${n} series: Store's maxTime is the newest shipped block's end`,
      figures: { series: n, gapHours: hours(gapMs), missingPointsPerSeries: gapPoints, storeMaxTime: iso(r.storeMaxTime), blocksInBucket: r.blocks.length, ...sampled(check) },
      plots: [
        {
          kind: 'timeline',
          title: 'What Query (Store only) can answer over the 6h range query, with the missing range',
          range: { from: r.window.start, to: r.window.end },
          rows: [
            { label: 'store (bucket blocks)', segments: [{ from: r.storeMinTime, to: r.storeMaxTime }] },
            { label: 'range query', segments: [{ from: r.window.start, to: r.window.end }] },
          ],
          marks: [{ label: `missing ${hours(gapMs)}h`, from: r.storeMaxTime, to: r.window.end }],
        },
      ],
    });
  });

  it("shows only Store, with the bucket's blocks as its time range (finding E)", async () => {
    const stores = await storeOnly().query.stores();
    expect(Object.keys(stores)).toEqual(['store']);
    expect(stores.store).toHaveLength(1);
    expectStoreEntry(stores.store?.[0], run());
  });
});

describe('Arch 1, fixed: Query reads Store and the sidecars (findings A, E, HA dedup)', () => {
  it('answers every sample of the last 6h exactly once, across the block boundary', async () => {
    const r = run();
    const n = r.t.workload.workload.seriesCount;
    const check = await windowCheck(r, storeAndSidecar(), true, seed);
    const { aggregate, sample } = check;
    // The window must straddle what Store serves and what only the sidecars have.
    expect(r.window.start).toBeLessThan(r.storeMaxTime);
    expect(r.window.end).toBeGreaterThan(r.storeMaxTime);
    if (!r.t.workload.workload.churn) expect(aggregate.expectedSeriesInAnswer).toBe(n);
    expect(aggregate.seriesInAnswer).toBe(aggregate.expectedSeriesInAnswer);
    expect(aggregate, check.description).toMatchObject({ gaps: [], wrongSteps: [], completeSteps: pointsIn(r.window) });
    expect(sample.analysis.series).toHaveLength(sample.expectedSeries);
    expect(sample.analysis.summary, sample.analysis.description).toMatchObject({ missingPoints: 0, wrongPoints: 0, repeatedTimestamps: 0, ok: true });
    expect(sample.analysis.summary.presentPoints).toBe(sample.indices.length * pointsIn(r.window));
    expect(sample.analysis.series.every((s) => !(REPLICA_LABEL in s.labels))).toBe(true);
    expect(check.warnings).toEqual([]);
    recordFinding({
      finding: 'A',
      scenario: 'arch1-sidecar',
      topology: where(storeAndSidecar()),
      substrate: r.t.substrate,
      configuration: 'fixed',
      observed: `every step of a 6h range query complete for all ${n} series, and all ${sample.analysis.summary.presentPoints} points of ${sample.indices.length} sampled series present once with exact values, across the block boundary at ${iso(r.storeMaxTime)}`,
      figures: { series: n, completeSteps: aggregate.completeSteps, presentPoints: sample.analysis.summary.presentPoints, missingPoints: sample.analysis.summary.missingPoints, blockBoundary: iso(r.storeMaxTime), ...sampled(check) },
    });
  });

  it('gives N series with dedup=true and 2N with dedup=false (N per replica), each exact', async () => {
    const r = run();
    const n = r.t.workload.workload.seriesCount;
    const [dedup, noDedup] = [await windowCheck(r, storeAndSidecar(), true, seed), await windowCheck(r, storeAndSidecar(), false, seed)];
    // N series (under churn, N and the ended pods still in the lookback), and one copy per replica without dedup.
    const most = dedup.aggregate.expectedSeriesInAnswer;
    if (!r.t.workload.workload.churn) expect(most).toBe(n);
    expect(dedup.aggregate.seriesInAnswer).toBe(most);
    expect(noDedup.aggregate.seriesInAnswer).toBe(r.replicas.length * most);
    expect(noDedup.sample.analysis.series).toHaveLength(r.replicas.length * noDedup.sample.expectedSeries);
    for (const { replica } of r.replicas) expect(noDedup.sample.analysis.series.filter((s) => s.labels[REPLICA_LABEL] === replica), replica).toHaveLength(noDedup.sample.expectedSeries);
    for (const c of [dedup, noDedup]) {
      expect(c.aggregate, c.description).toMatchObject({ gaps: [], wrongSteps: [], completeSteps: pointsIn(r.window) });
      expect(c.sample.analysis.summary, c.description).toMatchObject({ missingPoints: 0, wrongPoints: 0, repeatedTimestamps: 0, ok: true });
    }
    recordFinding({
      finding: 'HA',
      scenario: 'arch1-sidecar',
      topology: where(storeAndSidecar()),
      substrate: r.t.substrate,
      configuration: 'fixed',
      observed: `dedup=true gives ${dedup.aggregate.seriesInAnswer} series, dedup=false ${noDedup.aggregate.seriesInAnswer} (one per ${REPLICA_LABEL}), every step complete and the sampled series exact`,
      figures: { dedupSeries: dedup.aggregate.seriesInAnswer, noDedupSeries: noDedup.aggregate.seriesInAnswer, replicas: r.replicas.length, ...sampled(dedup) },
    });
  });

  it("shows each sidecar's minTime as its Prometheus' oldest local block and an unbounded maxTime (finding E)", async () => {
    const r = run();
    const stores = await storeAndSidecar().query.stores();
    expect(Object.keys(stores).sort()).toEqual(['sidecar', 'store']);
    expect(stores.store).toHaveLength(1);
    expectStoreEntry(stores.store?.[0], r);
    const sidecars = stores.sidecar ?? [];
    expect(sidecars).toHaveLength(r.replicas.length);
    const figures: Record<string, string> = {};
    const rows = [{ label: 'store', segments: [{ from: r.storeMinTime, to: r.storeMaxTime }] }];
    for (const { id, replica } of r.replicas) {
      const sidecar = sidecars.find((s) => s.labelSets[0]?.[REPLICA_LABEL] === replica);
      expect(sidecar, `sidecar of ${replica}`).toBeDefined();
      expect(sidecar!.maxTime).toBe('unbounded');
      // The oldest block Prometheus still has locally (retention may have deleted shipped ones):
      const metrics = await new PromApiClient(r.t.url(id)).metrics();
      const loaded = metricValue(metrics, 'prometheus_tsdb_blocks_loaded')!;
      const shipped = r.blocks.filter((b) => b.thanos.labels[REPLICA_LABEL] === replica);
      const oldestLocal = shipped[shipped.length - loaded]!;
      // The sidecar reads prometheus_tsdb_lowest_timestamp_seconds: second precision.
      expect(sidecar!.minTime).toBe(Math.floor(oldestLocal.minTime / 1000) * 1000);
      expect(sidecar!.minTime).toBe(metricValue(metrics, 'prometheus_tsdb_lowest_timestamp_seconds')! * 1000);
      figures[`${replica}MinTime`] = iso(sidecar!.minTime as number);
      rows.push({ label: `sidecar ${replica} (to unbounded)`, segments: [{ from: sidecar!.minTime as number, to: r.window.end }] });
    }
    recordFinding({
      finding: 'E',
      scenario: 'arch1-sidecar',
      topology: where(storeAndSidecar()),
      substrate: r.t.substrate,
      configuration: 'fixed',
      observed: `Stores page: Store ${iso(r.storeMinTime)}..${iso(r.storeMaxTime)} (the bucket's blocks); sidecars from their oldest local block to unbounded`,
      figures: { ...figures, storeMinTime: iso(r.storeMinTime), storeMaxTime: iso(r.storeMaxTime) },
      plots: [
        {
          kind: 'timeline',
          title: "Stores page: each store's min/max time; the sidecars cover what Store lacks after the newest shipped block",
          range: { from: Math.min(r.storeMinTime, ...rows.map((row) => row.segments[0]!.from)), to: r.window.end },
          rows,
          marks: [{ label: 'only the sidecars have this', from: r.storeMaxTime, to: r.window.end }],
        },
      ],
    });
  });
});
