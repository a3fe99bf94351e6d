// Finding G: "retention deleting a block before the sidecar shipped it (object storage down)",
// thanos-io/thanos#1902, #6146, #7605.
//
// S3 goes down; meanwhile two Prometheus of one observee cut hours of 2h blocks (the history of an
// outage, written in one go). Their sidecars try to ship and fail. One Prometheus keeps the note's
// 4h retention, shorter than the outage: it deletes its oldest blocks before S3 is back, and those
// samples are gone for good. The other's retention covers the outage: once S3 is back every block
// is in the bucket and every sample answers. Both are read through Query over Store and sidecars.
import { describe, expect, it } from 'vitest';
import { prepareS3Outage, type OutageRun, type OutageSide } from '../harness/flows/s3-outage.ts';
import { PROMETHEUS_REPLICA_LABEL } from '../harness/plan/context.ts';
import { analyseWindow, type RangeAnalysis } from '../harness/promql/analysis.ts';
import { recordFinding } from '../harness/report/findings.ts';
import { presentSegments, type TimelinePlot } from '../harness/report/plots.ts';
import { log, useTopology } from '../harness/scenario.ts';
import { s3Outage } from '../harness/topology/presets-s3-outage.ts';
import { HOUR_MS } from '../harness/time.ts';

const topology = s3Outage();
const run = useTopology(topology, (t) => prepareS3Outage(t, log));

const iso = (ms: number) => new Date(ms).toISOString();
const hours = (ms: number) => +(ms / HOUR_MS).toFixed(2);
const ranges = (blocks: { minTime: number; maxTime: number }[]) => blocks.map((b) => [iso(b.minTime), iso(b.maxTime)]);

/** One Prometheus' series over the whole history, through Query (Store + both sidecars). */
async function historyAnalysis(r: OutageRun, side: OutageSide): Promise<RangeAnalysis> {
  const workload = r.t.workload.workload;
  const answer = await r.query.queryRange(`${workload.metric}{${PROMETHEUS_REPLICA_LABEL}="${side.replica}"}`, { start: r.history.fromMs, end: r.history.toMs, step: r.history.stepMs });
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
