// Issue 20, finding 3: a hashring that grows under load (thanos-io/thanos #3141, #5905, #5639).
//
// Three receives hold the observee's 10k series with replication factor 3; a fourth is started and
// the hashrings files are rewritten to name it while Prometheus writes on (Receive watches its file:
// on Kubernetes each ConfigMap is patched and its pod annotated, so that the kubelet projects it at once).
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
import { IngestTimeline, quietSnapshot, receiveSide, sidesDelta, type IngestSnapshot } from '../harness/steps/ingest.ts';
import { analyseWindow, type RangeAnalysis } from '../harness/promql/analysis.ts';
import { PromApiClient } from '../harness/promql/client.ts';
import { equals, greaterOrEqual, waitSumMetrics } from '../harness/promql/wait-metrics.ts';
import { recordFinding } from '../harness/report/findings.ts';
import { presentSegments, type BarsPlot, type TimelinePlot } from '../harness/report/plots.ts';
import { log, useTopology } from '../harness/scenario.ts';
import { alignDown, durationMs, gridPoints, iso } from '../harness/time.ts';
import { tenantOf } from '../harness/presets/handles.ts';
import { GROWTH_VARIANTS, REPLICATION_FACTOR, RING_AT_START, receiveHashringGrowth } from '../harness/presets/receive-hashring-growth.ts';
import { goLiveOnAFreshSlot, waitForLiveUpTo } from '../harness/steps/live.ts';
import type { RunningTopology } from '../harness/substrates/index.ts';
import { scrapeIntervalOf } from '../harness/topology/model.ts';
import { workloadSelector } from '../harness/workload/series.ts';

/** Slots Prometheus falls behind before the ring grows. */
const HELD_SLOTS = 2;
/** Bound on the members storing a scrape made once HELD_SLOTS came due and the joiner was ready: HELD_SLOTS + 2 slots. */
const HOLD_TIMEOUT_MS = 20_000;
/** Slots Prometheus delivers after the ones behind the heads before the final reading. */
const AFTER_SLOTS = 2;
/**
 * Bound on every receive taking the grown ring: fsnotify on its file, or on Kubernetes the kubelet's
 * projection of the patched ConfigMap, prompted by the pod's annotation (about a second); then a
 * flush of a minute's head.
 */
const RING_TIMEOUT_MS = 30_000;

