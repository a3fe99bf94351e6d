// Issue 20, finding 2: one sample from the future (thanos-io/thanos #6167, fix #6195).
//
// A Prometheus remote-writes 10k series to one Receive; another client writes one sample stamped
// 2h ahead. With Thanos' default --tsdb.too-far-in-future.time-window (0s, off) Receive appends it,
// its head's newest sample jumps 2h ahead, and from then on every in-time sample is older than the
// head accepts (head max time - block length / 2 = 1h ahead of the clock): out of bounds, HTTP 409,
// which Prometheus does not retry: it drops them. With a 1m window only that one sample is refused.
//
// Counted three ways, which must agree: Prometheus' remote-storage counters, Receive's own (requests
// by status code, samples its head appended and refused), and a query of what landed, checked point
// by point against the workload. Each scrape is N = series + 5 samples (the target's and
// Prometheus' 5 report samples), so the refused samples are N per scrape after the rogue write.
import { describe, expect, it } from 'vitest';
import { nextSlotAfter, quietSnapshot, REPORT_SAMPLES_PER_SCRAPE, sidesDelta, writeAsClient, type IngestSnapshot } from '../harness/steps/ingest.ts';
import { verdictOf } from '../harness/models/receive-head.ts';
import { analyseWindow } from '../harness/promql/analysis.ts';
import { PromApiClient } from '../harness/promql/client.ts';
import { recordFinding } from '../harness/report/findings.ts';
import type { BarsPlot } from '../harness/report/plots.ts';
import { log, useTopology } from '../harness/scenario.ts';
import { durationMs, iso } from '../harness/time.ts';
import { tenantOf } from '../harness/presets/handles.ts';
import { FUTURE_SAMPLE_VARIANTS, receiveFutureSample } from '../harness/presets/receive-future-sample.ts';
import { goLiveOnAFreshSlot } from '../harness/steps/live.ts';
import { workloadSelector } from '../harness/workload/series.ts';

const HOUR_MS = 3_600_000;
/** How far ahead the rogue client's clock is: more than half a block, so the present falls out of bounds. */
const AHEAD_MS = 2 * HOUR_MS;
/** Receive's head block length (Thanos' default; the preset keeps it). */
const BLOCK_MS = 2 * HOUR_MS;
/** Slots written after the rogue sample, each read on both sides. */
const SLOTS_AFTER = 4;
const ROGUE = { __name__: 'e2e_skewed_clock', client: 'rogue' };


