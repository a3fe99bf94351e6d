// Finding G: "retention deleting a block before the sidecar shipped it (object storage down)",
// thanos-io/thanos#1902, #6146, #7605.
//
// S3 goes down; meanwhile two Prometheus of one observee cut hours of 2h blocks (the history of an
// outage, written in one go). Their sidecars try to ship and fail. One Prometheus keeps the note's
// 4h retention, shorter than the outage: it deletes its oldest blocks before S3 is back, and those
// samples are gone for good. The other's retention covers the outage: once S3 is back every block
// is in the bucket and every sample answers. Both are read through Query over Store and sidecars.
import { describe, expect, it } from 'vitest';
import { EMPTY_TSDB, simulateHead, type WriteOutcome } from '../harness/models/prometheus-tsdb.ts';
import { S3_OUTAGE_HISTORY, s3Outage, type S3OutageSide } from '../harness/presets/s3-outage.ts';
import { analyseWindow, type RangeAnalysis } from '../harness/promql/analysis.ts';
import { PromApiClient } from '../harness/promql/client.ts';
import { metricSum, metricValue } from '../harness/promql/metrics.ts';
import { equals, greaterOrEqual, waitForStores, waitSumMetrics } from '../harness/promql/wait-metrics.ts';
import { recordFinding } from '../harness/report/findings.ts';
import { presentSegments, type TimelinePlot } from '../harness/report/plots.ts';
import type { BlockMeta } from '../harness/s3/bucket.ts';
import { log, useTopology } from '../harness/scenario.ts';
import type { RunningTopology } from '../harness/substrates/index.ts';
import { alignDown, durationMs, HOUR_MS, iso } from '../harness/time.ts';
import { backfill } from '../harness/workload/remote-write.ts';

const preset = s3Outage();
const { topology } = preset;

// The experiment, in order: S3 stopped; hours of history written in one go (the state a real outage
// of that length reaches: with S3 down nothing could have been shipped in between, and the TSDB's
// end state does not depend on how the write is split, see models/prometheus-tsdb.ts); each sidecar
// fails to ship; S3 started again and the sidecars ship what is still on disk. simulateHead predicts
// what each Prometheus cuts and what its retention deletes before S3 is back.
type Configuration = S3OutageSide;

/** What one Prometheus and its sidecar went through. */
interface OutageSide {
  configuration: Configuration;
  /** Instance ids. */
  prometheus: string;
  sidecar: string;
  /** Its prometheus_replica: what tells its series and blocks apart. */
  replica: string;
  retentionMs: number;
  /** simulateHead's prediction for the history written in one go. */
  predicted: WriteOutcome;
  /** Once the cuts are done, during the outage: prometheus_tsdb_blocks_loaded and prometheus_tsdb_lowest_timestamp_seconds (ms). */
  localBlocks: number;
  lowestMs: number;
  /** prometheus_tsdb_time_retentions_total then: reloads in which time retention deleted blocks. */
  retentionRuns: number;
  /** prometheus_tsdb_compactions_total then: with no block compacted further, the blocks cut from the head. */
  compactions: number;
  /** The sidecar's own counters at the outage's end. */
  dirSyncFailures: number;
  uploadFailures: number;
  existsFailures: number;
  /** thanos_shipper_uploads_total once it has shipped everything it still had. */
  uploads: number;
  /** Its blocks in the bucket after recovery, oldest first. */
  shipped: BlockMeta[];
}

interface OutageRun {
  t: RunningTopology;
  /** The history written while S3 was down: grid timestamps fromMs..toMs, both included. */
  history: { fromMs: number; toMs: number; stepMs: number };
  /** Wall time S3 was down. */
  outageMs: number;
  sides: Record<Configuration, OutageSide>;
  /** The Query over Store and both sidecars. */
  query: PromApiClient;
  /** Blocks Store loaded after recovery. */
  storeBlocks: number;
}

