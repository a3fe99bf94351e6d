// Issue 20, finding 3: a hashring that grows under load (thanos-io/thanos #3141, #5905, #5639).
//
// Three receives hold the observee's 10k series with replication factor 3; a fourth is started and
// the hashrings files are rewritten to name it while Prometheus writes on (Receive watches its file).
// - Faulty: receives that route and ingest (Thanos' default hashmod). Thanos 0.42.4 flushes a
//   receive's head when its hashring changes unless the algorithm is ketama (cmd/thanos/receive.go
//   startTSDBAndUpload): it answers 503 while it flushes, and afterwards its head starts past the
//   flushed block, so samples Prometheus retries from before are out of bounds (409) and dropped.
// - Fixed: a routing-only receive with ketama in front of ingesters: the ingesters hold no ring,
//   the router only re-routes.
//
// Counted three ways: Prometheus' remote-storage counters, the receives' own (the front one's
// answers by code, each member's head), and a query of what landed (chain deduplication),
// checked point by point against the workload; and, with dedup=false, how many receives hold
// each series after the change (the replication factor, one of them possibly the new one).
import { describe, expect, it } from 'vitest';
import { IngestTimeline, nextSlotAfter, quietSnapshot, sidesDelta } from '../harness/steps/ingest.ts';
import { analyseWindow, type RangeAnalysis } from '../harness/promql/analysis.ts';
import { PromApiClient } from '../harness/promql/client.ts';
import { equals, waitSumMetrics } from '../harness/promql/wait-metrics.ts';
import { recordFinding } from '../harness/report/findings.ts';
import { presentSegments, type BarsPlot, type TimelinePlot } from '../harness/report/plots.ts';
import { log, useTopology } from '../harness/scenario.ts';
import { gridPoints, iso } from '../harness/time.ts';
import { tenantOf } from '../harness/presets/handles.ts';
import { GROWTH_VARIANTS, REPLICATION_FACTOR, RING_AT_START, receiveHashringGrowth } from '../harness/presets/receive-hashring-growth.ts';
import { goLiveOnAFreshSlot, waitForLiveUpTo } from '../harness/steps/live.ts';
import { workloadSelector } from '../harness/workload/series.ts';

/** Slots Prometheus scrapes after the ring has grown before the final reading. */
const AFTER_SLOTS = 2;
/** Bound on every receive taking the grown ring (fsnotify on its file; a flush of a minute's head). */
const RING_TIMEOUT_MS = 30_000;

