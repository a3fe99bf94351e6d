// Issue 20, finding 4: an ingester lost during writes, routers in front (thanos-io/thanos #8727).
//
// The observee's Prometheus remote-writes 10k series to a routing-only receive (ketama), which
// forwards each series to `replicationFactor` of 3 ingesters. One ingester (the victim) goes down
// right after a reading with nothing in flight, Prometheus scrapes OUTAGE_SLOTS more slots, and the
// ingester is started again. Two experiments, each faulty and fixed: the victim killed, or
// restarted gracefully as a rollout does.
//
// What Thanos 0.42.4 answers (pkg/receive/handler.go fanoutForward): a series is written once
// `writeQuorum` of its replicas stored it (RF=3: 2); a request fails only for series that can no
// longer reach it, with 409 when enough replicas refused for good (conflicts, since #8803) and 503
// when a replica was unavailable (gRPC code Unavailable; writeErrors.Cause prefers the retryable
// cause); any other error is a 500 (handler.go's default case, logged "internal server error").
// Prometheus retries every 5xx and drops every 4xx, 409 among them.
//
// Killed (t.kill: SIGKILL, nothing flushed, the WAL replayed on start; the process substrate only, as
// no Kubernetes API kills a pod's process outright):
// - Faulty, Thanos' default replication factor (1): every request holds series of the dead
//   ingester, so the router refuses all of them until it is back: 503, the dial to it refused at
//   once (where an address stops answering instead, the forward timeout's 500 comes as well:
//   docs/receive-ingest.md has what the router logged on kind). Prometheus retries the same batch
//   and delivers nothing newer, for every series, not only the dead one's third.
//   Nothing is lost once it is back (no 409: nothing conflicts).
// - Fixed, replication factor 3 (#8727's): the two others make the quorum; every request is
//   answered 200, nothing is retried or lost; the dead ingester's copy lacks the outage, for good.
//
// Restarted gracefully (t.stop: SIGTERM on every substrate, as a rollout or a pod deletion does):
// on SIGTERM Receive cuts its head into a block ending at the newest sample it held, and once
// started its head appends only after that block. Each scrape stamps its report samples (up,
// scrape_*) with its own time, after the slot it serves: the exporter holds the next slot back,
// and the victim is stopped once it holds report samples of a scrape made after that slot came
// due (a held scrape's, or the last one's where Prometheus scrapes a slot behind the clock). So
// the victim is the ingester that holds the workload job's `up` series (with RF=1 only one does).
// - Faulty, RF=1: while it is down the router refuses every write with 5xx and Prometheus retries;
//   after the restart the victim refuses its share of the held slot as out of bounds, the router
//   answers 409 (gRPC AlreadyExists "out of bounds": #8727's 409) and Prometheus drops those
//   requests whole. Lost with dedup: exactly the victim's series in the slots its block covers, as
//   many as it counted out of bounds; nothing else.
// - Fixed, RF=3: the two others make the quorum while it is down; after the restart only newer
//   samples reach it: nothing refused, retried or lost; its copy lacks the outage.
//
// Counted three ways that must agree: Prometheus' remote-storage counters, the router's answers by
// status code and the ingesters' heads, and a query of what landed (chain deduplication over the
// ingesters, and each ingester's copy), checked point by point against the workload.
import { describe, expect, it } from 'vitest';
import { IngestTimeline, nextSlotAfter, quietSnapshot, REPORT_SAMPLES_PER_SCRAPE, sidesDelta, type IngestSnapshot } from '../harness/steps/ingest.ts';
import { analyseWindow, type RangeAnalysis } from '../harness/promql/analysis.ts';
import { PromApiClient } from '../harness/promql/client.ts';
import { greaterOrEqual, waitSumMetrics } from '../harness/promql/wait-metrics.ts';
import { recordFinding } from '../harness/report/findings.ts';
import { presentSegments, type BarsPlot, type TimelinePlot } from '../harness/report/plots.ts';
import { log, useTopology } from '../harness/scenario.ts';
import { gridPoints, iso } from '../harness/time.ts';
import { tenantOf } from '../harness/presets/handles.ts';
import { INGESTER_LOSS_VARIANTS, receiveIngesterLoss, type IngesterLossPreset, type IngesterLossVariant } from '../harness/presets/receive-ingester-loss.ts';
import { goLiveOnAFreshSlot, waitForLiveUpTo } from '../harness/steps/live.ts';
import { remoteWriteCounters, waitForRemoteWriteOfSlot, type RemoteWriteCounters } from '../harness/steps/remote-write.ts';
import type { RunningTopology } from '../harness/substrates/index.ts';
import { workloadSelector } from '../harness/workload/series.ts';