async function prepareS3Outage(t: RunningTopology): Promise<OutageRun> {
  const step = t.workload.workload.stepMs;
  const now = Date.now();
  const history = { fromMs: alignDown(now - durationMs(S3_OUTAGE_HISTORY), step), toMs: alignDown(now, step), stepMs: step };

  const sides = {} as Record<Configuration, Pick<OutageSide, 'configuration' | 'prometheus' | 'sidecar' | 'replica' | 'retentionMs' | 'predicted'>>;
  for (const configuration of Object.keys(preset.sides) as Configuration[]) {
    const handles = preset.sides[configuration];
    const spec = handles.prometheus.spec;
    const prometheus = t.plan.processes.find((p) => p.id === handles.prometheus.instances[0])!;
    const params = { blockMs: durationMs(spec.blockDuration), retentionMs: durationMs(spec.retention) };
    sides[configuration] = {
      configuration,
      prometheus: prometheus.id,
      sidecar: handles.sidecar.instances[0]!,
      replica: prometheus.externalLabels[preset.replicaLabel]!,
      retentionMs: params.retentionMs,
      predicted: simulateHead(EMPTY_TSDB, history.fromMs, history.toMs, params),
    };
  }
  const all = Object.values(sides);

  const outageStarted = Date.now();
  await t.stopS3();
  log(`  S3 stopped; writing ${S3_OUTAGE_HISTORY} of history in one go into ${all.map((s) => s.prometheus).join(', ')}`);
  await Promise.all(all.map((s) => backfill(`${t.url(s.prometheus)}/api/v1/write`, t.workload.workload, history.fromMs, history.toMs)));
  // The head's min time moves past a block only after the reload that applied retention.
  await Promise.all(all.map((s) => waitSumMetrics(s.prometheus, t.url(s.prometheus), equals(s.predicted.state.head!.minTime), 'prometheus_tsdb_head_min_time', { onProgress: log })));
  const local = await Promise.all(
    all.map(async (s) => {
      const metrics = await new PromApiClient(t.url(s.prometheus)).metrics();
      return {
        localBlocks: metricValue(metrics, 'prometheus_tsdb_blocks_loaded')!,
        lowestMs: metricValue(metrics, 'prometheus_tsdb_lowest_timestamp_seconds')! * 1000,
        retentionRuns: metricValue(metrics, 'prometheus_tsdb_time_retentions_total')!,
        compactions: metricValue(metrics, 'prometheus_tsdb_compactions_total')!,
      };
    }),
  );
  // Nothing was cut before the history, so a failed sync is one that met S3 down with blocks to ship.
  await Promise.all(all.map((s) => waitSumMetrics(s.sidecar, t.url(s.sidecar), greaterOrEqual(1), 'thanos_shipper_dir_sync_failures_total', { onProgress: log })));
  const failures = await Promise.all(
    all.map(async (s) => {
      const metrics = await new PromApiClient(t.url(s.sidecar)).metrics();
      return {
        dirSyncFailures: metricSum(metrics, 'thanos_shipper_dir_sync_failures_total') ?? 0,
        uploadFailures: metricSum(metrics, 'thanos_shipper_upload_failures_total') ?? 0,
        existsFailures: metricSum(metrics, 'thanos_objstore_bucket_operation_failures_total', { operation: 'exists' }) ?? 0,
      };
    }),
  );
  await t.startS3();
  const outageMs = Date.now() - outageStarted;
  log(`  S3 back after ${(outageMs / 1000).toFixed(1)}s`);

  // Each sidecar ships what its Prometheus still has: no block is cut after the history.
  await Promise.all(all.map((s, i) => waitSumMetrics(s.sidecar, t.url(s.sidecar), equals(local[i]!.localBlocks), 'thanos_shipper_uploads_total', { onProgress: log })));
  const uploads = await Promise.all(all.map(async (s) => metricSum(await new PromApiClient(t.url(s.sidecar)).metrics(), 'thanos_shipper_uploads_total') ?? 0));
  const blocks = await t.bucket.blocks(preset.prefix);
  await waitSumMetrics(preset.store.ref, t.url(preset.store.ref), equals(blocks.length), 'thanos_bucket_store_blocks_loaded', { onProgress: log });
  const storeLoadedAt = Date.now();
  const query = new PromApiClient(t.url(preset.query.ref));
  // Query refreshes its endpoints' time ranges every few seconds: one check made after Store loaded the blocks.
  await waitForStores(preset.query.ref, query, { count: all.length + 1, checkedAfter: storeLoadedAt }, { onProgress: log });

  const done = Object.fromEntries(
    all.map((s, i) => [
      s.configuration,
      { ...s, ...local[i]!, ...failures[i]!, uploads: uploads[i]!, shipped: blocks.filter((b) => b.thanos.labels[preset.replicaLabel] === s.replica) },
    ]),
  ) as Record<Configuration, OutageSide>;
  return { t, history, outageMs, sides: done, query, storeBlocks: blocks.length };
}

