// Arch 1 (sidecar), findings A and E of FINDINGS.md, plus HA-pair deduplication.
//
// The observee's HA pair gets 6h of history; Prometheus cuts real 2h blocks and the real sidecars
// ship them to S3, where the observer's Store serves them. With Store as Query's only endpoint
// (the note's first try) everything newer than the newest shipped block is invisible; adding the
// sidecars (the note's fix) makes the answer complete across the block boundary.
import { describe, expect, it } from 'vitest';
import { prepareArch1, rangeAnalysis, REPLICA_LABEL, type Arch1Run } from '../harness/flows/arch1.ts';
import { PromApiClient, type StoreEndpoint } from '../harness/promql/client.ts';
import { metricValue } from '../harness/promql/metrics.ts';
import { recordFinding } from '../harness/report/findings.ts';
import { log, useTopology } from '../harness/scenario.ts';
import { arch1 } from '../harness/topology/presets.ts';
import { HOUR_MS } from '../harness/workload/history.ts';

const iso = (ms: number) => new Date(ms).toISOString();
const hours = (ms: number) => +(ms / HOUR_MS).toFixed(2);

function expectStoreEntry(store: StoreEndpoint | undefined, run: Arch1Run): void {
  expect(store, 'Query lists the Store').toBeDefined();
  expect(store!.minTime).toBe(run.storeMinTime);
  expect(store!.maxTime).toBe(run.storeMaxTime);
  expect(store!.labelSets.map((l) => l[REPLICA_LABEL]).sort()).toEqual(['prometheus-0', 'prometheus-1']);
}

describe('Arch 1, faulty: Query reads Store only (finding A)', () => {
  let run: Arch1Run;
  useTopology(arch1('store-only'), async (t) => {
    run = await prepareArch1(t, 'store-only', log);
  });

  it('answers every sample up to the newest shipped block and none after it', async () => {
    const analysis = await rangeAnalysis(run, true);
    const gapPoints = (run.window.end - run.storeMaxTime) / run.window.step + 1;
    expect(analysis.series).toHaveLength(10);
    expect(analysis.summary.wrongPoints).toBe(0);
    for (const s of analysis.series) {
      // One gap per series, from Store's maxTime (exclusive in meta.json, so its own sample is gone too) to the end.
      expect(s.missing.map((m) => [iso(m.startMs), iso(m.endMs), m.points])).toEqual([[iso(run.storeMaxTime), iso(run.window.end), gapPoints]]);
      expect(s.present).toBe(s.expected - gapPoints);
    }
    // Prometheus cuts a block once its head spans more than 3h, so 1h to 3h stay invisible.
    const gapMs = run.window.end - run.storeMaxTime;
    expect(gapMs).toBeGreaterThan(1 * HOUR_MS - 60_000);
    expect(gapMs).toBeLessThanOrEqual(3 * HOUR_MS);
    log(`[arch1-store-only] ${analysis.description}`);
    recordFinding({
      finding: 'A',
      scenario: 'arch1-sidecar',
      topology: 'arch1-store-only',
      substrate: run.t.substrate,
      configuration: 'faulty',
      observed: `the last ${hours(gapMs)}h of a 6h range query are missing (${iso(run.storeMaxTime)} to ${iso(run.window.end)}): Store's maxTime is the newest shipped block's end`,
      figures: { gapHours: hours(gapMs), missingPointsPerSeries: gapPoints, storeMaxTime: iso(run.storeMaxTime), blocksInBucket: run.blocks.length },
    });
  });

  it("shows Store's time range as the bucket's blocks (finding E)", async () => {
    const stores = await run.query.stores();
    expect(Object.keys(stores)).toEqual(['store']);
    expectStoreEntry(stores.store?.[0], run);
  });
});

