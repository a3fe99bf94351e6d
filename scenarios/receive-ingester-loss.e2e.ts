// Issue 20, finding 4: an ingester lost during writes, routers in front (thanos-io/thanos #8727).
//
// The observee's Prometheus remote-writes 10k series to a routing-only receive (ketama), which
// forwards each series to `replicationFactor` of 3 ingesters. One ingester is killed (SIGKILL)
// right after a reading with nothing in flight, Prometheus scrapes OUTAGE_SLOTS more slots, and
// the ingester is restarted.
//
// What Thanos 0.42.4 answers (pkg/receive/handler.go fanoutForward): a series is written once
// `writeQuorum` of its replicas stored it (RF=3: 2); a request fails only for series that can no
// longer reach it, with 409 when enough replicas refused for good (conflicts, since #8803) and 503
// when a replica was unavailable (gRPC code Unavailable; writeErrors.Cause prefers the retryable
// cause); any other error is a 500 (handler.go's default case, logged "internal server error").
// Prometheus retries every 5xx and drops every 4xx, 409 among them.
// - Faulty, Thanos' default replication factor (1): every request holds series of the dead
//   ingester, so the router refuses all of them until it is back: 503 where the dial to it fails
//   at once (the process substrate: connection refused); on Kubernetes, where the pod's address
//   stops answering, 500 as well (docs/receive-ingest.md has what the router logged). Prometheus retries the
//   same batch and delivers nothing newer, for every series, not only the dead one's third.
//   Nothing is lost once it is back (no 409: nothing conflicts).
// - Fixed, replication factor 3 (#8727's): the two others make the quorum; every request is
//   answered 200, nothing is retried or lost; the dead ingester's copy lacks the outage, for good.
//
// Counted three ways that must agree: Prometheus' remote-storage counters, the router's answers by
// status code and the ingesters' heads, and a query of what landed (chain deduplication over the
// ingesters, and each ingester's copy), checked point by point against the workload.
import { describe, expect, it } from 'vitest';
import { IngestTimeline, nextSlotAfter, quietSnapshot, REPORT_SAMPLES_PER_SCRAPE, sidesDelta } from '../harness/steps/ingest.ts';
import { analyseWindow, type RangeAnalysis } from '../harness/promql/analysis.ts';
import { PromApiClient } from '../harness/promql/client.ts';
import { greaterOrEqual, waitSumMetrics } from '../harness/promql/wait-metrics.ts';
import { recordFinding } from '../harness/report/findings.ts';
import { presentSegments, type BarsPlot, type TimelinePlot } from '../harness/report/plots.ts';
import { log, useTopology } from '../harness/scenario.ts';
import { iso } from '../harness/time.ts';
import { tenantOf } from '../harness/presets/handles.ts';
import { INGESTER_LOSS_VARIANTS, receiveIngesterLoss } from '../harness/presets/receive-ingester-loss.ts';
import { goLiveOnAFreshSlot, waitForLiveUpTo } from '../harness/steps/live.ts';
import { remoteWriteCounters, waitForRemoteWriteOfSlot } from '../harness/steps/remote-write.ts';
import { workloadSelector } from '../harness/workload/series.ts';

/** Slots Prometheus scrapes after the kill before the ingester is restarted. */
const OUTAGE_SLOTS = 3;
/**
 * Bound on the restarted ingester storing samples again. The router tries a peer it marked
 * unavailable only after a backoff that doubles per failure up to 5 s (--receive-forward-max-backoff),
 * and its gRPC connection to the dead ingester reconnects with gRPC's own backoff (1 s, growing
 * 1.6-fold per failed attempt, so about 10 s apart after a 20 s outage): measured here, 0-12 s.
 */
