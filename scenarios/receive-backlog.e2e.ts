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
//   appended out of order instead, and Receive counts them as such.
// Prometheus' own TSDB holds everything it scraped: the report samples older than the bound are
// counted there.
import { describe, expect, it } from 'vitest';
import { nextSlotAfter, quietSnapshot, receiveSide, REPORT_SAMPLES_PER_SCRAPE, sidesDelta, writeAsClient, type ClientWrite } from '../harness/steps/ingest.ts';
import { minValidTimeMs, verdictOf, type HeadOptions, type Verdict } from '../harness/models/receive-head.ts';
import { analyseWindow } from '../harness/promql/analysis.ts';
import { PromApiClient } from '../harness/promql/client.ts';
import { greaterOrEqual, waitSumMetrics } from '../harness/promql/wait-metrics.ts';
import { recordFinding } from '../harness/report/findings.ts';
import type { BarsPlot } from '../harness/report/plots.ts';
import { log, useTopology } from '../harness/scenario.ts';
import type { RunningTopology } from '../harness/substrates/index.ts';
import { alignDown, durationMs, gridPoints, iso } from '../harness/time.ts';
import { tenantOf } from '../harness/presets/handles.ts';
import { BACKLOG_VARIANTS, receiveBacklog } from '../harness/presets/receive-backlog.ts';
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

describe.each(BACKLOG_VARIANTS)('a remote-write backlog after a link outage (#4831), %s', (variant) => {
  const preset = receiveBacklog(variant);
  const head: HeadOptions = { blockMs: durationMs(preset.blockDuration), outOfOrderWindowMs: durationMs(preset.outOfOrderWindow), tooFarInFutureWindowMs: 0 };
  const run = useTopology(preset.topology, async (t) => {
    // Bring-up: the workload live, two slots delivered and read on both sides with nothing in flight.
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
    // Report samples older than the bound, in Prometheus' own TSDB: (lastDeliveredScrapeMs, minValid).
    const spanMs = minValid - 1 - lastDeliveredScrapeMs;
    const older = spanMs > 0 ? await own.query(`count_over_time(${upSelector}[${spanMs}ms])`, { time: minValid - 1 }) : undefined;
    const olderScrapes = older?.resultType === 'vector' ? older.result.reduce((sum, x) => sum + x.v, 0) : 0;

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
      olderScrapes,
      window,
      analysis: analyseWindow(answer.result, w, window),
      warnings: answer.warnings ?? [],
    };
  }, { faults: ['cutLink'] });

  const n = () => run().t.workload.workload.seriesCount;
  const delta = () => sidesDelta(run().before, run().after);
  const receiveDelta = () => delta().receives[preset.receive.ref]!;
  /** Backlog slots the model says fall behind the head's bound (out of bounds, or out of order inside the window). */
  const olderSlots = () => [...run().verdicts].filter(([, v]) => v === (variant === 'faulty' ? 'out-of-bounds' : 'out-of-order-appended')).map(([s]) => s);
  /** Samples behind the bound: the workload's in those slots and the report samples of the scrapes before it. */
  const olderSamples = () => n() * olderSlots().length + REPORT_SAMPLES_PER_SCRAPE * run().olderScrapes;

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

      const { analysis, other, restoredAtMs, cutAtMs, olderScrapes } = run();
      recordFinding({
        finding: 'G',
        scenario: 'receive-backlog',
        topology: preset.topology.name,
        substrate: run().t.substrate,
        configuration: 'faulty',
        observed:
          `link cut ${((restoredAtMs - cutAtMs) / 1000).toFixed(0)}s while another writer moved Receive's head (${preset.blockDuration} blocks: appendable back to half of that); ` +
          `of the backlog, ${olderSlots().length} slots per series (${analysis.summary.missingPoints} workload points, plus ${REPORT_SAMPLES_PER_SCRAPE * olderScrapes} report samples) were out of bounds, as the head model predicted, and lost; ` +
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
  }
});