describe('Arch 1, fixed: Query reads Store and the sidecars (findings A, E, HA dedup)', () => {
  let run: Arch1Run;
  useTopology(arch1('store-and-sidecar'), async (t) => {
    run = await prepareArch1(t, 'store-and-sidecar', log);
  });

  it('answers every sample of the last 6h exactly once, across the block boundary', async () => {
    const analysis = await rangeAnalysis(run, true);
    // The window must straddle what Store serves and what only the sidecars have.
    expect(run.window.start).toBeLessThan(run.storeMaxTime);
    expect(run.window.end).toBeGreaterThan(run.storeMaxTime);
    expect(analysis.series).toHaveLength(10);
    expect(analysis.summary, analysis.description).toMatchObject({ missingPoints: 0, wrongPoints: 0, repeatedTimestamps: 0, ok: true });
    expect(analysis.summary.presentPoints).toBe(10 * ((run.window.end - run.window.start) / run.window.step + 1));
    expect(analysis.series.every((s) => !(REPLICA_LABEL in s.labels))).toBe(true);
    recordFinding({
      finding: 'A',
      scenario: 'arch1-sidecar',
      topology: 'arch1-store-and-sidecar',
      substrate: run.t.substrate,
      configuration: 'fixed',
      observed: `all ${analysis.summary.presentPoints} expected points of a 6h range query present once with exact values, across the block boundary at ${iso(run.storeMaxTime)}`,
      figures: { presentPoints: analysis.summary.presentPoints, missingPoints: 0, blockBoundary: iso(run.storeMaxTime) },
    });
  });

  it('keeps both replicas apart with dedup=false: 2N series, each exact', async () => {
    const analysis = await rangeAnalysis(run, false);
    expect(analysis.series).toHaveLength(20);
    expect(analysis.series.map((s) => s.labels[REPLICA_LABEL]).filter((r) => r === 'prometheus-0')).toHaveLength(10);
    expect(analysis.summary, analysis.description).toMatchObject({ missingPoints: 0, wrongPoints: 0, repeatedTimestamps: 0, ok: true });
    recordFinding({
      finding: 'HA',
      scenario: 'arch1-sidecar',
      topology: 'arch1-store-and-sidecar',
      substrate: run.t.substrate,
      configuration: 'fixed',
      observed: 'dedup=true gives 10 series, dedup=false 20 (one per prometheus_replica), all values exact',
      figures: { dedupSeries: 10, noDedupSeries: analysis.series.length },
    });
  });

  it("shows each sidecar's minTime as its Prometheus' oldest local block and an unbounded maxTime (finding E)", async () => {
    const stores = await run.query.stores();
    expect(Object.keys(stores).sort()).toEqual(['sidecar', 'store']);
    expectStoreEntry(stores.store?.[0], run);
    const sidecars = stores.sidecar ?? [];
    expect(sidecars).toHaveLength(2);
    const figures: Record<string, string> = {};
    for (const replica of ['prometheus-0', 'prometheus-1']) {
      const sidecar = sidecars.find((s) => s.labelSets[0]?.[REPLICA_LABEL] === replica);
      expect(sidecar, `sidecar of ${replica}`).toBeDefined();
      expect(sidecar!.maxTime).toBe('unbounded');
      // The oldest block Prometheus still has locally (retention may have deleted shipped ones):
      const metrics = await new PromApiClient(run.t.url(`observee/${replica}`)).metrics();
      const loaded = metricValue(metrics, 'prometheus_tsdb_blocks_loaded')!;
      const shipped = run.blocks.filter((b) => b.thanos.labels[REPLICA_LABEL] === replica);
      const oldestLocal = shipped[shipped.length - loaded]!;
      // The sidecar reads prometheus_tsdb_lowest_timestamp_seconds: second precision.
      expect(sidecar!.minTime).toBe(Math.floor(oldestLocal.minTime / 1000) * 1000);
      expect(sidecar!.minTime).toBe(metricValue(metrics, 'prometheus_tsdb_lowest_timestamp_seconds')! * 1000);
      figures[`${replica}MinTime`] = iso(sidecar!.minTime as number);
    }
    recordFinding({
      finding: 'E',
      scenario: 'arch1-sidecar',
      topology: 'arch1-store-and-sidecar',
      substrate: run.t.substrate,
      configuration: 'fixed',
      observed: `Stores page: Store ${iso(run.storeMinTime)}..${iso(run.storeMaxTime)} (the bucket's blocks); sidecars from their oldest local block to unbounded`,
      figures: { ...figures, storeMinTime: iso(run.storeMinTime), storeMaxTime: iso(run.storeMaxTime) },
    });
  });
});