const RECOVERY_TIMEOUT_MS = 60_000;
/** Bound on the fixed variant delivering the outage slots: a few seconds with the quorum met. */
const DELIVERY_TIMEOUT_MS = 20_000;
/** Bucket of the plot over time: one grid slot. */
const BUCKET_MS = 5_000;
/** How often the timeline reads both sides (steps/ingest.ts IngestTimeline's default). */
const TIMELINE_INTERVAL_MS = 500;
/** Prometheus' remote-write max_backoff (default 5s): the longest it waits before retrying. */
const PROMETHEUS_MAX_BACKOFF_MS = 5_000;

/** The status codes other than 200 the router answered for some samples, in order. */
const refusedCodes = (samplesByCode: Record<string, number>) => Object.keys(samplesByCode).filter((code) => code !== '200' && samplesByCode[code]).sort();
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe.each(INGESTER_LOSS_VARIANTS)('#8727 an ingester lost during writes, routers in front, %s', (variant) => {
  const preset = receiveIngesterLoss(variant);
  const tenant = tenantOf(preset.ingesters);
  const [victim, ...alive] = preset.ingesters.instances as [string, ...string[]];

  const run = useTopology(preset.topology, async (t) => {
    // Bring-up: the workload live, two slots delivered, every side read with nothing in flight.
    const w = t.workload.workload;
    const step = w.stepMs;
    const { liveFromMs, prometheus } = await goLiveOnAFreshSlot(t, log);
    const everyone = { prometheus, receives: [preset.router.ref, ...preset.ingesters.instances], tenant };
    const before = await quietSnapshot(t, everyone, liveFromMs + step, log);

    // The experiment: kill one ingester right after the quiet reading, let Prometheus scrape
    // OUTAGE_SLOTS more, restart it. The exporter holds the next slot back until the ingester is
    // dead (a test checks that it was not served): a kill takes milliseconds on the process
    // substrate but seconds on Kubernetes (the pod deleted, then gone), where a scrape came first.
    const timeline = new IngestTimeline(t, prometheus, preset.router.ref, tenant).start();
    await t.workload.holdAfter(before.slotMs);
    const killedAtMs = Date.now();
    await t.kill(victim);
    await t.workload.sync();
    const servedAtKill = t.workload.servedUpTo(prometheus[0]!)!;
    await t.workload.release();
    const outageUntilMs = before.slotMs + OUTAGE_SLOTS * step;
    await waitForLiveUpTo(t, prometheus, outageUntilMs, log);
    // Fixed: the router takes every write, so the outage slots are delivered (to the two alive
    // ingesters) before the restart: a precondition for knowing which slots the victim must lack.
    // Faulty: nothing is delivered until the victim is back (a test checks it).
    if (variant === 'fixed') await waitForRemoteWriteOfSlot(t, prometheus, outageUntilMs, { timeoutMs: DELIVERY_TIMEOUT_MS, onProgress: log });
    const atRestart = await remoteWriteCounters(t, prometheus[0]!);
    const restartBeganAtMs = Date.now();
    await t.start(victim);
    const restartedAtMs = Date.now();
    log(`  ${victim} killed ${iso(killedAtMs)}, restarted ${iso(restartBeganAtMs)}..${iso(restartedAtMs)}; Prometheus had delivered up to ${iso(atRestart.highestSentMs)}`);

    // Catch-up: once the victim stores a sample stamped after its restart (the router reaches it
    // again), every side is read quiet after a slot scraped entirely after that.
    await waitSumMetrics(victim, t.url(victim), greaterOrEqual(restartedAtMs), 'prometheus_tsdb_head_max_time', { labels: { tenant }, timeoutMs: RECOVERY_TIMEOUT_MS, onProgress: log });
    const recoveredAtMs = Date.now();
    const after = await quietSnapshot(t, everyone, nextSlotAfter(recoveredAtMs, step), log);
    timeline.stop();

    // What landed: with deduplication, and each ingester's copy.
    const window = { start: liveFromMs, end: after.slotMs, step };
    const query = new PromApiClient(t.url(preset.query.ref));
    const dedup = await query.queryRange(workloadSelector(w), { ...window, dedup: true, partialResponse: false });
    const copies = await query.queryRange(workloadSelector(w), { ...window, dedup: false, partialResponse: false });
    const perIngester: Record<string, RangeAnalysis> = {};
    for (const id of preset.ingesters.instances) perIngester[id] = analyseWindow(copies.result.filter((s) => s.metric[preset.receiveLabel] === replicaName(id)), w, window);
    return {
      t,
      before,
      after,
      atRestart,
      outageUntilMs,
      servedAtKill,
      killedAtMs,
      restartBeganAtMs,
      restartedAtMs,
      recoveredAtMs,
      timeline,
      window,
      dedup: analyseWindow(dedup.result, w, window),
      perIngester,
      warnings: [...(dedup.warnings ?? []), ...(copies.warnings ?? [])],
    };
  });

  const n = () => run().t.workload.workload.seriesCount;
  const step = () => run().t.workload.workload.stepMs;
  const delta = () => sidesDelta(run().before, run().after);
  const routerDelta = () => delta().receives[preset.router.ref]!;
  /** Slots scraped from the first after the quiet reading to the last one read. */
  const slots = () => (run().after.slotMs - run().before.slotMs) / step();
  const refusals = () => run().timeline.refusals();
  const outageSeconds = () => +((run().restartedAtMs - run().killedAtMs) / 1000).toFixed(1);
  /** From the restarted ingester's readiness to its storing a sample written since (the router reaching it again). */
  const reachedAgainSeconds = () => +((run().recoveredAtMs - run().restartedAtMs) / 1000).toFixed(1);

  function countsPlot(): BarsPlot {
    const { timeline, killedAtMs, restartedAtMs } = run();
    const buckets = timeline.buckets(BUCKET_MS);
    // The bucket each event falls in (the first, for one before the first reading).
    const bucketOf = (ms: number) => buckets.find((b) => ms < b.fromMs + BUCKET_MS);
    const [kill, back] = [bucketOf(killedAtMs), bucketOf(restartedAtMs)];
    const bars: BarsPlot['bars'] = [];
    for (const b of buckets) {
      const at = `${iso(b.fromMs).slice(11, 19)}${b === kill ? ' kill' : ''}${b === back ? ' back' : ''}`;
      bars.push({ label: `${at} Prometheus kept`, value: b.sentKept, group: 'Prometheus: sent and kept' });
      if (b.retried) bars.push({ label: `${at} Prometheus retried`, value: b.retried, group: 'Prometheus: retried' });
      if (b.failed) bars.push({ label: `${at} Prometheus failed`, value: b.failed, group: 'Prometheus: failed (dropped)' });
      for (const [code, v] of Object.entries(b.front)) if (v) bars.push({ label: `${at} router ${code}`, value: v, group: `router: answered ${code}` });
    }
    return { kind: 'bars', title: `Samples per ${BUCKET_MS / 1000} s, as Prometheus and the router counted them (${victim} killed, then back)`, bars, unit: 'samples' };
  }

  function copiesPlot(): TimelinePlot {
    const { window, perIngester, killedAtMs, restartedAtMs } = run();
    return {
      kind: 'timeline',
      title: 'What each ingester holds of series 0 (dedup=false)',
      range: { from: window.start, to: window.end },
      rows: preset.ingesters.instances.map((id) => {
        const s = perIngester[id]!.series.find((x) => x.index === 0);
        return { label: id, segments: s ? presentSegments(window.start, window.end, window.step, s.missing) : [] };
      }),
      marks: [{ label: `${victim} down`, from: killedAtMs, to: restartedAtMs }],
    };
  }

  it('kills the ingester before the next slot is served, and both sides count every scrape read', () => {
    const { before, servedAtKill } = run();
    expect(servedAtKill).toBe(before.slotMs);
    const { prometheus } = delta();
    // Sent and kept: one scrape's samples per slot, as many as the router answered 200 for.
    expect(prometheus.sent - prometheus.retried).toBe(slots() * (n() + REPORT_SAMPLES_PER_SCRAPE));
    expect(routerDelta().samplesByCode['200']).toBe(prometheus.sent - prometheus.retried);
  });

  if (variant === 'faulty') {
    it('refuses every write while the ingester is down with a 5xx (503 where the dial fails at once), never 409: Prometheus retries, drops nothing, delivers nothing newer', () => {
      const { prometheus } = delta();
      const r = routerDelta();
      const w = refusals();
      expect(prometheus.failed).toBe(0);
      expect(prometheus.retried).toBeGreaterThan(0);
      // Only codes Prometheus retries (5xx), 503 among them; never one it drops (4xx: 409 is #8727's).
      const refused = refusedCodes(r.samplesByCode);
      expect(refused, JSON.stringify(r.samplesByCode)).toContain('503');
      for (const code of refused) expect(code, JSON.stringify(r.samplesByCode)).toMatch(/^5\d\d$/);
      // Both sides count the same refused samples: what the router refused is what Prometheus sent again.
      expect(sum(refused.map((c) => r.samplesByCode[c]!))).toBe(prometheus.retried);
      // Nothing scraped after the kill was delivered until the restart, for any series.
      expect(run().atRestart.highestSentMs).toBe(run().before.prometheus.highestSentMs);
      // The window of refusals spans the outage: it opens at the first scrape after the kill and
      // lasts at least until Prometheus' last retry before the restart (its retries are at most 5 s apart).
      expect(w).toBeDefined();
      expect(w!.byCode).toEqual(Object.fromEntries(refused.map((c) => [c, r.requestsByCode[c]])));
      expect(w!.fromMs).toBeGreaterThanOrEqual(run().killedAtMs - TIMELINE_INTERVAL_MS);
      expect(w!.toMs).toBeGreaterThanOrEqual(run().restartBeganAtMs - PROMETHEUS_MAX_BACKOFF_MS);
    });

    it('loses nothing once it is back: every point answers, each series on exactly one ingester, whole', () => {
      const { dedup, perIngester, warnings, window } = run();
      const points = (window.end - window.start) / window.step + 1;
      expect(warnings).toEqual([]);
      expect(dedup.series).toHaveLength(n());
      expect(dedup.summary, dedup.description.slice(0, 300)).toMatchObject({ missingPoints: 0, wrongPoints: 0, repeatedTimestamps: 0, ok: true });
      const held = preset.ingesters.instances.map((id) => perIngester[id]!.series.length);
      expect(held.reduce((a, b) => a + b, 0)).toBe(n());
      for (const id of preset.ingesters.instances) {
        const a = perIngester[id]!;
        expect(a.summary.presentPoints, id).toBe(a.series.length * points);
        expect(a.summary.wrongPoints, id).toBe(0);
      }

      const { prometheus } = delta();
      const r = routerDelta();
      const w = refusals()!;
      recordFinding({
        finding: 'G',
        scenario: 'receive-ingester-loss',
        topology: preset.topology.name,
        substrate: run().t.substrate,
        configuration: 'faulty',
        observed:
          `replication factor ${preset.replicationFactor} (Thanos' default) behind a ketama router, ${victim} killed for ${outageSeconds()} s: ` +
          `the router refused every write for ${((w.toMs - w.fromMs) / 1000).toFixed(1)} s (${refusedCodes(r.samplesByCode).map((c) => `${c}: ${r.requestsByCode[c]} requests, ${r.samplesByCode[c]} samples`).join('; ')}; 0 answered 409), ` +
          `Prometheus retried those ${prometheus.retried} samples, failed 0, and delivered nothing newer for any series until the ingester was back; then nothing was lost: all ${dedup.summary.presentPoints} points answer, each series on one ingester (${held.join(' / ')})`,
        figures: {
          series: n(),
          'replication factor': preset.replicationFactor,
          'outage s': outageSeconds(),
          'router reached it again s after restart (at most)': reachedAgainSeconds(),
          'non-2xx window s': +((w.toMs - w.fromMs) / 1000).toFixed(1),
          ...Object.fromEntries(refusedCodes(r.samplesByCode).flatMap((c) => [[`router ${c} requests`, r.requestsByCode[c] ?? 0], [`router ${c} samples`, r.samplesByCode[c]!]])),
          'router 409 samples': r.samplesByCode['409'] ?? 0,
          'Prometheus samples retried': prometheus.retried,
          'Prometheus samples failed': prometheus.failed,
          'points lost with dedup': dedup.summary.missingPoints,
        },
        plots: [countsPlot(), copiesPlot()],
      });
    });
  } else {
    it('answers every write 200 while the ingester is down: nothing retried, nothing dropped, each live ingester stores all', () => {
      const { prometheus } = delta();
      const r = routerDelta();
      expect(prometheus.failed).toBe(0);
      expect(prometheus.retried).toBe(0);
      expect(refusals()).toBeUndefined();
      expect(r.samplesByCode).toEqual({ '200': prometheus.sent });
      for (const id of alive) expect(delta().receives[id]!.appended, id).toBe(prometheus.sent);
    });

    it("loses nothing with dedup; the killed ingester's copy lacks the outage, for good, and the others are whole", () => {
      const { dedup, perIngester, warnings, before, outageUntilMs, after, window } = run();
      expect(warnings).toEqual([]);
      expect(dedup.series).toHaveLength(n());
      expect(dedup.summary, dedup.description.slice(0, 300)).toMatchObject({ missingPoints: 0, wrongPoints: 0, repeatedTimestamps: 0, ok: true });
      for (const id of alive) expect(perIngester[id]!.summary, id).toMatchObject({ missingPoints: 0, wrongPoints: 0, ok: true });
      // The victim: every series lacks one run of slots, from the first after the kill through at
      // least the last outage slot (delivered before the restart began), and holds the last slot read.
      const firstLost = before.slotMs + window.step;
      const surelyLostThrough = outageUntilMs;
      const gaps = perIngester[victim]!.series.map((s) => s.missing);
      expect(gaps).toHaveLength(n());
      const bad = gaps.filter((m) => m.length !== 1 || m[0]!.startMs !== firstLost || m[0]!.endMs < surelyLostThrough || m[0]!.endMs >= after.slotMs);
      expect(bad.length, `${bad.length} series of ${victim} unlike [${iso(firstLost)}, >= ${iso(surelyLostThrough)}]: ${JSON.stringify(bad[0])}`).toBe(0);
      const lostPerSeries = gaps.map((m) => m[0]!.points);

      const { prometheus } = delta();
      recordFinding({
        finding: 'G',
        scenario: 'receive-ingester-loss',
        topology: preset.topology.name,
        substrate: run().t.substrate,
        configuration: 'fixed',
        observed:
          `replication factor ${preset.replicationFactor} (write quorum 2) behind a ketama router, ${victim} killed for ${outageSeconds()} s: the router answered all ${prometheus.sent} samples 200, ` +
          `Prometheus retried 0 and failed 0, all ${dedup.summary.presentPoints} points answer with dedup; ${victim}'s copy lacks ${Math.min(...lostPerSeries)}-${Math.max(...lostPerSeries)} slots per series from ${iso(firstLost)} (never backfilled), the other two are whole`,
        figures: {
          series: n(),
          'replication factor': preset.replicationFactor,
          'outage s': outageSeconds(),
          'router reached it again s after restart (at most)': reachedAgainSeconds(),
          'router 200 samples': routerDelta().samplesByCode['200'] ?? 0,
          'router non-2xx samples': 0,
          'Prometheus samples retried': prometheus.retried,
          'Prometheus samples failed': prometheus.failed,
          'points lost with dedup': dedup.summary.missingPoints,
          'victim slots lost per series (min)': Math.min(...lostPerSeries),
          'victim slots lost per series (max)': Math.max(...lostPerSeries),
        },
        plots: [countsPlot(), copiesPlot()],
      });
    });
  }
});

/** An ingester's replica label value: its instance's name (the plan labels each receive with it). */
const replicaName = (instance: string) => instance.split('/')[1]!;
