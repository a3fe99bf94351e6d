// The Compactor's downsampling: finding F "Compactor reduces storage cost" (downsampling half).
//
// Two days of workload history made in seconds, without a Prometheus: promtool writes the samples
// into one raw TSDB block, which the harness uploads with a Thanos meta.json section (external
// labels, resolution 0, source bucket.upload) under an observee's prefix (steps/uploads.ts). The
// Compactor then downsamples it, as it does any raw block of at least 40h: a 5m block appears beside
// it. Query over Store reads raw data with max_source_resolution=0s and the 5m block with 5m.
//
// Tolerance: a 5m aggregate answers a plain selector with the average of the raw samples in its
// 5m window (Thanos' count and sum aggregates), stamped with the window's last sample. At a step on
// a 5m boundary T the newest aggregate is that of [T-5m, T), whose samples lie 15 to 300 s before
// T. The workload value grows by exactly one per second (i*1e6 + unix seconds mod 1e6; the history
// holds no wrap), so the 5m answer is below the raw one by the seconds that average lies behind T:
// more than 0 and at most 300 (one window). With full windows on the 15s grid it is 157.5.
import { describe, expect, it } from 'vitest';
import { DOWNSAMPLE_5M_MIN_RANGE_MS, modelCompactorIteration, RESOLUTION_5M_MS } from '../harness/models/compaction.ts';
import { clusterLabels, PROMETHEUS_REPLICA_LABEL } from '../harness/plan/context.ts';
import { compactorDownsampling } from '../harness/presets/compactor-downsampling.ts';
import { analyseWindow, labelsKey } from '../harness/promql/analysis.ts';
import { PromApiClient } from '../harness/promql/client.ts';
import { equals, waitForStores, waitSumMetrics } from '../harness/promql/wait-metrics.ts';
import { recordFinding } from '../harness/report/findings.ts';
import { TRADE_OFFS } from '../harness/report/trade-offs.ts';
import { log, useTopology } from '../harness/scenario.ts';
import { compactorOptionsOf, modelBlockOf, prefixState, waitForFirstIteration } from '../harness/steps/compactor.ts';
import { uploadPromtoolHistory } from '../harness/steps/uploads.ts';
import { HOUR_MS } from '../harness/time.ts';
import { oneBlockWindow } from '../harness/workload/promtool-blocks.ts';

const preset = compactorDownsampling();
const { topology } = preset;
/** Two days, the most one 54h promtool block holds with room to spare, and more than the 40h a raw block needs to be downsampled. */
const DOWNSAMPLING_HISTORY_MS = 48 * HOUR_MS;

// A Compactor with --wait compacts at once when it starts: stopped right after bring-up (its first
// pass saw an empty bucket), started again once the history is uploaded.
const run = useTopology(topology, async (t) => {
  await t.stop(preset.compactor.ref);
  // Bring-up: two days of history, labelled as an observee's Prometheus (replica 0) would have.
  const history = oneBlockWindow(Date.now() - HOUR_MS, DOWNSAMPLING_HISTORY_MS);
  const labels = { ...clusterLabels(preset.uploadedAs.cluster), [PROMETHEUS_REPLICA_LABEL]: preset.uploadedAs.replica };
  const { blocks: raw, timings } = await uploadPromtoolHistory(t, { prefix: preset.prefix, labels }, history, log);
  const before = await prefixState(t, preset.prefix);
  const expected = modelCompactorIteration(before.blocks.map(modelBlockOf), compactorOptionsOf(preset.compactor));

  // The experiment: one iteration of the Compactor over it.
  await t.start(preset.compactor.ref);
  const metrics = await waitForFirstIteration(t, preset.compactor, log);
  const after = await prefixState(t, preset.prefix);
  await waitSumMetrics(preset.store.ref, t.url(preset.store.ref), equals(after.blocks.length), 'thanos_bucket_store_blocks_loaded', { onProgress: log });
  await waitForStores(preset.query.ref, new PromApiClient(t.url(preset.query.ref)), { type: 'store', count: 1, checkedAfter: Date.now() }, { onProgress: log });
  return { t, history, raw, before, after, expected, metrics, timings };
});
const SCENARIO = 'compactor-downsampling';
/** The largest lag of a 5m average behind the raw value, in value units (= seconds: the value grows one per second). */
const MAX_LAG = RESOLUTION_5M_MS / 1000;

