// Issue 20, finding 1: a remote-write backlog after an outage (thanos-io/thanos #4831, #4077, #2114).
//
// The observee's Prometheus remote-writes 10k series to a Receive in the observer. The link between
// the clusters is cut for longer than the Receive's head accepts old samples (half a block: 30 s
// with this preset's 2m blocks), while another writer (a second observee: the harness, 10 series
// a slot) keeps the head's newest sample moving. When the link is back, Prometheus sends what it
// scraped meanwhile, oldest first.
// - Faulty (Thanos' defaults): every backlog sample older than the head's newest minus half a
//   block is refused as out of bounds (HTTP 409), and Prometheus, which does not retry a 409, drops
//   it. The lost range per series is exactly the one the head model (models/receive-head.ts)
//   predicts from the other writer's newest sample, and Receive's own counter counts exactly those
//   samples, the workload's and the scrapes' report samples alike.
// - Fixed: an out-of-order window longer than the outage: nothing is lost; the same samples are
//   appended out of order instead, and Receive counts them as such. Then the Compactor side of the
//   fix, as the window's flag help asks for ("make sure you have the
//   --compact.enable-vertical-compaction flag enabled, otherwise you might risk compactor halt"):
//   Receive ships its blocks, and those its out-of-order head cuts cover minutes it also shipped in
//   order, under one label set. A Compactor without vertical compaction halts on them (the faulty
//   side of this half); one with it merges them, and Store over the merged blocks answers every
//   point once, as Receive did.
// Prometheus' own TSDB holds everything it scraped: the report samples older than the bound are
// counted there.
import { describe, expect, it } from 'vitest';
import { nextSlotAfter, quietSnapshot, receiveSide, REPORT_SAMPLES_PER_SCRAPE, sidesDelta, waitForOutOfOrderCompaction, writeAsClient, type ClientWrite } from '../harness/steps/ingest.ts';
import { modelCompactorIteration } from '../harness/models/compaction.ts';
import { minValidTimeMs, outOfOrderBlockRanges, verdictOf, type HeadOptions, type Verdict } from '../harness/models/receive-head.ts';
import { analyseWindow, labelsKey } from '../harness/promql/analysis.ts';
import { PromApiClient, type RangeQueryResponse } from '../harness/promql/client.ts';
import { equals, greaterOrEqual, waitForStores, waitSumMetrics } from '../harness/promql/wait-metrics.ts';
import { recordFinding } from '../harness/report/findings.ts';
import type { BarsPlot, TimelinePlot } from '../harness/report/plots.ts';
import type { BlockMeta } from '../harness/s3/bucket.ts';
import { log, useTopology } from '../harness/scenario.ts';
import { compactorOptionsOf, HALT_LOG, modelBlockOf, OVERLAP_ERROR, prefixState, waitForFirstIteration } from '../harness/steps/compactor.ts';
import { logLines } from '../harness/steps/logs.ts';
import type { RunningTopology } from '../harness/substrates/index.ts';
import { alignDown, durationMs, gridPoints, iso } from '../harness/time.ts';
import { tenantOf, type Handle } from '../harness/presets/handles.ts';
import { BACKLOG_VARIANTS, receiveBacklog, type BacklogCompaction } from '../harness/presets/receive-backlog.ts';
import { goLiveOnAFreshSlot } from '../harness/steps/live.ts';
import { workloadSelector } from '../harness/workload/series.ts';

/** How long the link stays cut: longer than half the preset's block (30 s), so that part of the backlog falls out of bounds. */
const OUTAGE_MS = 45_000;
/** The other writer: a second observee's series, one sample a slot each. */
const OTHER_SERIES = 10;


/**
 * Writes one sample of each of the other observee's series for every grid slot from now until
 * untilMs (at most untilMs / step + 1 writes), each once the cut-off Prometheus has scraped that slot
 * itself (its own prometheus_tsdb_head_max_time), as a second observee on the same grid would.
 * Returns every answer and the newest slot written.
 */