/** Slots Prometheus scrapes after the victim went down before it is started again. */
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
/** Bound on a scrape after the next slot came due reaching the victim: the next scrape (one slot) and its delivery (a second). */
const HELD_SCRAPE_TIMEOUT_MS = 20_000;
/** Bucket of the plot over time: one grid slot. */
const BUCKET_MS = 5_000;
/** How often the timeline reads both sides (steps/ingest.ts IngestTimeline's default). */
const TIMELINE_INTERVAL_MS = 500;
/** Prometheus' remote-write max_backoff (default 5s): the longest it waits before retrying. */
const PROMETHEUS_MAX_BACKOFF_MS = 5_000;

/** The status codes other than 200 the router answered for some samples, in order. */
const refusedCodes = (samplesByCode: Record<string, number>) => Object.keys(samplesByCode).filter((code) => code !== '200' && samplesByCode[code]).sort();
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** This file's finding row: finding G of the topology the run brought up, with what it observed. */
function recordIngesterFinding(preset: IngesterLossPreset, t: { substrate: string }, configuration: 'faulty' | 'fixed', row: Pick<Parameters<typeof recordFinding>[0], 'observed' | 'figures' | 'plots'>): void {
  recordFinding({ finding: 'G', scenario: 'receive-ingester-loss', topology: preset.topology.name, substrate: t.substrate, configuration, ...row });
}
/** An ingester's replica label value: its instance's name (the plan labels each receive with it). */
const replicaName = (instance: string) => instance.split('/')[1]!;
/** Scrapes of the workload so far, every scraper's. */
const scrapeCount = (t: RunningTopology) => t.workload.scrapes().reduce((n, s) => n + s.count, 0);

// ---- What both experiments share: bring-up, the restart and catch-up, what landed, the plots. ----

/** Bring-up: the workload live, two slots delivered, every side read with nothing in flight. */
async function bringUp(t: RunningTopology, preset: IngesterLossPreset) {
  const { liveFromMs, prometheus } = await goLiveOnAFreshSlot(t, log);
  const everyone = { prometheus, receives: [preset.router.ref, ...preset.ingesters.instances], tenant: tenantOf(preset.ingesters) };
  const before = await quietSnapshot(t, everyone, liveFromMs + t.workload.workload.stepMs, log);
  return { liveFromMs, prometheus, everyone, before };
}
type BroughtUp = Awaited<ReturnType<typeof bringUp>>;

interface CaughtUp {
  /** The last slot scraped before the restart. */
  outageUntilMs: number;
  /** Prometheus' counters as the restart began. */
  atRestart: RemoteWriteCounters;
  restartBeganAtMs: number;
  /** When the victim was ready again. */
  restartedAtMs: number;
  /** When it had stored a sample stamped after that (the router reached it again). */
  recoveredAtMs: number;
  after: IngestSnapshot & { slotMs: number };
  window: { start: number; end: number; step: number };
  dedup: RangeAnalysis;
  perIngester: Record<string, RangeAnalysis>;
  warnings: string[];
}

/**
 * The rest of either experiment, once the victim is down and nothing is held back: Prometheus
 * scrapes OUTAGE_SLOTS more slots. Fixed: the router takes every write, so the outage slots are
 * delivered (to the two alive ingesters) before the restart, a precondition for knowing which
 * slots the victim must lack; faulty: nothing newer is delivered until the victim is back. Then the
 * victim is started; once it stores a sample stamped after its restart (the router reaches it
 * again), every side is read quiet after a slot scraped entirely after that, the timeline stops, and
 * what landed is queried: with deduplication, and each ingester's copy.
 */