describe.each(GROWTH_VARIANTS)('#5905 a hashring that grows under load, %s', (variant) => {
  const preset = receiveHashringGrowth(variant);
  const tenant = tenantOf(preset.members);
  const original = preset.members.instances.slice(0, RING_AT_START);
  const joiner = preset.members.instances[RING_AT_START]!;

  const run = useTopology(preset.topology, async (t) => {
    const w = t.workload.workload;
    const step = w.stepMs;
    // Faulty: Prometheus' one connection goes to the first receive (never to the one not started).
    if (preset.writeService) await t.service(preset.writeService.ref).pin(0);
    const { liveFromMs, prometheus } = await goLiveOnAFreshSlot(t, log);
    const readers = (members: string[]) => ({ prometheus, receives: [...new Set([preset.front, ...members])], tenant });
    const before = await quietSnapshot(t, readers(original), liveFromMs + step, log);

    // The experiment: the fourth receive starts (with the grown ring), then every other ring file
    // is rewritten to name it; Prometheus writes on.
    const timeline = new IngestTimeline(t, prometheus, preset.front, tenant).start();
    await t.start(joiner);
    const grownAtMs = Date.now();
    const grown = await t.growHashrings();
    // Every receive that had the old ring reports the new one (its own gauge of ring members).
    for (const id of grown)
      await waitSumMetrics(id, t.url(id), equals(RING_AT_START + 1), 'thanos_receive_hashring_nodes', { labels: { name: 'default' }, timeoutMs: RING_TIMEOUT_MS, onProgress: log });
    const ringTakenAtMs = Date.now();
    const lastSlot = nextSlotAfter(ringTakenAtMs, step) + AFTER_SLOTS * step;
    await waitForLiveUpTo(t, prometheus, lastSlot, log);
    const after = await quietSnapshot(t, readers([...preset.members.instances]), lastSlot, log);
    timeline.stop();
    log(`  ${joiner} started and ${grown.length} hashrings files rewritten at ${iso(grownAtMs)}; every ring took it by ${iso(ringTakenAtMs)}`);

    const window = { start: liveFromMs, end: after.slotMs, step };
    const query = new PromApiClient(t.url(preset.query.ref));
    const dedup = await query.queryRange(workloadSelector(w), { ...window, dedup: true, partialResponse: false });
    const copies = await query.queryRange(workloadSelector(w), { ...window, dedup: false, partialResponse: false });
    const perReplica = Object.fromEntries(
      preset.members.instances.map((id) => {
        const name = id.split('/')[1]!;
        return [id, analyseWindow(copies.result.filter((s) => s.metric[preset.receiveLabel] === name), w, window)];
      }),
    );
    return { t, before, after, grownAtMs, ringTakenAtMs, timeline, window, dedup: analyseWindow(dedup.result, w, window), perReplica, warnings: [...(dedup.warnings ?? []), ...(copies.warnings ?? [])] };
  });

  const delta = () => sidesDelta(run().before, run().after);

  function countsPlot(): BarsPlot {
    const { timeline, grownAtMs } = run();
    const bars: BarsPlot['bars'] = [];
    const buckets = timeline.buckets(5_000);
    // The bucket the change falls in (the first, if it came before the first reading).
    const marked = buckets.find((b) => grownAtMs < b.fromMs + 5_000);
    for (const b of buckets) {
      const at = `${iso(b.fromMs).slice(11, 19)}${b === marked ? ' (ring grows)' : ''}`;
      bars.push({ label: `${at} Prometheus kept`, value: b.sentKept, group: 'Prometheus: sent and kept' });
      if (b.retried) bars.push({ label: `${at} Prometheus retried`, value: b.retried, group: 'Prometheus: retried' });
      if (b.failed) bars.push({ label: `${at} Prometheus failed`, value: b.failed, group: 'Prometheus: failed (dropped)' });
      for (const [code, v] of Object.entries(b.front)) if (v) bars.push({ label: `${at} Receive ${code}`, value: v, group: `Receive: answered ${code}` });
    }
    return { kind: 'bars', title: 'Samples per 5 s, as Prometheus and the receive it writes to counted them', bars, unit: 'samples' };
  }

  const n = () => run().t.workload.workload.seriesCount;
  const frontDelta = () => delta().receives[preset.front]!;
  const outOfBoundsOf = (ids: readonly string[]) => ids.reduce((sum, id) => sum + delta().receives[id]!.outOfBounds, 0);
  const slots = () => gridPoints(run().window.start, run().window.end, run().window.step);

  /** Per slot: how many series are held by exactly k receives (k = 0..4), and which receives hold series s at t. */
  const copies = memo(() => {
    const { perReplica } = run();
    const byIndex = new Map<string, Map<number, RangeAnalysis['series'][number]>>();
    for (const id of preset.members.instances) byIndex.set(id, new Map((perReplica[id]?.series ?? []).map((x) => [x.index, x])));
    const held = (id: string, index: number, t: number) => {
      const s = byIndex.get(id)!.get(index);
      return !!s && !s.missing.some((m) => m.startMs <= t && t <= m.endMs);
    };
    const perSlot = new Map<number, number[]>();
    for (const t of slots()) {
      const histogram = [0, 0, 0, 0, 0];
      for (let i = 0; i < n(); i++) histogram[preset.members.instances.filter((id) => held(id, i, t)).length]!++;
      perSlot.set(t, histogram);
    }
    return { perSlot, held };
  });

  /** Slots at which some series has no sample with deduplication. */
  const lostSlots = () => [...new Set(run().dedup.series.flatMap((s) => s.missing.flatMap((m) => gridPoints(m.startMs, m.endMs, run().window.step))))].sort((a, b) => a - b);
  /** The first slot scraped entirely after every receive took the grown ring. */
  const firstSlotOnGrownRing = () => nextSlotAfter(run().ringTakenAtMs, run().window.step);

  function copiesPlot(): TimelinePlot {
    const { window, perReplica, grownAtMs, ringTakenAtMs } = run();
    // A series the joiner takes: where the new ring moves it is what the plot shows.
    const moved = perReplica[joiner]!.series.map((s) => s.index).sort((a, b) => a - b)[0] ?? 0;
    return {
      kind: 'timeline',
      title: `What each receive holds of series ${moved} (dedup=false; ${joiner} joins)`,
      range: { from: window.start, to: window.end },
      rows: preset.members.instances.map((id) => {
        const s = perReplica[id]!.series.find((x) => x.index === moved);
        return { label: id, segments: s ? presentSegments(window.start, window.end, window.step, s.missing) : [] };
      }),
      marks: [{ label: 'ring grows', from: grownAtMs, to: Math.max(ringTakenAtMs, grownAtMs + 500) }],
    };
  }

  it('counts every sample on both sides: what Prometheus kept is what the receive it writes to answered 200', () => {
    const { prometheus } = delta();
    expect(prometheus.sent).toBeGreaterThan(0);
    expect(frontDelta().samplesByCode['200']).toBe(prometheus.sent - prometheus.retried - prometheus.failed);
    // Before the change the three members held every series, the joiner none.
    for (const t of slots().filter((x) => x <= run().before.slotMs)) expect(copies().perSlot.get(t), iso(t)).toEqual([0, 0, 0, n(), 0]);
    // The joiner appended, and refused nothing: it never flushed.
    expect(delta().receives[joiner]!.appended).toBeGreaterThan(0);
    expect(delta().receives[joiner]!.outOfBounds).toBe(0);
  });

  if (variant === 'faulty') {
    it('refuses with 409, once the ring has grown, the samples behind the flushed heads, and Prometheus drops them: both sides count them', () => {
      const { prometheus } = delta();
      const f = frontDelta();
      const w = run().timeline.refusals();
      expect(prometheus.failed).toBeGreaterThan(0);
      expect(f.samplesByCode['409']).toBe(prometheus.failed);
      expect(w).toBeDefined();
      expect(w!.byCode['409']).toBe(f.requestsByCode['409']);
      // Each refused sample was refused by every old member it was placed on: three where the new
      // ring gave the series none of the joiner's places (and then it is lost), two where it gave
      // it one (the joiner stored it, the write missed its quorum with two conflicts: 409). Report
      // samples carry their scrape's time, later than any head a flush cut: none is refused.
      const lost = run().dedup.summary.missingPoints;
      expect(outOfBoundsOf(original)).toBe(2 * prometheus.failed + lost);
    });

    it('loses with deduplication exactly the refused samples of the series the joiner does not hold, and nothing else', () => {
      const { dedup, warnings, perReplica } = run();
      expect(warnings).toEqual([]);
      expect(dedup.series).toHaveLength(n());
      expect(dedup.summary.wrongPoints).toBe(0);
      const lostSeries = dedup.series.filter((s) => s.missing.length > 0);
      expect(lostSeries.length).toBeGreaterThan(0);
      const joinerHolds = new Set(perReplica[joiner]!.series.map((s) => s.index));
      expect(lostSeries.filter((s) => joinerHolds.has(s.index)).map((s) => s.index)).toEqual([]);
      // Every lost slot lies between the last reading before the change and the first slot on the grown ring.
      for (const t of lostSlots()) {
        expect(t).toBeGreaterThan(run().before.slotMs);
        expect(t).toBeLessThan(firstSlotOnGrownRing() + run().window.step);
      }
    });

    it('leaves fewer than three copies of some series in the refused slots, and each series on three receives in every other, the joiner among them for three in four', () => {
      const lost = new Set(lostSlots());
      expect(lost.size).toBeGreaterThan(0);
      for (const t of lost) expect(copies().perSlot.get(t)![3], iso(t)).toBeLessThan(n());
      for (const t of slots().filter((x) => !lost.has(x))) expect(copies().perSlot.get(t)![3], iso(t)).toBe(n());
      const last = slots().at(-1)!;
      const joinerShare = [...Array(n()).keys()].filter((i) => copies().held(joiner, i, last)).length;
      expect(joinerShare).toBeGreaterThan(0);
      expect(joinerShare).toBeLessThan(n());

      const { prometheus } = delta();
      const f = frontDelta();
      const w = run().timeline.refusals()!;
      const { dedup } = run();
      recordFinding({
        finding: 'G',
        scenario: 'receive-hashring-growth',
        topology: preset.topology.name,
        substrate: run().t.substrate,
        configuration: 'faulty',
        observed:
          `${RING_AT_START} receives that route and ingest (hashmod, replication factor ${REPLICATION_FACTOR}), a fourth added to the hashring while Prometheus wrote 10k series: ` +
          `each old receive flushed its head; the samples behind it were refused for ${((w.toMs - w.fromMs) / 1000).toFixed(1)} s: ${f.requestsByCode['409']} requests answered 409 (${f.samplesByCode['409']} samples, ${f.samplesByCode['503'] ?? 0} answered 503), ` +
          `which Prometheus dropped (failed ${prometheus.failed}, retried ${prometheus.retried}); ${dedup.summary.missingPoints} points lost with dedup in ${lostSlots().length} slots, ` +
          `every one of a series the new ring placed on old receives only (${n() - joinerShare} series); the joiner holds ${joinerShare} series, every other slot has 3 copies`,
        figures: {
          series: n(),
          'replication factor': REPLICATION_FACTOR,
          'non-2xx window s': +((w.toMs - w.fromMs) / 1000).toFixed(1),
          'non-2xx requests': w.requests,
          '409 samples (receive)': f.samplesByCode['409'] ?? 0,
          'Prometheus samples failed': prometheus.failed,
          'Prometheus samples retried': prometheus.retried,
          'out of bounds (old receives)': outOfBoundsOf(original),
          'points lost with dedup': dedup.summary.missingPoints,
          'series on the joiner': joinerShare,
        },
        plots: [countsPlot(), copiesPlot()],
      });
    });
  } else {
    it('answers every write 200 through the change: nothing retried, failed or refused by any ingester', () => {
      const { prometheus } = delta();
      expect(run().timeline.refusals()).toBeUndefined();
      expect(frontDelta().samplesByCode).toEqual({ '200': prometheus.sent });
      expect(prometheus.failed).toBe(0);
      expect(prometheus.retried).toBe(0);
      expect(outOfBoundsOf(preset.members.instances)).toBe(0);
    });

    it('loses nothing with dedup; every series is on three ingesters in every slot, the joiner among them for some', () => {
      const { dedup, warnings } = run();
      expect(warnings).toEqual([]);
      expect(dedup.series).toHaveLength(n());
      expect(dedup.summary, dedup.description.slice(0, 300)).toMatchObject({ missingPoints: 0, wrongPoints: 0, repeatedTimestamps: 0, ok: true });
      for (const t of slots()) expect(copies().perSlot.get(t), iso(t)).toEqual([0, 0, 0, n(), 0]);
      const last = slots().at(-1)!;
      const joinerShare = [...Array(n()).keys()].filter((i) => copies().held(joiner, i, last)).length;
      expect(joinerShare).toBeGreaterThan(0);
      expect(joinerShare).toBeLessThan(n());

      const { prometheus } = delta();
      recordFinding({
        finding: 'G',
        scenario: 'receive-hashring-growth',
        topology: preset.topology.name,
        substrate: run().t.substrate,
        configuration: 'fixed',
        observed:
          `a routing-only receive (ketama, replication factor ${REPLICATION_FACTOR}) in front of ${RING_AT_START} ingesters, a fourth added to its hashring while Prometheus wrote 10k series: ` +
          `all ${prometheus.sent} samples answered 200, 0 retried, 0 failed, 0 out of bounds; all ${dedup.summary.presentPoints} points answer with dedup; every series on 3 ingesters in every slot, ` +
          `the joiner holding ${joinerShare} series after the change`,
        figures: {
          series: n(),
          'replication factor': REPLICATION_FACTOR,
          'non-2xx requests': 0,
          'Prometheus samples sent': prometheus.sent,
          'Prometheus samples failed': prometheus.failed,
          'Prometheus samples retried': prometheus.retried,
          'out of bounds (ingesters)': outOfBoundsOf(preset.members.instances),
          'points lost with dedup': dedup.summary.missingPoints,
          'series on the joiner': joinerShare,
        },
        plots: [countsPlot(), copiesPlot()],
      });
    });
  }
});

/** A value computed once, on first use (after the setup ran). */
function memo<T>(f: () => T): () => T {
  let v: { value: T } | undefined;
  return () => (v ??= { value: f() }).value;
}