describe('Compactor: downsampling 2 days of raw history to 5m (finding F)', () => {
  it('adds one 5m block beside the raw one, as the model says', () => {
    const r = run();
    expect(r.history.toMs - r.history.fromMs).toBe(DOWNSAMPLING_HISTORY_MS);
    expect(r.raw).toHaveLength(1);
    const raw = r.raw[0]!;
    // promtool's block: the first sample to just after the last (maxTime is exclusive).
    expect([raw.minTime, raw.maxTime]).toEqual([r.history.fromMs, r.history.toMs + 1]);
    expect(raw.maxTime - raw.minTime).toBeGreaterThanOrEqual(DOWNSAMPLE_5M_MIN_RANGE_MS);
    expect(r.expected.downsampled).toBe(1);
    const byResolution = (res: number) => r.after.blocks.filter((b) => (b.thanos.downsample?.resolution ?? 0) === res);
    expect(r.after.blocks).toHaveLength(r.expected.blocks.length);
    expect(byResolution(0).map((b) => b.ulid)).toEqual([raw.ulid]);
    const downsampled = byResolution(RESOLUTION_5M_MS);
    expect(downsampled).toHaveLength(1);
    expect(downsampled[0]).toMatchObject({ minTime: raw.minTime, maxTime: raw.maxTime, thanos: { labels: raw.thanos.labels, source: 'compactor' } });
    expect(r.metrics).toMatchObject({ halted: 0, compactions: 0, downsampled: r.expected.downsampled });
    const rawBytes = r.before.bytes;
    const downsampledBytes = r.after.bytes - r.before.bytes;
    log(`[${topology.name}] raw block ${rawBytes} bytes, 5m block ${downsampledBytes} bytes`);
    const observed = `a 48h raw block (${rawBytes} bytes, made by promtool in ${r.timings.promtoolMs} ms) got a 5m block of ${downsampledBytes} bytes (${(downsampledBytes / rawBytes).toFixed(3)} of raw); blocks ${r.before.blocks.length} -> ${r.after.blocks.length}`;
    recordFinding({
      finding: 'F',
      scenario: SCENARIO,
      topology: topology.name,
      substrate: r.t.substrate,
      configuration: 'fixed',
      observed,
      tradeOff: { row: TRADE_OFFS.compactorSaving, cells: { 'Arch 2': observed } },
      figures: { rawBytes, downsampledBytes, blocksBefore: r.before.blocks.length, blocksAfter: r.after.blocks.length, promtoolMs: r.timings.promtoolMs, uploadMs: r.timings.uploadMs },
      plots: [
        {
          kind: 'bars',
          title: 'Bucket bytes per resolution: the 48h raw block and the 5m block the Compactor made of it',
          bars: [
            { label: 'raw block', value: rawBytes, group: 'raw' },
            { label: '5m block', value: downsampledBytes, group: '5m' },
          ],
          unit: 'bytes',
        },
      ],
    });
  });

  it(`answers max_source_resolution=5m within ${MAX_LAG} (seconds of lag) below the raw answer, at every step`, async () => {
    const r = run();
    const w = r.t.workload.workload;
    const query = new PromApiClient(r.t.url(preset.query.ref));
    // Steps at the end of whole 5m windows: from the first window's to the one before the last
    // sample's (that sample opens a window of its own, whose average is the sample itself).
    const window = { start: r.history.fromMs + RESOLUTION_5M_MS, end: r.history.toMs - RESOLUTION_5M_MS, step: RESOLUTION_5M_MS };
    const raw = await query.queryRange(w.metric, { ...window, maxSourceResolution: 0 });
    const downsampled = await query.queryRange(w.metric, { ...window, maxSourceResolution: RESOLUTION_5M_MS });
    const rawAnalysis = analyseWindow(raw.result, w, window);
    expect(rawAnalysis.summary, rawAnalysis.description).toMatchObject({ missingPoints: 0, wrongPoints: 0, repeatedTimestamps: 0, ok: true });
    expect(rawAnalysis.series).toHaveLength(w.seriesCount);

    const rawByLabels = new Map(raw.result.map((s) => [labelsKey(s.metric), s.samples]));
    expect(downsampled.result.map((s) => labelsKey(s.metric)).sort()).toEqual([...rawByLabels.keys()].sort());
    const lags: number[] = [];
    for (const series of downsampled.result) {
      const rawSamples = rawByLabels.get(labelsKey(series.metric))!;
      expect(series.samples.map((s) => s.t)).toEqual(rawSamples.map((s) => s.t));
      series.samples.forEach((s, k) => lags.push(rawSamples[k]!.v - s.v));
    }
    const [minLag, maxLag] = [Math.min(...lags), Math.max(...lags)];
    expect(minLag).toBeGreaterThan(0); // the 5m block answered, not the raw one
    expect(maxLag).toBeLessThanOrEqual(MAX_LAG);
    log(`[${topology.name}] ${lags.length} points: the 5m answer lags the raw one by ${minLag}..${maxLag}`);
    const observed = `max_source_resolution=5m gave the same ${downsampled.result.length} series and ${lags.length} points as raw, each ${minLag}..${maxLag} below it (tolerance: above 0, at most ${MAX_LAG}, one 5m window of a value growing one per second)`;
    recordFinding({
      finding: 'F',
      scenario: SCENARIO,
      topology: `${topology.name} query`,
      substrate: r.t.substrate,
      configuration: 'fixed',
      observed,
      tradeOff: { row: TRADE_OFFS.compactorSaving, cells: { 'Arch 2': observed } },
      figures: { points: lags.length, series: downsampled.result.length, minLag, maxLag, tolerance: MAX_LAG },
    });
  });
});