const run = useTopology(topology, prepareS3Outage, { faults: ['stopS3'] });

const hours = (ms: number) => +(ms / HOUR_MS).toFixed(2);
const ranges = (blocks: { minTime: number; maxTime: number }[]) => blocks.map((b) => [iso(b.minTime), iso(b.maxTime)]);

/** One Prometheus' series over the whole history, through Query (Store + both sidecars). */
async function historyAnalysis(r: OutageRun, side: OutageSide): Promise<RangeAnalysis> {
  const workload = r.t.workload.workload;
  const answer = await r.query.queryRange(`${workload.metric}{${preset.replicaLabel}="${side.replica}"}`, { start: r.history.fromMs, end: r.history.toMs, step: r.history.stepMs });
  return analyseWindow(answer.result, workload, { start: r.history.fromMs, end: r.history.toMs, step: r.history.stepMs });
}

/** What both configurations share: the cuts as predicted, a failed ship during the outage, every block still on disk shipped after it. */
function expectOutageAsPredicted(r: OutageRun, side: OutageSide): void {
  const { cut, deleted } = side.predicted;
  const kept = cut.slice(deleted.length);
  expect(side.compactions, `${side.prometheus} blocks cut`).toBe(cut.length);
  expect(side.localBlocks, `${side.prometheus} blocks on disk`).toBe(kept.length);
  expect(side.lowestMs, `${side.prometheus} lowest timestamp`).toBe(kept[0]!.minTime);
  expect(side.dirSyncFailures, `${side.sidecar} failed syncs during the outage`).toBeGreaterThanOrEqual(1);
  expect(side.existsFailures, `${side.sidecar} failed bucket checks`).toBeGreaterThanOrEqual(1);
  // Without --shipper.allow-out-of-order-upload a failed sync stops at the first block it cannot check:
  // the failure shows in the dir-sync counter, not in the upload-failure one.
  expect(side.uploadFailures).toBe(0);
  expect(side.uploads, `${side.sidecar} blocks shipped after the outage`).toBe(kept.length);
  expect(ranges(side.shipped)).toEqual(ranges(kept));
}

/** The figures of one configuration: measured, and simulateHead's prediction beside them where it has one. */
function figures(r: OutageRun, side: OutageSide, lostPoints: number, lostMs: number): Record<string, number | string> {
  return {
    outageSeconds: +(r.outageMs / 1000).toFixed(1),
    outageHistoryHours: hours(r.history.toMs - r.history.fromMs),
    retentionHours: hours(side.retentionMs),
    dirSyncFailuresDuringOutage: side.dirSyncFailures,
    existsFailuresDuringOutage: side.existsFailures,
    uploadFailuresDuringOutage: side.uploadFailures,
    blocksCut: side.compactions,
    blocksCutPredicted: side.predicted.cut.length,
    blocksDeletedBeforeShipping: side.compactions - side.localBlocks,
    blocksDeletedPredicted: side.predicted.deleted.length,
    timeRetentionRuns: side.retentionRuns,
    blocksShipped: side.shipped.length,
    lostPointsPerSeries: lostPoints,
    lostPointsPerSeriesPredicted: side.predicted.deleted.reduce((sum, b) => sum + (b.maxTime - b.minTime) / r.history.stepMs, 0),
    lostHours: hours(lostMs),
    lostHoursPredicted: hours(side.predicted.deleted.reduce((sum, b) => sum + b.maxTime - b.minTime, 0)),
  };
}

/** One Prometheus over the history cut during the outage: what it still holds, what it shipped, what Query answers; a loss marked. */
function historyPlot(r: OutageRun, side: OutageSide, analysis: RangeAnalysis, marks: TimelinePlot['marks'] = []): TimelinePlot {
  const { fromMs, toMs, stepMs } = r.history;
  return {
    kind: 'timeline',
    title: `${side.prometheus} (${hours(side.retentionMs)}h retention) over the ${hours(toMs - fromMs)}h cut while S3 was down: held locally, shipped, answered`,
    range: { from: fromMs, to: toMs },
    rows: [
      { label: 'Prometheus holds', segments: [{ from: side.lowestMs, to: toMs }] },
      { label: `shipped (${side.shipped.length} blocks)`, segments: side.shipped.map((b) => ({ from: b.minTime, to: b.maxTime })) },
      { label: 'Query answers (series 0)', segments: presentSegments(fromMs, toMs, stepMs, analysis.series[0]!.missing) },
    ],
    marks,
  };
}