async function keepHeadMoving(t: RunningTopology, receive: string, prometheus: string, untilMs: number): Promise<{ writes: ClientWrite[]; lastSlotMs: number }> {
  const step = t.workload.workload.stepMs;
  const writes: ClientWrite[] = [];
  let lastSlotMs = Number.NaN;
  for (let slot = alignDown(Date.now(), step); slot <= untilMs; slot += step) {
    await waitSumMetrics(prometheus, t.url(prometheus), greaterOrEqual(slot), 'prometheus_tsdb_head_max_time', { timeoutMs: 4 * step, intervalMs: 100, onProgress: log });
    const series = Array.from({ length: OTHER_SERIES }, (_, i) => ({ labels: { __name__: 'e2e_other_observee', cluster: 'observee-b', series: String(i) }, samples: [{ t: slot, v: i }] }));
    writes.push(await writeAsClient(t, receive, series));
    lastSlotMs = slot;
  }
  return { writes, lastSlotMs };
}

/** The Compactor side of the fix: what the bucket held, and what each Compactor made of it. */
async function compactTheBacklog(t: RunningTopology, c: BacklogCompaction, receive: Handle<'receive'>, window: { start: number; end: number; step: number }) {
  // Receive cuts its out-of-order head into blocks on its own schedule (every block length, once
  // its head's oldest sample is 1.5 of them old), never when it stops: so first one such cut after
  // the backlog landed; then Receive is stopped, which cuts the rest of its in-order head and
  // uploads every block it holds. The prefix then holds all the query above read, and stays so.
  const startedMs = Date.now();
  const outOfOrderCompactions = await waitForOutOfOrderCompaction(t, receive, log);
  const outOfOrderCutMs = Date.now() - startedMs;
  await t.stop(receive.ref);
  const landed = await prefixState(t, c.prefix);
  log(`  Receive cut its out-of-order head ${(outOfOrderCutMs / 1000).toFixed(1)} s after the query; stopped, ${c.prefix}/ holds ${landed.blocks.length} blocks, ${landed.blocks.filter(fromOutOfOrder).length} of them from the out-of-order head`);

  // The Compactor without vertical compaction: one iteration, read while it runs (its log too: on
  // Kubernetes a stopped pod's log is gone), then stopped before the other starts.
  await t.start(c.halting.ref);
  const haltingMetrics = await waitForFirstIteration(t, c.halting, log);
  const haltLines = (await logLines(t, c.halting.ref, OVERLAP_ERROR)).filter((l) => l.includes(HALT_LOG));
  const afterHalting = await prefixState(t, c.prefix);
  await t.stop(c.halting.ref);

  // The one with it, on the same blocks.
  await t.start(c.vertical.ref);
  const verticalMetrics = await waitForFirstIteration(t, c.vertical, log);
  const merged = await prefixState(t, c.prefix);

  // Store has loaded what the iteration left (every state it can have synced in between held more
  // blocks: a merged block is uploaded before its sources go), and the Query over it has checked it since.
  await waitSumMetrics(c.store.ref, t.url(c.store.ref), equals(merged.blocks.length), 'thanos_bucket_store_blocks_loaded', { onProgress: log });
  const query = new PromApiClient(t.url(c.storeQuery.ref));
  await waitForStores(c.storeQuery.ref, query, { type: 'store', count: 1, checkedAfter: Date.now() }, { onProgress: log });
  const answer = await query.queryRange(workloadSelector(t.workload.workload), { ...window, dedup: true, partialResponse: false });
  const totalMs = Date.now() - startedMs;
  log(`  the Compactor side took ${(totalMs / 1000).toFixed(1)} s, ${(outOfOrderCutMs / 1000).toFixed(1)} s of it waiting for Receive's out-of-order cut`);
  return {
    timings: { outOfOrderCutMs, totalMs },
    outOfOrderCompactions,
    landed,
    halting: { metrics: haltingMetrics, haltLines, after: afterHalting, expected: modelCompactorIteration(landed.blocks.map(modelBlockOf), compactorOptionsOf(c.halting)) },
    vertical: { metrics: verticalMetrics, after: merged, expected: modelCompactorIteration(afterHalting.blocks.map(modelBlockOf), compactorOptionsOf(c.vertical)) },
    answer,
  };
}