describe.each(GROWTH_VARIANTS)('#5905 a hashring that grows under load, %s', (variant) => {
  const preset = receiveHashringGrowth(variant);
  const tenant = tenantOf(preset.members);
  const original = preset.members.instances.slice(0, RING_AT_START);
  const joiner = preset.members.instances[RING_AT_START]!;
  const scrapeMs = durationMs(scrapeIntervalOf(preset.prometheus.spec, preset.topology));

  const run = useTopology(preset.topology, async (t) => {
    const w = t.workload.workload;
    const step = w.stepMs;
    const { liveFromMs, prometheus } = await goLiveOnAFreshSlot(t, log);
    const readers = (members: string[]) => ({ prometheus, receives: [...new Set([...(preset.front ? [preset.front] : []), ...members])], tenant });
    const before = await quietSnapshot(t, readers(original), liveFromMs + step, log);
    // Faulty: Prometheus' one connection through the Service was opened at bring-up, to one of the
    // three members (balanced by the Service: round robin from the first, or kube-proxy at random),
    // and stays there: that member answers its writes. The Service is pinned to it, so that a new
    // connection would go there too, never to the joiner.
    const front = preset.front ?? writtenTo(before, original);
    if (preset.writeService) {
      const backends = t.plan.services.find((s) => s.id === preset.writeService!.ref)!.backends;
      await t.service(preset.writeService.ref).pin(backends.indexOf(front));
    }

    // The experiment. Prometheus falls HELD_SLOTS slots behind (the exporter holds the workload
    // back: a known lag, as a remote-write queue behind by ten seconds is), so that samples are in
    // flight when the ring changes; meanwhile each scrape still writes its report samples, stamped
    // at the scrape, and they move every member's head. The fourth receive starts (with the grown
    // ring), every other ring file is rewritten to name it, and the held slots are let go.
    const timeline = new IngestTimeline(t, prometheus, front, tenant).start();
    await t.workload.holdAfter(before.slotMs);
    await t.start(joiner);
    const joinerReadyMs = Date.now();
    // Each member stored a report sample of a scrape made after HELD_SLOTS slots came due and after
    // the joiner was ready (its own head): the reading below comes right after a scrape, seconds
    // before the next. A pod can take longer to start than HELD_SLOTS slots; a process does not.
    for (const id of original)
      await waitSumMetrics(id, t.url(id), greaterOrEqual(Math.max(before.slotMs + HELD_SLOTS * step, joinerReadyMs)), 'prometheus_tsdb_head_max_time', { labels: { tenant }, timeoutMs: HOLD_TIMEOUT_MS, intervalMs: 100, onProgress: log });
    // Where a flush would cut each head now: its newest sample. The next scrape is seconds away.
    await t.workload.sync();
    const scrapesAtReading = scrapeCount(t);
    const headMaxMs = Math.max(...(await Promise.all(original.map(async (id) => (await receiveSide(t, id, tenant)).headMaxTimeMs ?? 0))));
    const grownAtMs = Date.now();
    const grown = await t.growHashrings();
    // Every receive that had the old ring reports the new one (its own gauge of ring members).
    for (const id of grown)
      await waitSumMetrics(id, t.url(id), equals(RING_AT_START + 1), 'thanos_receive_hashring_nodes', { labels: { name: 'default' }, timeoutMs: RING_TIMEOUT_MS, intervalMs: 100, onProgress: log });
    const ringTakenAtMs = Date.now();
    await t.workload.sync();
    const scrapesAtChange = scrapeCount(t);
    await t.workload.release();
    log(`  ${joiner} started; heads' newest sample ${iso(headMaxMs)}; ${grown.length} hashrings files rewritten at ${iso(grownAtMs)}, every ring took it by ${iso(ringTakenAtMs)}; held slots let go`);

    // Catch-up, one slot per scrape (Prometheus stays behind by the held slots): the slots behind
    // the heads' newest sample and AFTER_SLOTS more, then every side read quiet.
    const lastSlot = alignDown(headMaxMs, step) + AFTER_SLOTS * step;
    await waitForLiveUpTo(t, prometheus, lastSlot, log);
    const after = await quietSnapshot(t, readers([...preset.members.instances]), lastSlot, log);
    timeline.stop();

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
    return { t, front, before, after, headMaxMs, scrapesAtReading, scrapesAtChange, grownAtMs, ringTakenAtMs, timeline, window, dedup: analyseWindow(dedup.result, w, window), perReplica, warnings: [...(dedup.warnings ?? []), ...(copies.warnings ?? [])] };
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
  const frontDelta = () => delta().receives[run().front]!;
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

  /** The held slots stamped at or before the members' newest sample when the ring changed: what a flush puts out of bounds. */
  const behind = () => gridPoints(run().before.slotMs + run().window.step, alignDown(run().headMaxMs, run().window.step), run().window.step);
  /** Series the joiner holds (the new ring placed a copy there). */
  const joinerSeries = () => new Set(run().perReplica[joiner]!.series.map((s) => s.index));

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

  it('holds Prometheus back across the change: the heads are read and the ring grows between two scrapes, with the held slots behind the heads', () => {
    const { scrapesAtReading, scrapesAtChange, headMaxMs, ringTakenAtMs } = run();
    expect(scrapesAtChange).toBe(scrapesAtReading);
    // And before the scrape after the heads' newest sample was made: a scrape the exporter had
    // answered before the reading could still be on its way to the heads while the reading went on.
    expect(ringTakenAtMs, `ring taken at ${iso(ringTakenAtMs)}, the next scrape made at ${iso(headMaxMs + scrapeMs)}`).toBeLessThan(headMaxMs + scrapeMs);
    expect(behind().length).toBeGreaterThanOrEqual(HELD_SLOTS);
  });

  it('counts every sample on both sides: what Prometheus kept is what the receive it writes to answered 200', () => {
    const { prometheus } = delta();
    expect(prometheus.sent).toBeGreaterThan(0);
    expect(frontDelta().samplesByCode['200']).toBe(prometheus.sent - prometheus.retried - prometheus.failed);
    // Prometheus' connection stayed on the front: no other receive answered a remote write.
    for (const id of preset.members.instances.filter((x) => x !== run().front)) expect(Object.entries(delta().receives[id]!.requestsByCode).filter(([, n]) => n !== 0), id).toEqual([]);
    // Before the change the three members held every series, the joiner none.
    for (const t of slots().filter((x) => x <= run().before.slotMs)) expect(copies().perSlot.get(t), iso(t)).toEqual([0, 0, 0, n(), 0]);
    // The joiner appended, and refused nothing: it never flushed.
    expect(delta().receives[joiner]!.appended).toBeGreaterThan(0);
    expect(delta().receives[joiner]!.outOfBounds).toBe(0);
  });

  if (variant === 'faulty') {
    it('refuses with 409 every held sample behind the flushed heads, and Prometheus drops them: both sides count them', () => {
      const { prometheus } = delta();
      const f = frontDelta();
      const w = run().timeline.refusals();
      // One request per 2,000 workload samples of a held slot; the scrapes' report samples come
      // in requests of their own and are newer than any flushed head.
      expect(prometheus.failed).toBe(behind().length * n());
      expect(f.samplesByCode['409']).toBe(prometheus.failed);
      expect(w).toBeDefined();
      expect(w!.byCode['409']).toBe(f.requestsByCode['409']);
      // Each refused sample was refused by every old member it was placed on: three where the new
      // ring gave the series none of the joiner's places, two where it gave it one.
      expect(outOfBoundsOf(original)).toBe(2 * prometheus.failed + (n() - joinerSeries().size) * behind().length);
    });

    it('loses with deduplication the held slots of every series the joiner does not hold, and of some it does, and nothing else', () => {
      const { dedup, warnings } = run();
      expect(warnings).toEqual([]);
      expect(dedup.series).toHaveLength(n());
      expect(dedup.summary.wrongPoints).toBe(0);
      const held = joinerSeries();
      const refused = new Set(behind());
      // Every series the new ring placed on old receives only lacks exactly the held slots.
      const expected = [{ startMs: behind()[0]!, endMs: behind().at(-1)!, points: behind().length }];
      for (const s of dedup.series.filter((x) => !held.has(x.index))) expect(s.missing.map(({ startMs, endMs, points }) => ({ startMs, endMs, points })), `series ${s.index}`).toEqual(expected);
      // A series the joiner holds keeps its sample only where the joiner stored it before the two
      // old replicas' conflicts decided the request: Thanos then answers 409 and cancels the
      // forwards still in flight (handler.go fanoutForward). Nothing outside the held slots is lost.
      for (const s of dedup.series) for (const m of s.missing) for (const t of gridPoints(m.startMs, m.endMs, run().window.step)) expect(refused.has(t), `series ${s.index} at ${iso(t)}`).toBe(true);
      expect(dedup.summary.missingPoints).toBeGreaterThanOrEqual((n() - held.size) * behind().length);
    });

    it('leaves the held slots on the joiner alone, where it stored them, and each series on three receives in every other slot', () => {
      const refused = new Set(behind());
      const held = joinerSeries().size;
      for (const t of slots()) {
        const c = copies().perSlot.get(t)!;
        if (!refused.has(t)) expect(c, iso(t)).toEqual([0, 0, 0, n(), 0]);
        else {
          expect(c.slice(2), iso(t)).toEqual([0, 0, 0]);
          expect(c[1], iso(t)).toBeLessThanOrEqual(held);
        }
      }
      expect(held).toBeGreaterThan(0);
      expect(held).toBeLessThan(n());

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
          `${RING_AT_START} receives that route and ingest (hashmod, replication factor ${REPLICATION_FACTOR}), a fourth added to the hashring while Prometheus, ${behind().length} slots behind, wrote 10k series: ` +
          `each old receive flushed its head, and the ${behind().length} slots behind it were refused for ${((w.toMs - w.fromMs) / 1000).toFixed(1)} s: ${f.requestsByCode['409']} requests answered 409 (${f.samplesByCode['409']} samples; ${f.samplesByCode['503'] ?? 0} answered 503), ` +
          `which Prometheus dropped (failed ${prometheus.failed}, retried ${prometheus.retried}); ${dedup.summary.missingPoints} points lost with dedup: those slots of all ${n() - held} series the new ring placed on old receives only, ` +
          `and ${dedup.summary.missingPoints - (n() - held) * behind().length} more whose copy on the joiner was cancelled with the 409; ` +
          `the joiner holds ${held} series, every other slot has 3 copies`,
        figures: {
          series: n(),
          'replication factor': REPLICATION_FACTOR,
          'slots behind the flushed heads': behind().length,
          'non-2xx window s': +((w.toMs - w.fromMs) / 1000).toFixed(1),
          'non-2xx requests': w.requests,
          '409 samples (receive)': f.samplesByCode['409'] ?? 0,
          'Prometheus samples failed': prometheus.failed,
          'Prometheus samples retried': prometheus.retried,
          'out of bounds (old receives)': outOfBoundsOf(original),
          'points lost with dedup': dedup.summary.missingPoints,
          'of those, joiner copies cancelled': dedup.summary.missingPoints - (n() - held) * behind().length,
          'series on the joiner': held,
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
          `a routing-only receive (ketama, replication factor ${REPLICATION_FACTOR}) in front of ${RING_AT_START} ingesters, a fourth added to its hashring while Prometheus, ${behind().length} slots behind, wrote 10k series: ` +
          `all ${prometheus.sent} samples answered 200, 0 retried, 0 failed, 0 out of bounds; all ${dedup.summary.presentPoints} points answer with dedup; every series on 3 ingesters in every slot, ` +
          `the joiner holding ${joinerShare} series after the change`,
        figures: {
          series: n(),
          'replication factor': REPLICATION_FACTOR,
          'slots behind the heads': behind().length,
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

/** The one receive of `members` that has answered remote writes (Prometheus' connection reached it); throws unless exactly one has. */
function writtenTo(snapshot: IngestSnapshot, members: readonly string[]): string {
  const answered = members.filter((id) => Object.values(snapshot.receives[id]!.requestsByCode).some((n) => n > 0));
  if (answered.length !== 1) throw new Error(`Prometheus' remote writes were answered by ${answered.length} receives (${answered.join(', ') || 'none'}) of ${members.join(', ')}: expected its one connection to reach one`);
  return answered[0]!;
}

/** Scrapes the workload exporter has answered so far, every scraper together (after a sync()). */
const scrapeCount = (t: RunningTopology) => t.workload.scrapes().reduce((sum, s) => sum + s.count, 0);