describe('S3 outage, faulty: retention (4h) shorter than the outage (finding G)', () => {
  it("deletes the oldest blocks before the sidecar can ship them: their samples are gone from every query path", async () => {
    const r = run();
    const side = r.sides.faulty;
    const { deleted } = side.predicted;
    // The outage is longer than the retention: retention deletes at least one unshipped block.
    expect(deleted.length).toBeGreaterThan(0);
    expectOutageAsPredicted(r, side);

    const analysis = await historyAnalysis(r, side);
    const lostUntil = deleted.at(-1)!.maxTime;
    const predictedPoints = (lostUntil - r.history.fromMs) / r.history.stepMs;
    expect(analysis.series).toHaveLength(r.t.workload.workload.seriesCount);
    expect(analysis.summary.wrongPoints).toBe(0);
    expect(analysis.summary.repeatedTimestamps).toBe(0);
    for (const s of analysis.series) {
      // One hole per series, from the first sample to the end of the newest deleted block (exclusive).
      expect(s.missing.map((m) => [iso(m.startMs), iso(m.endMs), m.points])).toEqual([[iso(r.history.fromMs), iso(lostUntil - r.history.stepMs), predictedPoints]]);
      expect(s.present).toBe(s.expected - predictedPoints);
    }
    // The loss as the answers show it (the same in every series, as just asserted).
    const hole = analysis.series[0]!.missing[0]!;
    const lostPoints = hole.points;
    const lostMs = hole.endMs + r.history.stepMs - hole.startMs;
    log(`[${topology.name} ${side.prometheus}] ${analysis.description}`);
    recordFinding({
      finding: 'G',
      scenario: 's3-outage',
      topology: `${topology.name} ${side.prometheus}`,
      substrate: r.t.substrate,
      configuration: 'faulty',
      observed: `S3 down ${(r.outageMs / 1000).toFixed(0)}s while ${hours(r.history.toMs - r.history.fromMs)}h of blocks were cut: ${hours(side.retentionMs)}h retention deleted ${side.compactions - side.localBlocks} of ${side.compactions} blocks before the sidecar (${side.dirSyncFailures} failed syncs) could ship them; ${lostPoints} points per series (${hours(lostMs)}h, ${iso(hole.startMs)} to ${iso(hole.endMs + r.history.stepMs)}) are lost, as simulateHead predicted`,
      figures: figures(r, side, lostPoints, lostMs),
      plots: [historyPlot(r, side, analysis, [{ label: `lost ${hours(lostMs)}h`, from: hole.startMs, to: hole.startMs + lostMs }])],
    });
  });
});

describe('S3 outage, fixed: retention (12h) that covers the outage (finding G)', () => {
  it('keeps every block until S3 is back: all are shipped and every sample answers', async () => {
    const r = run();
    const side = r.sides.fixed;
    const n = r.t.workload.workload.seriesCount;
    expect(side.predicted.deleted).toHaveLength(0);
    expectOutageAsPredicted(r, side);
    expect(side.retentionRuns).toBe(0);

    const analysis = await historyAnalysis(r, side);
    expect(analysis.series).toHaveLength(n);
    expect(analysis.summary, analysis.description).toMatchObject({ missingPoints: 0, wrongPoints: 0, repeatedTimestamps: 0, ok: true });
    expect(analysis.summary.presentPoints).toBe(n * ((r.history.toMs - r.history.fromMs) / r.history.stepMs + 1));
    expect(r.storeBlocks).toBe(r.sides.faulty.shipped.length + side.shipped.length);
    recordFinding({
      finding: 'G',
      scenario: 's3-outage',
      topology: `${topology.name} ${side.prometheus}`,
      substrate: r.t.substrate,
      configuration: 'fixed',
      observed: `S3 down ${(r.outageMs / 1000).toFixed(0)}s while ${hours(r.history.toMs - r.history.fromMs)}h of blocks were cut: with ${hours(side.retentionMs)}h retention all ${side.compactions} blocks waited on disk (${side.dirSyncFailures} failed syncs) and were shipped once S3 was back; all ${analysis.summary.presentPoints} points answer`,
      figures: figures(r, side, analysis.summary.missingPoints / n, 0),
      plots: [historyPlot(r, side, analysis)],
    });
  });
});