/** A block the TSDB cut from its out-of-order head (meta.json's compaction hint). */
const fromOutOfOrder = (b: BlockMeta) => b.compaction.hints?.includes('from-out-of-order') ?? false;
const overlap = (a: { minTime: number; maxTime: number }, b: { minTime: number; maxTime: number }) => a.minTime < b.maxTime && b.minTime < a.maxTime;
const shape = (blocks: { minTime: number; maxTime: number; labels: Record<string, string> }[]) =>
  blocks.map((b) => ({ minTime: b.minTime, maxTime: b.maxTime, labels: b.labels })).sort((a, b) => a.minTime - b.minTime || a.maxTime - b.maxTime);
/** Each series' samples by its labels, for a point-by-point comparison. */
const byLabels = (answer: RangeQueryResponse) => Object.fromEntries(answer.result.map((s) => [labelsKey(s.metric), s.samples]));

describe.each(BACKLOG_VARIANTS)('a remote-write backlog after a link outage (#4831), %s', (variant) => {
  const preset = receiveBacklog(variant);
  const head: HeadOptions = { blockMs: durationMs(preset.blockDuration), outOfOrderWindowMs: durationMs(preset.outOfOrderWindow), tooFarInFutureWindowMs: 0 };
  const run = useTopology(preset.topology, async (t) => {
    // Bring-up: the Compactors (fixed variant) stopped at once: each ran its first iteration as it
    // started, over a prefix Receive had shipped nothing to yet, and runs again only when started below.
    for (const c of preset.compaction ? [preset.compaction.halting, preset.compaction.vertical] : []) await t.stop(c.ref);
    // The workload live, two slots delivered and read on both sides with nothing in flight.
    const w = t.workload.workload;
    const { liveFromMs, prometheus } = await goLiveOnAFreshSlot(t, log);
    const writers = { prometheus, receives: [preset.receive.ref], tenant: tenantOf(preset.receive) };
    const own = new PromApiClient(t.url(preset.prometheus.ref)); // Prometheus' own TSDB: all it scraped
    const before = await quietSnapshot(t, writers, liveFromMs + w.stepMs, log);
    const upSelector = `up{job="${w.job}"}`;
    const lastUp = await own.query(`timestamp(${upSelector})`, { time: before.atMs });
    if (lastUp.resultType !== 'vector' || lastUp.result.length !== 1) throw new Error(`${preset.prometheus.ref} has no single ${upSelector} to date the last delivered scrape`);
    const lastDeliveredScrapeMs = Math.round(lastUp.result[0]!.v * 1000);

    // The experiment: the link is cut while the other observee writes on, then restored. Cut at
    // once after the read, seconds before the next scrape: Receive's newest sample is then that
    // scrape's (a test checks it).
    await t.cutLink(...preset.link);
    const cutAtMs = Date.now();
    const atCut = await receiveSide(t, preset.receive.ref, tenantOf(preset.receive));
    const other = await keepHeadMoving(t, preset.receive.ref, preset.prometheus.ref, cutAtMs + OUTAGE_MS);
    const atRestore = await receiveSide(t, preset.receive.ref, tenantOf(preset.receive));
    await t.restoreLink(...preset.link);
    const restoredAtMs = Date.now();
    log(`  link cut ${iso(cutAtMs)} to ${iso(restoredAtMs)}; the other writer's last slot ${iso(other.lastSlotMs)}; Receive's head ${iso(atRestore.headMinTimeMs ?? 0)} to ${iso(atRestore.headMaxTimeMs ?? 0)}`);

    // Catch-up: a slot scraped after the restore delivered, both sides read.
    const after = await quietSnapshot(t, writers, nextSlotAfter(restoredAtMs, w.stepMs), log);
    const window = { start: liveFromMs, end: after.slotMs, step: w.stepMs };
    const answer = await new PromApiClient(t.url(preset.query.ref)).queryRange(workloadSelector(w), { ...window, dedup: true, partialResponse: false });

    // The model's verdict on every slot of the backlog (scraped after the last delivered one), each
    // series in order, against the head as the other writer left it.
    const headAtRestore = { maxTimeMs: atRestore.headMaxTimeMs, lastBlockEndMs: atRestore.headMinTimeMs };
    const minValid = minValidTimeMs(headAtRestore, head);
    const verdicts = new Map<number, Verdict>();
    for (const s of gridPoints(before.slotMs + w.stepMs, window.end, w.stepMs)) verdicts.set(s, verdictOf(s, restoredAtMs, headAtRestore, head, s - w.stepMs));
    // The scrapes after the last delivered one whose report samples are older than the bound, in
    // Prometheus' own TSDB: their times in (lastDeliveredScrapeMs, minValid).
    const spanMs = minValid - 1 - lastDeliveredScrapeMs;
    const older = spanMs > 0 ? await own.query(`${upSelector}[${spanMs}ms]`, { time: minValid - 1 }) : undefined;
    const olderScrapeTimes = older?.resultType === 'matrix' ? older.result.flatMap((x) => x.samples.map((p) => p.t)) : [];

    // The fixed variant goes on to the Compactor side of the fix.
    const compaction = preset.compaction ? await compactTheBacklog(t, preset.compaction, preset.receive, window) : undefined;

    return {
      t,
      before,
      lastDeliveredScrapeMs,
      atCut,
      after,
      atRestore,
      other,
      cutAtMs,
      restoredAtMs,
      minValid,
      verdicts,
      olderScrapeTimes,
      window,
      answer,
      analysis: analyseWindow(answer.result, w, window),
      warnings: answer.warnings ?? [],
      compaction,
    };
  }, { faults: ['cutLink'] });

  const n = () => run().t.workload.workload.seriesCount;
  const delta = () => sidesDelta(run().before, run().after);
  const receiveDelta = () => delta().receives[preset.receive.ref]!;
  /** Backlog slots the model says fall behind the head's bound (out of bounds, or out of order inside the window). */
  const olderSlots = () => [...run().verdicts].filter(([, v]) => v === (variant === 'faulty' ? 'out-of-bounds' : 'out-of-order-appended')).map(([s]) => s);
  /** Samples behind the bound: the workload's in those slots and the report samples of the scrapes before it. */
  const olderSamples = () => n() * olderSlots().length + REPORT_SAMPLES_PER_SCRAPE * run().olderScrapeTimes.length;

  function countsPlot(): BarsPlot {
    const d = delta();
    const r = receiveDelta();
    return {
      kind: 'bars',
      title: 'From the last read before the cut to the first after the catch-up, as each side counted',
      bars: [
        { label: 'Prometheus: sent (retries included)', value: d.prometheus.sent, group: 'Prometheus' },
        { label: 'Prometheus: retried', value: d.prometheus.retried, group: 'Prometheus' },
        { label: 'Prometheus: failed (dropped)', value: d.prometheus.failed, group: 'Prometheus' },
        { label: 'Receive: in 409 answers', value: r.samplesByCode['409'] ?? 0, group: 'Receive' },
        { label: 'Receive: out of bounds', value: r.outOfBounds, group: 'Receive' },
        { label: 'Receive: appended out of order', value: r.outOfOrderAppended, group: 'Receive' },
        { label: 'model: behind the bound', value: olderSamples(), group: 'model' },
      ],
      unit: 'samples',
    };
  }

  it('keeps the head moving through the outage: the other writer is accepted, and Prometheus retries', () => {
    const { other, atRestore, atCut, lastDeliveredScrapeMs } = run();
    // Nothing was delivered between the last read and the cut: Receive's newest sample was that scrape's.
    expect(atCut.headMaxTimeMs).toBe(lastDeliveredScrapeMs);
    expect(other.writes.map((x) => x.status)).toEqual(other.writes.map(() => 200));
    expect(atRestore.headMaxTimeMs).toBe(other.lastSlotMs);
    expect(delta().prometheus.retried).toBeGreaterThan(0);
    // The outage outlasted half a block: part of the backlog is behind the bound.
    expect(olderSlots().length).toBeGreaterThan(0);
  });

  if (variant === 'faulty') {
    it('loses, per series, exactly the backlog slots the head model puts out of bounds', () => {
      const { analysis, window, warnings } = run();
      const older = olderSlots();
      expect(warnings).toEqual([]);
      expect(analysis.series).toHaveLength(n());
      const expectedMissing = `${iso(older[0]!)}..${iso(older.at(-1)!)} (${older.length})`;
      const ranges = new Set(analysis.series.map((s) => s.missing.map((m) => `${iso(m.startMs)}..${iso(m.endMs)} (${m.points})`).join(', ')));
      expect([...ranges], analysis.description.slice(0, 300)).toEqual([expectedMissing]);
      expect(analysis.summary.missingPoints).toBe(n() * older.length);
      expect(analysis.summary.wrongPoints).toBe(0);
      expect(older.every((s) => s > window.start)).toBe(true);
    });

    it("counts the same samples on Receive's side: out of bounds is the model's count, 409s are what Prometheus dropped", () => {
      const { prometheus } = delta();
      const r = receiveDelta();
      expect(r.outOfBounds).toBe(olderSamples());
      expect(r.outOfOrderAppended).toBe(0);
      expect(r.samplesByCode['409']).toBe(prometheus.failed);
      // Prometheus drops a 409 request whole; Receive appended the rest of each such request.
      expect(prometheus.failed).toBeGreaterThanOrEqual(r.outOfBounds);

      const { analysis, other, restoredAtMs, cutAtMs, olderScrapeTimes } = run();
      recordFinding({
        finding: 'G',
        scenario: 'receive-backlog',
        topology: preset.topology.name,
        substrate: run().t.substrate,
        configuration: 'faulty',
        observed:
          `link cut ${((restoredAtMs - cutAtMs) / 1000).toFixed(0)}s while another writer moved Receive's head (${preset.blockDuration} blocks: appendable back to half of that); ` +
          `of the backlog, ${olderSlots().length} slots per series (${analysis.summary.missingPoints} workload points, plus ${REPORT_SAMPLES_PER_SCRAPE * olderScrapeTimes.length} report samples) were out of bounds, as the head model predicted, and lost; ` +
          `Prometheus dropped ${prometheus.failed} samples in 409 answers (Receive: ${r.samplesByCode['409']}), after ${prometheus.retried} retried during the outage`,
        figures: {
          series: n(),
          'outage s': +((restoredAtMs - cutAtMs) / 1000).toFixed(1),
          'other writer samples': other.writes.length * OTHER_SERIES,
          'slots lost per series': olderSlots().length,
          'Receive out of bounds': r.outOfBounds,
          'Receive samples in 409 answers': r.samplesByCode['409'] ?? 0,
          'Prometheus samples failed': prometheus.failed,
          'Prometheus samples retried': prometheus.retried,
        },
        plots: [countsPlot()],
      });
    });
  } else {
    it('loses nothing: every point of every series answers', () => {
      const { analysis, window, warnings } = run();
      expect(warnings).toEqual([]);
      expect(analysis.series).toHaveLength(n());
      expect(analysis.summary, analysis.description.slice(0, 300)).toMatchObject({ missingPoints: 0, wrongPoints: 0, ok: true });
      expect(analysis.summary.presentPoints).toBe(n() * ((window.end - window.start) / window.step + 1));
    });

    it('appends out of order exactly the samples behind the bound, and refuses none', () => {
      const { prometheus } = delta();
      const r = receiveDelta();
      expect(r.outOfOrderAppended).toBe(olderSamples());
      expect(r.outOfBounds).toBe(0);
      expect(r.samplesByCode['409'] ?? 0).toBe(0);
      expect(prometheus.failed).toBe(0);

      const { analysis, restoredAtMs, cutAtMs } = run();
      recordFinding({
        finding: 'G',
        scenario: 'receive-backlog',
        topology: preset.topology.name,
        substrate: run().t.substrate,
        configuration: 'fixed',
        observed:
          `link cut ${((restoredAtMs - cutAtMs) / 1000).toFixed(0)}s as in the faulty run; with a ${preset.outOfOrderWindow} out-of-order window the ${olderSamples()} samples behind the head's bound ` +
          `were appended out of order, nothing was refused, and all ${analysis.summary.presentPoints} points answer`,
        figures: {
          series: n(),
          'outage s': +((restoredAtMs - cutAtMs) / 1000).toFixed(1),
          'Receive appended out of order': r.outOfOrderAppended,
          'Receive out of bounds': r.outOfBounds,
          'Prometheus samples failed': prometheus.failed,
          'Prometheus samples retried': prometheus.retried,
        },
        plots: [countsPlot()],
      });
    });

    // The Compactor side of the fix.
    const compaction = () => run().compaction!;
    const c = preset.compaction!;
    const ranges = (blocks: { minTime: number; maxTime: number }[]) => new Set(blocks.map((b) => `${iso(b.minTime)}..${iso(b.maxTime)}`));
    const samples = (blocks: BlockMeta[]) => blocks.reduce((sum, b) => sum + (b.stats?.numSamples ?? Number.NaN), 0);

    it("ships the out-of-order head's blocks over minutes Receive also shipped in order, under one label set", () => {
      const { landed } = compaction();
      const ooo = landed.blocks.filter(fromOutOfOrder);
      const inOrder = landed.blocks.filter((b) => !fromOutOfOrder(b));
      // Every sample Receive appended out of order (its counter once the backlog had landed; the
      // workload is in order after), each in one of them.
      expect(samples(ooo)).toBe(run().after.receives[preset.receive.ref]!.outOfOrderAppended);
      // One per block-aligned range holding any of them: the older slots, and the older scrapes' report samples.
      expect(ranges(ooo)).toEqual(ranges(outOfOrderBlockRanges([...olderSlots(), ...run().olderScrapeTimes], head.blockMs)));
      expect(new Set(landed.blocks.map((b) => JSON.stringify(b.thanos.labels))).size).toBe(1);
      for (const b of ooo) expect(inOrder.filter((i) => overlap(i, b)), `in-order blocks over ${b.ulid}`).not.toEqual([]);
      log(`  ${c.prefix}/: ${inOrder.length} in-order blocks, ${ooo.length} from the out-of-order head (${samples(ooo)} samples) over ${[...ranges(ooo)].join(', ')}`);
    });

    it('a Compactor without vertical compaction halts on them (thanos_compact_halted 1), its log naming them, and leaves the prefix as it was', () => {
      const { landed, halting } = compaction();
      expect(halting.metrics).toMatchObject({ halted: 1, iterations: 0, compactions: 0, verticalCompactions: 0, blocksCleaned: 0, blocksMarkedForDeletion: 0 });
      expect(halting.after.blocks.map((b) => b.ulid)).toEqual(landed.blocks.map((b) => b.ulid));
      expect(halting.haltLines).toHaveLength(1);
      const line = halting.haltLines[0]!;
      for (const b of landed.blocks.filter(fromOutOfOrder)) expect(line).toContain(b.ulid);
      // The planner model says the same of these blocks.
      expect(halting.expected.halted).toBeDefined();
      log(`[${c.halting.ref}] ${line.slice(0, 600)}`);
      recordFinding({
        finding: 'G',
        scenario: 'receive-backlog',
        topology: `${preset.topology.name} ${c.halting.ref}`,
        substrate: run().t.substrate,
        configuration: 'faulty',
        observed:
          `the out-of-order window's blocks (${landed.blocks.filter(fromOutOfOrder).length}, over minutes also shipped in order) under one label set with the in-order ones: ` +
          `a Compactor without --compact.enable-vertical-compaction halted on its first iteration (thanos_compact_halted 1, "${OVERLAP_ERROR}"), leaving the ${landed.blocks.length} blocks as they were`,
        figures: { blocks: landed.blocks.length, 'out-of-order blocks': landed.blocks.filter(fromOutOfOrder).length, ...halting.metrics, logLine: line.slice(0, 500) },
      });
    });

    it('a Compactor with vertical compaction merges them as the planner model says: no halt, no overlap left, every sample kept', () => {
      const { landed, vertical } = compaction();
      const { expected, metrics, after } = vertical;
      expect(expected.halted).toBeUndefined();
      expect(metrics).toMatchObject({
        halted: 0,
        compactions: expected.compactions,
        verticalCompactions: expected.verticalCompactions,
        blocksMarkedForDeletion: expected.deleted,
        blocksCleaned: expected.deleted,
      });
      expect(metrics.verticalCompactions).toBeGreaterThan(0);
      expect(shape(after.blocks.map((b) => ({ ...b, labels: b.thanos.labels })))).toEqual(shape(expected.blocks));
      expect(after.blocks.filter((b, i) => i > 0 && b.minTime < Math.max(...after.blocks.slice(0, i).map((p) => p.maxTime)))).toEqual([]);
      // No (series, timestamp) is in two source blocks, so the merge keeps every sample.
      expect(samples(after.blocks)).toBe(samples(landed.blocks));
      const observed =
        `with --compact.enable-vertical-compaction the Compactor merged the overlapping blocks: ${metrics.compactions} compactions (${metrics.verticalCompactions} vertical), ` +
        `${landed.blocks.length} -> ${after.blocks.length} blocks, none overlapping, ${samples(after.blocks)} samples as before; thanos_compact_halted stayed 0`;
      log(`[${c.vertical.ref}] ${observed}`);
      recordFinding({
        finding: 'G',
        scenario: 'receive-backlog',
        topology: `${preset.topology.name} ${c.vertical.ref}`,
        substrate: run().t.substrate,
        configuration: 'fixed',
        observed,
        figures: { blocksBefore: landed.blocks.length, blocksAfter: after.blocks.length, samples: samples(after.blocks), ...metrics },
        plots: [blocksPlot(landed.blocks, after.blocks)],
      });
    });

    it('answers through Store over the merged blocks every point once, as Receive did', () => {
      const { answer } = compaction();
      const { window } = run();
      const a = analyseWindow(answer.result, run().t.workload.workload, window);
      expect(answer.warnings ?? []).toEqual([]);
      expect(a.series).toHaveLength(n());
      expect(a.summary, a.description.slice(0, 300)).toMatchObject({ missingPoints: 0, wrongPoints: 0, repeatedTimestamps: 0, ok: true });
      expect(a.summary.presentPoints).toBe(n() * ((window.end - window.start) / window.step + 1));
      expect(byLabels(answer)).toEqual(byLabels(run().answer));
      recordFinding({
        finding: 'G',
        scenario: 'receive-backlog',
        topology: `${preset.topology.name} ${c.storeQuery.ref}`,
        substrate: run().t.substrate,
        configuration: 'fixed',
        observed: `Query over Store alone, after the merge, answered all ${a.summary.presentPoints} points of the ${n()} series, each once and as Receive had answered them`,
        figures: { series: n(), points: a.summary.presentPoints },
      });
    });
  }
});

/** The prefix's blocks before and after the vertical merge, each a row. */
function blocksPlot(before: BlockMeta[], after: BlockMeta[]): TimelinePlot {
  const rows = (when: string, blocks: BlockMeta[]) =>
    blocks.map((b) => ({ label: `${when}: ${fromOutOfOrder(b) ? 'out of order' : `level ${b.compaction.level}`} ${b.ulid.slice(-6)}`, segments: [{ from: b.minTime, to: b.maxTime }] }));
  return {
    kind: 'timeline',
    title: "Receive's blocks in the bucket: in order and from the out-of-order head, then after the Compactor's vertical merge",
    range: { from: Math.min(...before.map((b) => b.minTime)), to: Math.max(...before.map((b) => b.maxTime)) },
    rows: [...rows('shipped', before), ...rows('merged', after)],
  };
}