async function restartAndCatchUp(t: RunningTopology, preset: IngesterLossPreset, variant: IngesterLossVariant, victim: string, up: BroughtUp, timeline: IngestTimeline): Promise<CaughtUp> {
  const w = t.workload.workload;
  const step = w.stepMs;
  const outageUntilMs = up.before.slotMs + OUTAGE_SLOTS * step;
  await waitForLiveUpTo(t, up.prometheus, outageUntilMs, log);
  if (variant === 'fixed') await waitForRemoteWriteOfSlot(t, up.prometheus, outageUntilMs, { timeoutMs: DELIVERY_TIMEOUT_MS, onProgress: log });
  const atRestart = await remoteWriteCounters(t, up.prometheus[0]!);
  const restartBeganAtMs = Date.now();
  await t.start(victim);
  const restartedAtMs = Date.now();
  log(`  ${victim} restarted ${iso(restartBeganAtMs)}..${iso(restartedAtMs)}; Prometheus had delivered up to ${iso(atRestart.highestSentMs)}`);

  await waitSumMetrics(victim, t.url(victim), greaterOrEqual(restartedAtMs), 'prometheus_tsdb_head_max_time', { labels: { tenant: up.everyone.tenant }, timeoutMs: RECOVERY_TIMEOUT_MS, onProgress: log });
  const recoveredAtMs = Date.now();
  const after = await quietSnapshot(t, up.everyone, nextSlotAfter(recoveredAtMs, step), log);
  timeline.stop();

  const window = { start: up.liveFromMs, end: after.slotMs, step };
  const query = new PromApiClient(t.url(preset.query.ref));
  const dedup = await query.queryRange(workloadSelector(w), { ...window, dedup: true, partialResponse: false });
  const copies = await query.queryRange(workloadSelector(w), { ...window, dedup: false, partialResponse: false });
  const perIngester: Record<string, RangeAnalysis> = {};
  for (const id of preset.ingesters.instances) perIngester[id] = analyseWindow(copies.result.filter((s) => s.metric[preset.receiveLabel] === replicaName(id)), w, window);
  return {
    outageUntilMs,
    atRestart,
    restartBeganAtMs,
    restartedAtMs,
    recoveredAtMs,
    after,
    window,
    dedup: analyseWindow(dedup.result, w, window),
    perIngester,
    warnings: [...(dedup.warnings ?? []), ...(copies.warnings ?? [])],
  };
}

/** The victim's outage, as the plots mark it. */
interface Outage {
  victim: string;
  /** "kill" or "stop": the bar of the plot it falls in. */
  how: string;
  downAtMs: number;
  backAtMs: number;
}

/** Samples per slot over the experiment, as Prometheus and the router counted them, the outage marked. */
function countsPlot(timeline: IngestTimeline, o: Outage): BarsPlot {
  const buckets = timeline.buckets(BUCKET_MS);
  // The bucket each event falls in (the first, for one before the first reading).
  const bucketOf = (ms: number) => buckets.find((b) => ms < b.fromMs + BUCKET_MS);
  const [down, back] = [bucketOf(o.downAtMs), bucketOf(o.backAtMs)];
  const bars: BarsPlot['bars'] = [];
  for (const b of buckets) {
    const at = `${iso(b.fromMs).slice(11, 19)}${b === down ? ` ${o.how}` : ''}${b === back ? ' back' : ''}`;
    bars.push({ label: `${at} Prometheus kept`, value: b.sentKept, group: 'Prometheus: sent and kept' });
    if (b.retried) bars.push({ label: `${at} Prometheus retried`, value: b.retried, group: 'Prometheus: retried' });
    if (b.failed) bars.push({ label: `${at} Prometheus failed`, value: b.failed, group: 'Prometheus: failed (dropped)' });
    for (const [code, v] of Object.entries(b.front)) if (v) bars.push({ label: `${at} router ${code}`, value: v, group: `router: answered ${code}` });
  }
  return { kind: 'bars', title: `Samples per ${BUCKET_MS / 1000} s, as Prometheus and the router counted them (${o.victim}: ${o.how}, then back)`, bars, unit: 'samples' };
}

/** What each ingester holds of one workload series (dedup=false), the outage marked. */
function copiesPlot(preset: IngesterLossPreset, r: CaughtUp, o: Outage, index: number): TimelinePlot {
  const { window, perIngester } = r;
  return {
    kind: 'timeline',
    title: `What each ingester holds of series ${index} (dedup=false)`,
    range: { from: window.start, to: window.end },
    rows: preset.ingesters.instances.map((id) => {
      const s = perIngester[id]!.series.find((x) => x.index === index);
      return { label: id, segments: s ? presentSegments(window.start, window.end, window.step, s.missing) : [] };
    }),
    marks: [{ label: `${o.victim} down`, from: o.downAtMs, to: o.backAtMs }],
  };
}