describe.each(FUTURE_SAMPLE_VARIANTS)('#6167 one sample from the future, %s', (variant) => {
  const preset = receiveFutureSample(variant);
  const run = useTopology(preset.topology, async (t) => {
    // Bring-up: the workload live, two slots delivered, both sides read with nothing in flight.
    const w = t.workload.workload;
    const { liveFromMs, prometheus } = await goLiveOnAFreshSlot(t, log);
    const writers = { prometheus, receives: [preset.receive.ref], tenant: tenantOf(preset.receive) };
    const before = await quietSnapshot(t, writers, liveFromMs + w.stepMs, log);

    // The experiment: one client's clock is 2h ahead; then Prometheus goes on writing.
    const rogueMs = Date.now() + AHEAD_MS;
    const rogue = await writeAsClient(t, preset.receive.ref, [{ labels: ROGUE, samples: [{ t: rogueMs, v: 1 }] }]);
    log(`  rogue sample stamped ${iso(rogueMs)}: HTTP ${rogue.status} ${rogue.body.slice(0, 120)}`);
    const timeline: IngestSnapshot[] = [before];
    let slot = nextSlotAfter(before.slotMs, w.stepMs);
    for (let k = 0; k < SLOTS_AFTER; k++) {
      const s = await quietSnapshot(t, writers, slot, log);
      timeline.push(s);
      slot = nextSlotAfter(s.slotMs, w.stepMs);
    }
    const after = timeline.at(-1)! as IngestSnapshot & { slotMs: number };

    // What landed: every live slot through the last one read.
    const window = { start: liveFromMs, end: after.slotMs, step: w.stepMs };
    const answer = await new PromApiClient(t.url(preset.query.ref)).queryRange(workloadSelector(w), { ...window, dedup: true, partialResponse: false });
    return { t, before, after, timeline, rogue, rogueMs, window, analysis: analyseWindow(answer.result, w, window), warnings: answer.warnings ?? [] };
  });

  /** Samples one scrape sends: the workload's series and the scrape's report samples. */
  const perScrape = () => run().t.workload.workload.seriesCount + REPORT_SAMPLES_PER_SCRAPE;
  const delta = () => sidesDelta(run().before, run().after);
  const receiveDelta = () => delta().receives[preset.receive.ref]!;

  /** Accepted and refused samples per slot read, on each side: the finding's plot. */
  function countsPlot(): BarsPlot {
    const { timeline } = run();
    const bars: BarsPlot['bars'] = [];
    for (let k = 1; k < timeline.length; k++) {
      const d = sidesDelta(timeline[k - 1]!, timeline[k]!);
      const r = d.receives[preset.receive.ref]!;
      const at = iso((timeline[k] as IngestSnapshot & { slotMs: number }).slotMs).slice(11, 19);
      bars.push(
        { label: `${at} Prometheus sent`, value: d.prometheus.sent - d.prometheus.failed, group: 'Prometheus: sent and kept' },
        { label: `${at} Prometheus failed`, value: d.prometheus.failed, group: 'Prometheus: failed (dropped)' },
        { label: `${at} Receive appended`, value: r.appended, group: 'Receive: appended' },
        { label: `${at} Receive 409`, value: r.samplesByCode['409'] ?? 0, group: 'Receive: in 409 answers' },
      );
    }
    return { kind: 'bars', title: 'Samples per slot after the rogue write, as each side counted them', bars, unit: 'samples' };
  }

  if (variant === 'faulty') {
    it('appends the sample 2h ahead, and its head\'s newest sample jumps to it', () => {
      const { rogue, rogueMs, after } = run();
      expect(verdictOf(rogueMs, rogue.writtenAtMs, { maxTimeMs: rogue.writtenAtMs }, { blockMs: BLOCK_MS, outOfOrderWindowMs: 0, tooFarInFutureWindowMs: 0 })).toBe('appended');
      expect(rogue.status).toBe(200);
      expect(after.receives[preset.receive.ref]!.headMaxTimeMs).toBe(rogueMs);
    });

    it('refuses every in-time sample from then on, and Prometheus drops them: both sides count the same samples', () => {
      const { prometheus } = delta();
      const r = receiveDelta();
      expect(prometheus.failed).toBeGreaterThan(0);
      expect(prometheus.retried).toBe(0);
      expect(r.samplesByCode['409']).toBe(prometheus.failed);
      expect(r.outOfBounds).toBe(prometheus.failed);
      // Everything else Prometheus sent was appended, and so was the sample from the future.
      expect(r.appended).toBe(prometheus.sent - prometheus.failed + 1);
    });

    it('loses exactly the scrapes after the rogue write: every series ends at one slot, and the refused samples are N per scrape since', () => {
      const { analysis, window, rogue, warnings } = run();
      const n = run().t.workload.workload.seriesCount;
      expect(warnings).toEqual([]);
      expect(analysis.series).toHaveLength(n);
      // Per series, where its one run of missing points starts, if it has exactly one and that run reaches the window's end.
      const lostFrom = new Set(analysis.series.map((s) => (s.missing.length === 1 && s.missing[0]!.endMs === window.end ? s.missing[0]!.startMs : undefined)));
      expect([...lostFrom], `every series should lose its newest slots and nothing else: ${analysis.description.slice(0, 300)}`).toHaveLength(1);
      const firstLost = [...lostFrom][0];
      expect(firstLost, `every series should lose its newest slots: ${analysis.description.slice(0, 300)}`).toBeDefined();
      expect(firstLost).toBeGreaterThan(window.start);
      // The last slot that landed was scraped before the rogue write (its sends had finished).
      expect(firstLost! - window.step).toBeLessThan(rogue.writtenAtMs);
      const lostSlots = (window.end - firstLost!) / window.step + 1;
      expect(analysis.summary.missingPoints).toBe(n * lostSlots);
      expect(analysis.summary.wrongPoints).toBe(0);
      expect(delta().prometheus.failed).toBe(perScrape() * lostSlots);

      recordFinding({
        finding: 'G',
        scenario: 'receive-future-sample',
        topology: preset.topology.name,
        substrate: run().t.substrate,
        configuration: 'faulty',
        observed:
          `one sample stamped ${AHEAD_MS / HOUR_MS}h ahead was accepted (HTTP ${rogue.status}) and moved Receive's head to it; ` +
          `the ${lostSlots} scrapes after it (${delta().prometheus.failed} samples, ${n} series x ${lostSlots} slots + ${REPORT_SAMPLES_PER_SCRAPE} report samples each) ` +
          `were refused as out of bounds (409) and dropped by Prometheus: both sides counted ${delta().prometheus.failed}`,
        figures: {
          series: n,
          'rogue answer': rogue.status,
          'scrapes refused': lostSlots,
          'Prometheus samples failed': delta().prometheus.failed,
          'Receive samples in 409 answers': receiveDelta().samplesByCode['409'] ?? 0,
          'Receive out of bounds': receiveDelta().outOfBounds,
          'points lost per series': lostSlots,
        },
        plots: [countsPlot()],
      });
    });
  } else {
    it(`refuses only the sample from the future (409), beyond the ${preset.futureWindow} window, and the head stays in the present`, () => {
      const { rogue, rogueMs, after } = run();
      const fixed = { blockMs: BLOCK_MS, outOfOrderWindowMs: 0, tooFarInFutureWindowMs: durationMs(preset.futureWindow) };
      expect(verdictOf(rogueMs, rogue.writtenAtMs, { maxTimeMs: rogue.writtenAtMs }, fixed)).toBe('too-far-in-future');
      expect(rogue.status).toBe(409);
      expect(rogue.body).toContain('out of bounds');
      expect(after.receives[preset.receive.ref]!.headMaxTimeMs).toBeLessThan(rogue.writtenAtMs + durationMs(preset.futureWindow));
    });

    it('keeps every in-time sample: Prometheus failed none, Receive appended all it was sent, and refused one sample, the rogue one', () => {
      const { prometheus } = delta();
      const r = receiveDelta();
      expect(prometheus.sent).toBeGreaterThan(0);
      expect(prometheus.failed).toBe(0);
      expect(prometheus.retried).toBe(0);
      expect(r.appended).toBe(prometheus.sent);
      expect(r.samplesByCode['409']).toBe(1);
      // Refused before the head: its out-of-bounds counter does not see it.
      expect(r.outOfBounds).toBe(0);
    });

    it('answers every point of every series through the last slot', () => {
      const { analysis, window, warnings, rogue } = run();
      const n = run().t.workload.workload.seriesCount;
      expect(warnings).toEqual([]);
      expect(analysis.series).toHaveLength(n);
      expect(analysis.summary, analysis.description.slice(0, 400)).toMatchObject({ missingPoints: 0, wrongPoints: 0, ok: true });
      const slots = (window.end - window.start) / window.step + 1;
      expect(analysis.summary.presentPoints).toBe(n * slots);

      recordFinding({
        finding: 'G',
        scenario: 'receive-future-sample',
        topology: preset.topology.name,
        substrate: run().t.substrate,
        configuration: 'fixed',
        observed: `with a ${preset.futureWindow} future window the sample ${AHEAD_MS / HOUR_MS}h ahead was refused (HTTP ${rogue.status}, one sample); Prometheus failed 0 of ${delta().prometheus.sent} samples sent since, and all ${analysis.summary.presentPoints} points answer`,
        figures: {
          series: n,
          'rogue answer': rogue.status,
          'Prometheus samples sent': delta().prometheus.sent,
          'Prometheus samples failed': delta().prometheus.failed,
          'Receive samples in 409 answers': receiveDelta().samplesByCode['409'] ?? 0,
        },
        plots: [countsPlot()],
      });
    });
  }
});