/**
 * Fixed: the router answered every write 200 while the victim was down; nothing retried or dropped;
 * each alive ingester stored all, less `duplicates`: samples sent again unchanged (a held scrape's),
 * which a head takes without error but does not count as appended.
 */
function expectEveryWriteTaken(d: ReturnType<typeof sidesDelta>, router: string, alive: string[], timeline: IngestTimeline, duplicates = 0) {
  const { prometheus } = d;
  expect(prometheus.failed).toBe(0);
  expect(prometheus.retried).toBe(0);
  expect(timeline.refusals()).toBeUndefined();
  expect(d.receives[router]!.samplesByCode).toEqual({ '200': prometheus.sent });
  for (const id of alive) expect(d.receives[id]!.appended, id).toBe(prometheus.sent - duplicates);
}

/**
 * Fixed: nothing lost with dedup, the alive ingesters whole; every series of the victim's copy lacks
 * one run of slots, from the first after `lastSlotMs` (the last it stored) through at least the last
 * outage slot (delivered before the restart began), and holds the last slot read. The run's length
 * per series, for the record.
 */
function expectVictimLacksTheOutage(r: CaughtUp, victim: string, alive: string[], n: number, lastSlotMs: number): number[] {
  const { dedup, perIngester, warnings, outageUntilMs, after, window } = r;
  expect(warnings).toEqual([]);
  expect(dedup.series).toHaveLength(n);
  expect(dedup.summary, dedup.description.slice(0, 300)).toMatchObject({ missingPoints: 0, wrongPoints: 0, repeatedTimestamps: 0, ok: true });
  for (const id of alive) expect(perIngester[id]!.summary, id).toMatchObject({ missingPoints: 0, wrongPoints: 0, ok: true });
  const firstLost = lastSlotMs + window.step;
  const gaps = perIngester[victim]!.series.map((s) => s.missing);
  expect(gaps).toHaveLength(n);
  const bad = gaps.filter((m) => m.length !== 1 || m[0]!.startMs !== firstLost || m[0]!.endMs < outageUntilMs || m[0]!.endMs >= after.slotMs);
  expect(bad.length, `${bad.length} series of ${victim} unlike [${iso(firstLost)}, >= ${iso(outageUntilMs)}]: ${JSON.stringify(bad[0])}`).toBe(0);
  return gaps.map((m) => m[0]!.points);
}

// ---- Killed ----

describe.each(INGESTER_LOSS_VARIANTS)('#8727 an ingester lost during writes, routers in front, %s', (variant) => {
  const preset = receiveIngesterLoss(variant);
  const [victim, ...alive] = preset.ingesters.instances as [string, ...string[]];

  const run = useTopology(preset.topology, async (t) => {
    const up = await bringUp(t, preset);
    const { before, prometheus } = up;

    // The experiment: kill one ingester right after the quiet reading, let Prometheus scrape
    // OUTAGE_SLOTS more, restart it. The exporter holds the next slot back until the ingester is
    // dead (a test checks that it was not served). Only where a process can be killed outright: a
    // Kubernetes "kill" deletes the pod, which sends SIGTERM first, and that is the restart below.
    const timeline = new IngestTimeline(t, prometheus, preset.router.ref, up.everyone.tenant).start();
    await t.workload.holdAfter(before.slotMs);
    const killedAtMs = Date.now();
    await t.kill(victim);
    await t.workload.sync();
    const servedAtKill = t.workload.servedUpTo(prometheus[0]!)!;
    await t.workload.release();
    log(`  ${victim} killed ${iso(killedAtMs)}`);
    const rest = await restartAndCatchUp(t, preset, variant, victim, up, timeline);
    return { t, before, servedAtKill, killedAtMs, timeline, ...rest };
  }, { faults: ['killOutright'] });

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
  const outage = (): Outage => ({ victim, how: 'kill', downAtMs: run().killedAtMs, backAtMs: run().restartedAtMs });
  const plots = () => [countsPlot(run().timeline, outage()), copiesPlot(preset, run(), outage(), 0)];

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
      recordIngesterFinding(preset, run().t, 'faulty', {
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
        plots: plots(),
      });
    });
  } else {
    it('answers every write 200 while the ingester is down: nothing retried, nothing dropped, each live ingester stores all', () => {
      expectEveryWriteTaken(delta(), preset.router.ref, alive, run().timeline);
    });

    it("loses nothing with dedup; the killed ingester's copy lacks the outage, for good, and the others are whole", () => {
      const lostPerSeries = expectVictimLacksTheOutage(run(), victim, alive, n(), run().before.slotMs);
      const { dedup } = run();
      const { prometheus } = delta();
      recordIngesterFinding(preset, run().t, 'fixed', {
        observed:
          `replication factor ${preset.replicationFactor} (write quorum 2) behind a ketama router, ${victim} killed for ${outageSeconds()} s: the router answered all ${prometheus.sent} samples 200, ` +
          `Prometheus retried 0 and failed 0, all ${dedup.summary.presentPoints} points answer with dedup; ${victim}'s copy lacks ${Math.min(...lostPerSeries)}-${Math.max(...lostPerSeries)} slots per series from ${iso(run().before.slotMs + step())} (never backfilled), the other two are whole`,
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
        plots: plots(),
      });
    });
  }
});

// ---- Restarted gracefully (a rollout) ----

describe.each(INGESTER_LOSS_VARIANTS)('#8727 an ingester restarted gracefully during writes (a rollout), routers in front, %s', (variant) => {
  const preset = receiveIngesterLoss(variant, 'restart');
  const tenant = tenantOf(preset.ingesters);

  const run = useTopology(preset.topology, async (t) => {
    const w = t.workload.workload;
    const step = w.stepMs;
    const up = await bringUp(t, preset);
    const { before, prometheus } = up;
    const query = new PromApiClient(t.url(preset.query.ref));
    const own = new PromApiClient(t.url(preset.prometheus.ref)); // Prometheus' own TSDB: every scrape it made

    // The victim: an ingester that holds the workload job's `up` series, as the quiet reading left
    // them (with RF=1 one of the three, with RF=3 each; the first is taken).
    const upSelector = `up{job="${w.job}"}`;
    const upCopies = await query.query(upSelector, { time: before.atMs, dedup: false, partialResponse: false });
    const upHolders = upCopies.resultType === 'vector' ? preset.ingesters.instances.filter((id) => upCopies.result.some((s) => s.metric[preset.receiveLabel] === replicaName(id))) : [];
    const victim = upHolders[0];
    if (!victim) throw new Error(`no ingester holds ${upSelector} at ${iso(before.atMs)} (${JSON.stringify(upCopies.result)})`);

    // The experiment: the exporter holds the next slot back. Each scrape stamps its report samples
    // with its own time: once the victim holds one made after the next slot came due, its newest
    // sample is past that slot's timestamp. That is a held scrape's (it serves the last slot again),
    // or, where Prometheus scrapes a slot behind the clock (the exporter serves each scraper the slot
    // after its last, so a first scrape late in its slot leaves it one behind for good), already the
    // quiet reading's. Then the victim is stopped gracefully: it cuts its head into a block ending
    // there. The held slot is let go, Prometheus scrapes the outage slots, and the victim is started.
    const timeline = new IngestTimeline(t, prometheus, preset.router.ref, tenant).start();
    await t.workload.holdAfter(before.slotMs);
    await t.workload.sync();
    const scrapesAtHold = scrapeCount(t);
    const headMaxAtStopMs = await waitSumMetrics(victim, t.url(victim), greaterOrEqual(before.slotMs + step), 'prometheus_tsdb_head_max_time', {
      labels: { tenant },
      timeoutMs: HELD_SCRAPE_TIMEOUT_MS,
      intervalMs: 100,
      onProgress: log,
    });
    const stoppedAtMs = Date.now();
    await t.stop(victim);
    const stopReturnedAtMs = Date.now();
    // Prometheus' last scrape before the stop (held or the quiet reading's), from its own TSDB.
    const lastUp = await own.query(`timestamp(${upSelector})`, { time: stopReturnedAtMs });
    if (lastUp.resultType !== 'vector' || lastUp.result.length !== 1) throw new Error(`${preset.prometheus.ref} has no single ${upSelector} to date its last scrape`);
    const lastScrapeMs = Math.round(lastUp.result[0]!.v * 1000);
    await t.workload.sync();
    const servedAtStop = t.workload.servedUpTo(prometheus[0]!)!;
    const scrapesAtStop = scrapeCount(t);
    await t.workload.release();
    log(`  ${victim} (holding ${upSelector}) stopped ${iso(stoppedAtMs)}..${iso(stopReturnedAtMs)}, its newest sample ${iso(headMaxAtStopMs)}; Prometheus' last scrape ${iso(lastScrapeMs)}`);

    const rest = await restartAndCatchUp(t, preset, variant, victim, up, timeline);
    // The victim's newest sample before the stop, now in the block it cut: its newest `up` (each
    // scrape stamps its report samples with its own time, the workload's slots are older), read
    // through Query once it is back (every sample it stored since is stamped after its restart).
    const victimUp = await query.query(`timestamp(up{job="${w.job}",${preset.receiveLabel}="${replicaName(victim)}"})`, { time: stopReturnedAtMs, dedup: false, partialResponse: false });
    if (victimUp.resultType !== 'vector' || victimUp.result.length !== 1) throw new Error(`Query has no single up series of ${victim} at ${iso(stopReturnedAtMs)}`);
    const blockNewestMs = Math.round(victimUp.result[0]!.v * 1000);
    return { t, before, victim, upHolders, headMaxAtStopMs, stoppedAtMs, stopReturnedAtMs, lastScrapeMs, servedAtStop, scrapesAtHold, scrapesAtStop, blockNewestMs, timeline, ...rest };
  });

  const n = () => run().t.workload.workload.seriesCount;
  const step = () => run().t.workload.workload.stepMs;
  const victim = () => run().victim;
  const alive = () => preset.ingesters.instances.filter((id) => id !== victim());
  const delta = () => sidesDelta(run().before, run().after);
  const routerDelta = () => delta().receives[preset.router.ref]!;
  /** Slots scraped from the first after the quiet reading to the last one read. */
  const slots = () => (run().after.slotMs - run().before.slotMs) / step();
  /** Scrapes made while the next slot was held back: each served the last slot again. */
  const heldScrapes = () => run().scrapesAtStop - run().scrapesAtHold;
  /** The slots after the quiet reading stamped at or before the victim's block's newest sample: what its head refuses once started. */
  const behindTheBlock = () => gridPoints(run().before.slotMs + step(), run().blockNewestMs, step());
  /** Samples the victim refused as out of bounds: its counter since the restart (a new process counts from 0). */
  const victimOutOfBounds = () => run().after.receives[victim()]!.outOfBounds;
  /** The victim's workload series (those its copy holds). */
  const victimSeries = () => new Set(run().perIngester[victim()]!.series.map((s) => s.index));
  const outageSeconds = () => +((run().restartedAtMs - run().stoppedAtMs) / 1000).toFixed(1);
  const reachedAgainSeconds = () => +((run().recoveredAtMs - run().restartedAtMs) / 1000).toFixed(1);
  const outage = (): Outage => ({ victim: victim(), how: 'stop', downAtMs: run().stoppedAtMs, backAtMs: run().restartedAtMs });
  const plots = () => [countsPlot(run().timeline, outage()), copiesPlot(preset, run(), outage(), Math.min(...victimSeries()))];

  it("stops the ingester that holds the workload's up series once its newest sample is past the next slot, before that slot was served: its block ends at the last scrape", () => {
    const { before, servedAtStop, upHolders, headMaxAtStopMs, lastScrapeMs, blockNewestMs } = run();
    expect(upHolders).toHaveLength(preset.replicationFactor);
    expect(servedAtStop).toBe(before.slotMs);
    // Every scrape made before the stop reached the victim, and nothing newer: the block it cut on
    // SIGTERM ends at the last scrape's report samples (a held scrape's, or, where Prometheus
    // scrapes a slot behind the clock, the quiet reading's own), past the next slot's timestamp.
    expect(blockNewestMs, `the victim's newest sample ${iso(blockNewestMs)}, Prometheus' last scrape ${iso(lastScrapeMs)}`).toBe(lastScrapeMs);
    expect(blockNewestMs).toBeGreaterThanOrEqual(headMaxAtStopMs);
    expect(behindTheBlock().length).toBeGreaterThanOrEqual(1);
  });

  it('counts every scrape on both sides: each slot and each held scrape once, what Prometheus kept is what the router answered 200', () => {
    const { prometheus } = delta();
    const kept = prometheus.sent - prometheus.retried - prometheus.failed;
    // A held scrape serves the last slot again: Prometheus appends the same samples again (an
    // identical duplicate is no error) and sends them, with its report samples.
    expect(kept + prometheus.failed).toBe((slots() + heldScrapes()) * (n() + REPORT_SAMPLES_PER_SCRAPE));
    expect(routerDelta().samplesByCode['200']).toBe(kept);
  });

  if (variant === 'faulty') {
    it('refuses every write while it is down with a 5xx, which Prometheus retries, then the held slot with 409, which Prometheus drops: both sides count them', () => {
      const { prometheus } = delta();
      const r = routerDelta();
      // #8727's 409: Prometheus' failed samples are the router's samples answered 409.
      expect(prometheus.failed).toBeGreaterThan(0);
      expect(r.samplesByCode['409'], JSON.stringify(r.samplesByCode)).toBe(prometheus.failed);
      // While it was down: only codes Prometheus retries, as many samples as it sent again.
      const retryable = refusedCodes(r.samplesByCode).filter((c) => c !== '409');
      for (const code of retryable) expect(code, JSON.stringify(r.samplesByCode)).toMatch(/^5\d\d$/);
      expect(prometheus.retried).toBeGreaterThan(0);
      expect(sum(retryable.map((c) => r.samplesByCode[c]!))).toBe(prometheus.retried);
      // The 409s came once the victim was back.
      const first409 = firstReadingWith(run().timeline, '409');
      expect(first409, 'no timeline reading saw a 409').toBeDefined();
      expect(first409!).toBeGreaterThanOrEqual(run().restartBeganAtMs);
    });

    it("loses with dedup exactly what the restarted ingester refused as out of bounds: its own series in the slots its block covers, and nothing else", () => {
      const { dedup, warnings } = run();
      expect(warnings).toEqual([]);
      expect(dedup.series).toHaveLength(n());
      expect(dedup.summary.wrongPoints).toBe(0);
      expect(dedup.summary.repeatedTimestamps).toBe(0);
      const mine = victimSeries();
      const behind = behindTheBlock();
      const expected = [{ startMs: behind[0]!, endMs: behind.at(-1)!, points: behind.length }];
      const unlike = dedup.series.filter((s) => JSON.stringify(s.missing.map(({ startMs, endMs, points }) => ({ startMs, endMs, points }))) !== JSON.stringify(mine.has(s.index) ? expected : []));
      expect(unlike.length, `${unlike.length} series lack other than ${JSON.stringify(expected)} on ${victim()}'s, nothing elsewhere: series ${unlike[0]?.index} (${mine.has(unlike[0]?.index ?? -1) ? 'the victim\'s' : 'not the victim\'s'}) lacks ${JSON.stringify(unlike[0]?.missing)}`).toBe(0);
      expect(dedup.summary.missingPoints).toBe(mine.size * behind.length);
      expect(dedup.summary.missingPoints).toBeGreaterThan(0);
      // As the victim counted them; the alive ingesters refused nothing.
      expect(victimOutOfBounds()).toBe(dedup.summary.missingPoints);
      for (const id of alive()) expect(delta().receives[id]!.outOfBounds, id).toBe(0);

      const { prometheus } = delta();
      const r = routerDelta();
      const retryable = refusedCodes(r.samplesByCode).filter((c) => c !== '409');
      recordIngesterFinding(preset, run().t, 'faulty', {
        observed:
          `replication factor ${preset.replicationFactor} (Thanos' default) behind a ketama router, ${victim()} (holding the workload's up series) stopped gracefully (SIGTERM) once it held a scrape made after the next slot came due, down ${outageSeconds()} s: ` +
          `its block ended at that scrape's report samples, ${((run().blockNewestMs - behind[0]!) / 1000).toFixed(1)} s past the held slot (${heldScrapes()} held scrape(s)); while it was down the router answered ${retryable.map((c) => `${c} (${r.samplesByCode[c]} samples)`).join(', ')} and Prometheus retried ${prometheus.retried}; ` +
          `after the restart it answered 409 to ${r.requestsByCode['409']} requests (${r.samplesByCode['409']} samples) and Prometheus dropped them (failed ${prometheus.failed}); ${victim()} counted ${victimOutOfBounds()} samples out of bounds, ` +
          `exactly the ${dedup.summary.missingPoints} points lost with dedup: its ${mine.size} series x ${behind.length} slot(s), nothing else`,
        figures: {
          series: n(),
          'replication factor': preset.replicationFactor,
          'outage s': outageSeconds(),
          'router reached it again s after restart (at most)': reachedAgainSeconds(),
          'held scrapes': heldScrapes(),
          'block end s past the held slot': +((run().blockNewestMs - behind[0]!) / 1000).toFixed(3),
          ...Object.fromEntries(retryable.flatMap((c) => [[`router ${c} requests`, r.requestsByCode[c] ?? 0], [`router ${c} samples`, r.samplesByCode[c]!]])),
          'router 409 requests': r.requestsByCode['409'] ?? 0,
          'router 409 samples': r.samplesByCode['409'] ?? 0,
          'Prometheus samples retried': prometheus.retried,
          'Prometheus samples failed': prometheus.failed,
          'victim series': mine.size,
          'slots behind the block': behind.length,
          'victim out-of-bounds samples': victimOutOfBounds(),
          'points lost with dedup': dedup.summary.missingPoints,
        },
        plots: plots(),
      });
    });
  } else {
    it('answers every write 200 while the ingester is down and after: nothing retried, dropped or out of bounds, each live ingester stores all', () => {
      expectEveryWriteTaken(delta(), preset.router.ref, alive(), run().timeline, heldScrapes() * n());
      expect(victimOutOfBounds()).toBe(0);
    });

    it("loses nothing with dedup; the restarted ingester's copy lacks the outage, for good, and the others are whole", () => {
      const lostPerSeries = expectVictimLacksTheOutage(run(), victim(), alive(), n(), run().before.slotMs);
      const { dedup } = run();
      const { prometheus } = delta();
      recordIngesterFinding(preset, run().t, 'fixed', {
        observed:
          `replication factor ${preset.replicationFactor} (write quorum 2) behind a ketama router, ${victim()} stopped gracefully (SIGTERM) once it held a scrape made after the next slot came due, down ${outageSeconds()} s (its block ended ${((run().blockNewestMs - behindTheBlock()[0]!) / 1000).toFixed(1)} s past the held slot): ` +
          `the router answered all ${prometheus.sent} samples 200, Prometheus retried 0 and failed 0, ${victim()} refused 0 out of bounds after the restart; all ${dedup.summary.presentPoints} points answer with dedup; ` +
          `${victim()}'s copy lacks ${Math.min(...lostPerSeries)}-${Math.max(...lostPerSeries)} slots per series from ${iso(run().before.slotMs + step())} (never backfilled), the other two are whole`,
        figures: {
          series: n(),
          'replication factor': preset.replicationFactor,
          'outage s': outageSeconds(),
          'router reached it again s after restart (at most)': reachedAgainSeconds(),
          'held scrapes': heldScrapes(),
          'router 200 samples': routerDelta().samplesByCode['200'] ?? 0,
          'router non-2xx samples': 0,
          'Prometheus samples retried': prometheus.retried,
          'Prometheus samples failed': prometheus.failed,
          'victim out-of-bounds samples': victimOutOfBounds(),
          'points lost with dedup': dedup.summary.missingPoints,
          'victim slots lost per series (min)': Math.min(...lostPerSeries),
          'victim slots lost per series (max)': Math.max(...lostPerSeries),
        },
        plots: plots(),
      });
    });
  }
});

/** When the timeline first saw the router answer `code` (the reading's time), if it did. */
function firstReadingWith(timeline: IngestTimeline, code: string): number | undefined {
  const points = timeline.points;
  for (let k = 1; k < points.length; k++) if ((points[k]!.front.requestsByCode[code] ?? 0) > (points[k - 1]!.front.requestsByCode[code] ?? 0)) return points[k]!.atMs;
  return undefined;
}
