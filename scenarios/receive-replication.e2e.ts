// Receive replication under node loss: one Prometheus remote-writes through a Service to a
// hashring of receives; the receive its connection goes to is killed while the workload runs,
// then restarted.
//
// Thanos 0.42.4 accepts a write once a quorum of the replication factor has stored it
// (pkg/receive/handler.go writeQuorum: RF=3 -> 2, RF=2 -> 1, a special case). So with one of three
// receives down (RF=3) every sample still lands on two; with one of two down (RF=2) on one only.
// Receive has no hinted handoff: the restarted receive never gets the samples written while it was
// down, which dedup=false shows as a gap on that replica and dedup=true hides. The copies are
// identical, so Query merges them with chain deduplication (exact); Thanos' default, penalty,
// can drop samples where it switches away from the replica with the gap: measured separately.
//
// The Service balances per connection. On the process substrate it does not know the receive is
// dead (no readiness), so a new connection may go to it: Prometheus then gets a connection error and
// retries; on Kubernetes the dead pod leaves the Service's endpoints. What is asserted is what does
// not depend on that timing: nothing fails for good, every sample is delivered while the receive is
// down, nothing is missing after chain deduplication, the restarted replica's gap covers at least
// every sample scraped after the kill and delivered before the restart, and it stores new samples
// again. Retries and the gap's exact edges are measured.
//
// The restarted receive keeps what it had stored where its data outlives the process: on the
// process substrate, and on Kubernetes where the cluster has a default StorageClass (a
// PersistentVolumeClaim per receive), not on an emptyDir. Kubernetes cannot SIGKILL: "killed" there
// is the pod deleted with a 1 s grace period (the kubelet sends SIGTERM, SIGKILL 2 s later).
//
// Live only, on a 1s grid: the outage lasts seconds. Workload timestamps trail the clock by the
// scrape's lag behind the grid (a few seconds), so the gap starts before the kill.
import { describe, expect, it } from 'vitest';
import { tenantOf } from '../harness/presets/handles.ts';
import { receiveReplication, type ReplicationPreset } from '../harness/presets/receive-replication.ts';
import { analyseRange, type RangeAnalysis } from '../harness/promql/analysis.ts';
import { PromApiClient } from '../harness/promql/client.ts';
import { greaterOrEqual, waitForStores, waitSumMetrics, type StoresPage } from '../harness/promql/wait-metrics.ts';
import { recordFinding } from '../harness/report/findings.ts';
import { presentSegments } from '../harness/report/plots.ts';
import { log, useTopology } from '../harness/scenario.ts';
import { goLive, waitForLiveUpTo } from '../harness/steps/live.ts';
import { receiveCounters, remoteWriteCounters, waitForRemoteWriteOfSlot, waitForRemoteWriteUpTo, type ReceiveCounters, type RemoteWriteCounters } from '../harness/steps/remote-write.ts';
import type { RunningTopology } from '../harness/substrates/index.ts';
import { waitFor, WaitTimeout } from '../harness/wait.ts';
import { iso } from '../harness/time.ts';

/**
 * Thanos' --receive-forward-timeout (hidden, default 5s): a receive that reached its write quorum
 * lets its other forwards run on for up to this long, so a forward to the dead receive that is
 * still pending when it comes back can land. Only writes completed longer ago surely never reach it.
 */
const FORWARD_TIMEOUT_MS = 5_000;
/** Prometheus' remote-write max_backoff (default 5s): the longest it waits before retrying a failed send. */
const RETRY_BACKOFF_MS = 5_000;
/**
 * Workload slots Prometheus scrapes after the kill before the receive comes back. Some of them must
 * have been delivered more than FORWARD_TIMEOUT_MS before the restart began (those can never reach
 * it), after a send that failed on the dead receive's connection was retried on a new one (at most
 * RETRY_BACKOFF_MS later): the outage holds both.
 */
const OUTAGE_SAMPLES_MS = FORWARD_TIMEOUT_MS + RETRY_BACKOFF_MS;
/** Slots after the one Prometheus had stored when the victim stored again: the judged window ends with samples every receive holds. */
const TAIL_MS = 2_000;
/** Bound on each wait for remote write to catch up with a scrape: a few retries' backoff. */
const DELIVERY_TIMEOUT_MS = 4 * RETRY_BACKOFF_MS;
/**
 * Prometheus' remote_timeout (default 30s; the plan sets none). Where the dead receive's connection
 * is reset (process: its socket closes with it) Prometheus retries within RETRY_BACKOFF_MS; where
 * nothing answers for the deleted pod's address (kind: the pod's network is gone, no reset comes
 * back), the request in flight waits out this timeout first. Measured on kind at 0ef5e58 and again
 * at 0c6a43f: with the 2-receive hashring nothing was delivered for 34 s after the kill, so a
 * 20 s bound restarted the receive before any write of the outage had landed.
 */
const REMOTE_TIMEOUT_MS = 30_000;
/** Bound on remote write resuming during the outage: a request waiting out remote_timeout, then a retry. */
const OUTAGE_DELIVERY_TIMEOUT_MS = REMOTE_TIMEOUT_MS + DELIVERY_TIMEOUT_MS;
/**
 * Bound on the restarted receive storing forwarded samples again: the others' gRPC connections to
 * it reconnect with gRPC's backoff (1 s, growing 1.6-fold per failed attempt during the outage).
 */
const RECONNECT_TIMEOUT_MS = 30_000;
/** Bound on Query's Stores page showing what it reads: Query checks its endpoints every 5 s, so six checks. */
const STORES_TIMEOUT_MS = 30_000;

interface Snapshot {
  atMs: number;
  prometheus: RemoteWriteCounters;
  /** Per receive; undefined for one that is down. */
  receives: Record<string, ReceiveCounters | undefined>;
  /** Connections the write Service accepted so far, per backend (the receives, in order); empty where the substrate does not count them (Kubernetes). */
  connections: number[];
}

/**
 * When Prometheus reported having sent what (its highest sent timestamp), and which workload slot
 * it had stored by then (the exporter's committedUpTo), polled in the background.
 */
class SentTimeline {
  readonly points: { atMs: number; highestSentMs: number; storedSlotMs: number | undefined }[] = [];
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(t: RunningTopology, prometheus: string, intervalMs = 250) {
    let busy = false;
    this.#timer = setInterval(() => {
      if (busy) return;
      busy = true;
      // The exporter's mirror brought up to date first, then the time: whatever it says was stored by atMs.
      t.workload
        .sync()
        .then(async () => {
          const storedSlotMs = t.workload.committedUpTo(prometheus);
          const atMs = Date.now();
          const c = await remoteWriteCounters(t, prometheus);
          this.points.push({ atMs, highestSentMs: c.highestSentMs, storedSlotMs });
        })
        .catch(() => undefined)
        .finally(() => (busy = false));
    }, intervalMs);
    this.#timer.unref(); // never what keeps the test process alive
  }

  /** The newest timestamp Prometheus had finished sending by atMs (0 if unknown). */
  sentBy(atMs: number): number {
    return this.points.filter((p) => p.atMs <= atMs).reduce((max, p) => Math.max(max, p.highestSentMs), 0);
  }

  /**
   * The newest workload slot surely sent by atMs: one stored at a moment that a sent sample's
   * timestamp has passed (that sample was appended later; one shard sends in append order).
   */
  slotSentBy(atMs: number): number {
    const sent = this.sentBy(atMs);
    return this.points.filter((p) => p.atMs <= sent).reduce((max, p) => Math.max(max, p.storedSlotMs ?? 0), 0);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

interface OutageRun {
  t: RunningTopology;
  /** Query with chain deduplication (exact for identical copies) and with Thanos' default, penalty. */
  query: PromApiClient;
  penaltyQuery: PromApiClient;
  receives: string[];
  /** The receive that was killed: the one Prometheus' remote-write connection went to (see ingressReceive). */
  victim: string;
  /** First grid slot surely remote-written (the one after the armed one, see runReceiveOutage). */
  liveFromMs: number;
  beforeKill: Snapshot;
  /** Just before the restart: what remote write achieved while the victim was down. */
  beforeRestart: Snapshot;
  killedAtMs: number;
  /** The first workload slot Prometheus scraped after the kill (a few seconds older than it: the scrape lags the grid). */
  firstSlotAfterKillMs: number;
  /** Last grid slot of the outage, and when Prometheus had stored it: every outage sample was appended before then. */
  outageUntilMs: number;
  outageScrapedAtMs: number;
  /** When the restart began (the process was spawned) and when the victim was ready again. */
  restartBeganAtMs: number;
  restartedAtMs: number;
  /** Prometheus' highest sent timestamp over the outage. */
  sent: SentTimeline;
  /** The end of the judged window: every component stored everything up to it (see waits). */
  endMs: number;
  end: Snapshot;
  /** The chain-deduplicating Query's Stores page once it had checked every receive after the restart. */
  storesAfterRestart: StoresPage;
  stepMs: number;
}

async function snapshot(t: RunningTopology, p: ReplicationPreset): Promise<Snapshot> {
  const atMs = Date.now();
  const prometheus = await remoteWriteCounters(t, p.prometheus.ref);
  const counters: Record<string, ReceiveCounters | undefined> = {};
  for (const r of p.receive.instances) counters[r] = await receiveCounters(t, r, tenantOf(p.receive)).catch(() => undefined);
  return { atMs, prometheus, receives: counters, connections: [...t.service(p.writeService.ref).connections] };
}

/** Remote-write requests a receive answered first-hand: its HTTP handler counts them, forwarded writes arrive over gRPC and are not. */
const firstHand = (c: ReceiveCounters | undefined): number => Object.values(c?.requestsByCode ?? {}).reduce((a, b) => a + b, 0);

/**
 * The receive Prometheus' remote-write connection goes to, on any substrate: the only one whose
 * first-hand requests grow (one shard sends over one connection, a batch a second). Where the
 * substrate also counts the write Service's connections (the process substrate's proxy, round robin
 * per connection), the newest connection must have gone to the same receive.
 */
async function ingressReceive(t: RunningTopology, p: ReplicationPreset, log: (l: string) => void): Promise<string> {
  const receives = p.receive.instances;
  const counts = async () => Promise.all(receives.map(async (r) => firstHand(await receiveCounters(t, r, tenantOf(p.receive)))));
  let base = await counts();
  const ingress = await waitFor(
    "the receive that Prometheus' remote write goes to",
    async (note) => {
      const now = await counts();
      const grown = receives.filter((_, i) => now[i]! > base[i]!);
      note(`first-hand write requests ${now.join('/')}, grown: ${grown.join(', ') || 'none'}`);
      if (grown.length > 1) base = now; // a new connection in between: look again
      return grown.length === 1 ? grown[0] : undefined;
    },
    { timeoutMs: DELIVERY_TIMEOUT_MS, intervalMs: 250, onProgress: log },
  );
  const connections = t.service(p.writeService.ref).connections;
  if (connections.length) {
    const accepted = connections.reduce((a, b) => a + b, 0);
    const newest = receives[(accepted - 1) % receives.length];
    if (newest !== ingress) throw new Error(`${ingress} answers Prometheus' remote write, but the write Service's newest connection (${accepted}, round robin) went to ${newest}`);
  }
  return ingress;
}

/** Like a precondition wait, but its outcome is asserted by the scenario: a timeout is a result, not an error. */
async function tryWait<T>(wait: Promise<T>, log: (l: string) => void): Promise<T | undefined> {
  try {
    return await wait;
  } catch (err) {
    if (!(err instanceof WaitTimeout)) throw err;
    log(`  ${err.message}`);
    return undefined;
  }
}

/** Waits until a receive stores a sample stamped atMs or later (its tenant head's max time). */
function receiveStoresUpTo(t: RunningTopology, p: ReplicationPreset, receive: string, atMs: number, timeoutMs: number, log: (l: string) => void): Promise<number> {
  return waitSumMetrics(receive, t.url(receive), greaterOrEqual(atMs), 'prometheus_tsdb_head_max_time', { labels: { tenant: tenantOf(p.receive) }, timeoutMs, onProgress: log });
}

/**
 * Live workload; once every receive holds samples, kill (process: SIGKILL; Kubernetes: its pod
 * deleted, grace period 1 s) the receive that Prometheus' remote-write connection goes to, keep
 * writing for OUTAGE_SAMPLES_MS of samples, restart it, wait until it stores new samples again, then
 * until every component stored TAIL_MS more.
 */
async function runReceiveOutage(t: RunningTopology, p: ReplicationPreset, log: (l: string) => void): Promise<OutageRun> {
  const PROMETHEUS = p.prometheus.ref;
  const step = t.workload.workload.stepMs;
  const receives = [...p.receive.instances];
  const query = new PromApiClient(t.url(p.query.ref));
  const penaltyQuery = new PromApiClient(t.url(p.penaltyQuery.ref));
  // The armed slot is aligned down from now and can predate Prometheus' start, whose remote write
  // skips samples older than its queue. The next slot cannot.
  const liveFromMs = (await goLive(t)).liveFromMs + step;

  // Every receive holds the first slot before one is killed: each stores a sample appended after it.
  const first = await waitForRemoteWriteOfSlot(t, [PROMETHEUS], liveFromMs, { timeoutMs: DELIVERY_TIMEOUT_MS, onProgress: log });
  await Promise.all(receives.map((r) => receiveStoresUpTo(t, p, r, first.scrapedAtMs, DELIVERY_TIMEOUT_MS, log)));

  const victim = await ingressReceive(t, p, log);
  const beforeKill = await snapshot(t, p);
  const sent = new SentTimeline(t, PROMETHEUS);
  const killedAtMs = Date.now();
  await t.kill(victim);
  // Every scrape served before the kill in the exporter's mirror (it serves from another thread).
  await t.workload.sync();
  // Not served before the receive was dead: this slot and every later one were appended, and sent, after the kill.
  const firstSlotAfterKillMs = t.workload.servedUpTo(PROMETHEUS)! + step;
  log(`  killed ${victim}${beforeKill.connections.length ? ` (write Service connections so far: ${beforeKill.connections.join(', ')})` : ''}`);

  // The outage lasts until Prometheus has scraped OUTAGE_SAMPLES_MS of slots after the kill (the
  // exporter knows) and has had the chance to deliver them.
  const outageUntilMs = firstSlotAfterKillMs + OUTAGE_SAMPLES_MS;
  await waitForLiveUpTo(t, [PROMETHEUS], outageUntilMs, log);
  const outageScrapedAtMs = Date.now();
  await tryWait(waitForRemoteWriteUpTo(t, [PROMETHEUS], outageScrapedAtMs, log, OUTAGE_DELIVERY_TIMEOUT_MS), log);
  // ...and the receive stays down for FORWARD_TIMEOUT_MS of scrapes after that delivery, so that the
  // writes of the outage were surely completed (not still forwarded) when the restart begins. On the
  // process substrate delivery resumes within a retry's backoff; on kind only after remote_timeout.
  await t.workload.sync();
  await waitForLiveUpTo(t, [PROMETHEUS], t.workload.servedUpTo(PROMETHEUS)! + FORWARD_TIMEOUT_MS + step, log);
  const beforeRestart = await snapshot(t, p);

  const restartBeganAtMs = Date.now();
  await t.start(victim);
  const restartedAtMs = Date.now();
  sent.stop();
  log(`  restarted ${victim}, ${((restartedAtMs - killedAtMs) / 1000).toFixed(0)}s after the kill`);

  // The victim's own report that it stores new samples again. The window ends TAIL_MS after the
  // slot Prometheus had stored by then, once every receive, the victim included, stores a sample
  // appended after that end.
  await tryWait(receiveStoresUpTo(t, p, victim, restartedAtMs, RECONNECT_TIMEOUT_MS, log), log);
  await t.workload.sync();
  const endMs = t.workload.committedUpTo(PROMETHEUS)! + TAIL_MS;
  await waitForLiveUpTo(t, [PROMETHEUS], endMs, log);
  const endScrapedAtMs = Date.now();
  await tryWait(waitForRemoteWriteUpTo(t, [PROMETHEUS], endScrapedAtMs, log, DELIVERY_TIMEOUT_MS), log);
  await tryWait(Promise.all(receives.map((r) => receiveStoresUpTo(t, p, r, endScrapedAtMs, DELIVERY_TIMEOUT_MS, log))), log);
  // Both Queries reach every receive again (checked since the restart).
  const reachEvery = async (name: string, q: PromApiClient) =>
    (await tryWait(waitForStores(name, q, { type: 'receive', count: receives.length, checkedAfter: restartedAtMs }, { timeoutMs: STORES_TIMEOUT_MS, onProgress: log }), log)) ?? (await q.stores());
  const [storesAfterRestart] = await Promise.all([reachEvery(p.query.ref, query), reachEvery(p.penaltyQuery.ref, penaltyQuery)]);
  const end = await snapshot(t, p);
  return {
    t,
    query,
    penaltyQuery,
    receives,
    victim,
    liveFromMs,
    beforeKill,
    beforeRestart,
    killedAtMs,
    firstSlotAfterKillMs,
    outageUntilMs,
    outageScrapedAtMs,
    restartBeganAtMs,
    restartedAtMs,
    sent,
    endMs,
    end,
    storesAfterRestart,
    stepMs: step,
  };
}

const seconds = (ms: number) => Math.round(ms / 1000);
/** A receive's replica label value: its instance's name (the plan labels each receive with it). */
const replicaName = (instance: string) => instance.split('/')[1]!;


/** One range query over the judged window, from the liveFromMs slot to endMs, and its analysis. */
async function analyse(run: OutageRun, dedup: boolean, query: PromApiClient): Promise<{ analysis: RangeAnalysis; warnings: string[] }> {
  const window = { start: run.liveFromMs, end: run.endMs, step: run.stepMs };
  const answer = await query.queryRange(run.t.workload.workload.metric, { ...window, dedup, partialResponse: false });
  const analysis = analyseRange(answer.result, {
    workload: run.t.workload.workload,
    startMs: window.start,
    endMs: window.end,
    stepMs: window.step,
    coverage: [{ fromMs: window.start, toMs: window.end }],
  });
  return { analysis, warnings: answer.warnings ?? [] };
}

/** Sum of a per-receive counter over the receives that were up in both snapshots. */
function aliveDelta(run: OutageRun, from: Snapshot, to: Snapshot, pick: (c: NonNullable<Snapshot['receives'][string]>) => number): number {
  return run.receives
    .filter((r) => r !== run.victim)
    .reduce((sum, r) => sum + pick(to.receives[r]!) - pick(from.receives[r]!), 0);
}

const non200 = (byCode: Record<string, number>) => Object.entries(byCode).reduce((n, [code, v]) => n + (code === '200' ? 0 : v), 0);

/** "series@t" for every point a series lacks. */
const missingKeys = (s: RangeAnalysis['series'][number], stepMs: number) =>
  s.missing.flatMap((m) => Array.from({ length: m.points }, (_, k) => `${s.index}@${m.startMs + k * stepMs}`));

describe.each([
  { receives: 3, rf: 3, quorum: 2 },
  { receives: 2, rf: 2, quorum: 1 },
])('hashring of $receives receives, replication factor $rf (write quorum $quorum): one receive killed and restarted', ({ receives, rf, quorum }) => {
  const preset = receiveReplication(receives, rf);
  const { topology } = preset;
  // Bring-up, then the outage, and every answer the tests judge, each asked once here.
  const run = useTopology(topology, async (t) => {
    const outage = await runReceiveOutage(t, preset, log);
    return {
      outage,
      chain: await analyse(outage, true, outage.query),
      penalty: await analyse(outage, true, outage.penaltyQuery),
      perReplica: await analyse(outage, false, outage.query),
    };
  });

  it('keeps accepting remote write while the receive is down: nothing fails, everything is delivered', () => {
    const { outage } = run();
    const { beforeKill, beforeRestart } = outage;
    const failed = beforeRestart.prometheus.samplesFailed - beforeKill.prometheus.samplesFailed;
    const retried = beforeRestart.prometheus.samplesRetried - beforeKill.prometheus.samplesRetried;
    const sent = beforeRestart.prometheus.samplesTotal - beforeKill.prometheus.samplesTotal;
    const victimIndex = outage.receives.indexOf(outage.victim);
    const counted = beforeKill.connections.length > 0; // not on Kubernetes
    const connections = counted
      ? `Service connections ${beforeKill.connections.join('/')} -> ${beforeRestart.connections.join('/')} (${beforeRestart.connections[victimIndex]! - beforeKill.connections[victimIndex]!} to the dead receive)`
      : 'Service connections not counted on this substrate';
    const replicationErrors = aliveDelta(outage, beforeKill, beforeRestart, (c) => c.replicationError);
    const rejected = aliveDelta(outage, beforeKill, beforeRestart, (c) => non200(c.requestsByCode));
    log(
      `[${topology.name}] outage ${iso(outage.killedAtMs)} .. ${iso(outage.restartedAtMs)}: Prometheus sent ${sent} samples (attempts), ${retried} retried, ${failed} failed; ` +
        `delivered up to ${iso(beforeRestart.prometheus.highestSentMs)}; ${connections}; alive receives: ${replicationErrors} replication errors, ${rejected} requests answered non-200`,
    );
    expect(failed).toBe(0);
    // Every sample Prometheus scraped during the outage was delivered before the restart: one
    // appended after the last outage slot was (one shard, sending in append order).
    expect(beforeRestart.prometheus.highestSentMs).toBeGreaterThanOrEqual(outage.outageScrapedAtMs);
    // The alive receives answered every write with 200: the quorum was met without the dead one...
    expect(rejected).toBe(0);
    // ...though they did try to replicate to it.
    expect(replicationErrors).toBeGreaterThan(0);
  });

  it('loses no sample with dedup=true (chain) over the window including the outage', () => {
    const { outage, chain } = run();
    expect(chain.warnings).toEqual([]);
    expect(chain.analysis.series).toHaveLength(outage.t.workload.workload.seriesCount);
    expect(chain.analysis.summary, chain.analysis.description).toMatchObject({ missingPoints: 0, wrongPoints: 0, repeatedTimestamps: 0, ok: true });
  });

  it("with Thanos' default penalty deduplication, loses at most samples inside the restarted receive's gap", () => {
    // Penalty deduplication follows one replica and, when it switches to another at a gap, skips
    // that one's samples for twice the last interval. Which replica it starts with depends on the
    // order the receives answer in, so how much it loses varies; where it can lose does not.
    const { outage, penalty, perReplica } = run();
    const victimMissing = new Set(
      perReplica.analysis.series.filter((s) => s.labels.receive_replica === replicaName(outage.victim)).flatMap((s) => missingKeys(s, outage.stepMs)),
    );
    expect(penalty.warnings).toEqual([]);
    expect(penalty.analysis.series).toHaveLength(outage.t.workload.workload.seriesCount);
    expect(penalty.analysis.summary.wrongPoints).toBe(0);
    const outside = penalty.analysis.series.flatMap((s) => missingKeys(s, outage.stepMs).filter((key) => !victimMissing.has(key)));
    expect(outside, penalty.analysis.description).toEqual([]);
    log(`[${topology.name}] penalty dedup: ${penalty.analysis.description}`);
  });

  it('shows with dedup=false that the restarted receive lacks the outage window and the others are complete', () => {
    const { outage, chain, penalty, perReplica } = run();
    const { analysis } = perReplica;
    const { seriesCount } = outage.t.workload.workload;
    expect(perReplica.warnings).toEqual([]);
    expect(analysis.series).toHaveLength(receives * seriesCount);
    expect(analysis.summary.wrongPoints).toBe(0);
    const victimLabel = replicaName(outage.victim);
    const ofVictim = analysis.series.filter((s) => s.labels.receive_replica === victimLabel);
    const ofOthers = analysis.series.filter((s) => s.labels.receive_replica !== victimLabel);
    expect(ofVictim).toHaveLength(seriesCount);
    for (const s of ofOthers) expect(s.missing, `${s.labels.receive_replica} series ${s.index}`).toEqual([]);

    // Samples scraped after the kill whose write had completed (on the alive receives) longer than
    // the forward timeout before the restart began can never reach it: each series lacks all of them.
    const firstAfterKill = outage.firstSlotAfterKillMs;
    const surelyMissingUntil = outage.sent.slotSentBy(outage.restartBeganAtMs - FORWARD_TIMEOUT_MS);
    expect(surelyMissingUntil, 'samples delivered during the outage').toBeGreaterThan(firstAfterKill);
    const surelyMissing = (surelyMissingUntil - firstAfterKill) / outage.stepMs + 1;
    for (const s of ofVictim) {
      const covering = s.missing.find((m) => m.startMs <= firstAfterKill && m.endMs >= surelyMissingUntil);
      expect(covering, `${victimLabel} series ${s.index} lacks ${iso(firstAfterKill)}..${iso(surelyMissingUntil)}: ${JSON.stringify(s.missing)}`).toBeDefined();
      // ...and it stores new samples again: the end of the window is there.
      expect(s.missing.every((m) => m.endMs < outage.endMs)).toBe(true);
    }
    // The measured gap(s), the same for every series when all writes carry every series.
    const gaps = ofVictim[0]!.missing;
    const gapPoints = ofVictim[0]!.missingPoints;
    const gapText = gaps.map((m) => `${iso(m.startMs)}..${iso(m.endMs)} (${m.points})`).join(', ');

    // During the outage each sample lived on the alive receives only.
    const copiesDuringOutage = receives - 1;
    log(
      `[${topology.name}] ${victimLabel} lacks ${gapText}, ${gapPoints} points per series; surely lacks ${iso(firstAfterKill)}..${iso(surelyMissingUntil)} (${surelyMissing}); ` +
        `killed ${iso(outage.killedAtMs)}, restart began ${iso(outage.restartBeganAtMs)}, ready ${iso(outage.restartedAtMs)}; ${ofOthers.length / seriesCount} other replica(s) complete`,
    );
    const lastGap = gaps.at(-1)!;
    const retried = outage.beforeRestart.prometheus.samplesRetried - outage.beforeKill.prometheus.samplesRetried;
    const failed = outage.beforeRestart.prometheus.samplesFailed - outage.beforeKill.prometheus.samplesFailed;
    const chainMissing = chain.analysis.summary.missingPoints;
    const penaltyMissing = penalty.analysis.summary.missingPoints;
    const victimIndex = outage.receives.indexOf(outage.victim);
    const { connections } = outage.beforeKill;
    recordFinding({
      finding: 'R',
      scenario: 'receive-replication',
      topology: topology.name,
      substrate: outage.t.substrate,
      configuration: rf >= 3 ? 'fixed' : 'faulty',
      observed:
        `${outage.victim} killed for ${seconds(outage.restartedAtMs - outage.killedAtMs)}s under load: remote write kept succeeding (${failed} samples failed, ${retried} retried), ` +
        `dedup=true missing ${chainMissing} points with chain deduplication (${penaltyMissing} with the default penalty); dedup=false: ${victimLabel} lacks ${gapPoints} points per series (${gapText}), never backfilled; ` +
        `while it was down each sample was held by ${copiesDuringOutage} receive(s) (write quorum ${quorum} of ${rf})`,
      figures: {
        outageSeconds: seconds(outage.restartedAtMs - outage.killedAtMs),
        samplesFailed: failed,
        samplesRetried: retried,
        missingPointsDedupChain: chainMissing,
        missingPointsDedupPenalty: penaltyMissing,
        victimMissingPointsPerSeries: gapPoints,
        victimSurelyMissingPointsPerSeries: surelyMissing,
        victimGaps: gaps.length,
        // Workload timestamps trail the clock by the scrape's lag behind the grid: a gap can start before the kill.
        scrapeLagAtKillSeconds: seconds(outage.killedAtMs - outage.firstSlotAfterKillMs),
        gapStartAfterKillSeconds: seconds(gaps[0]!.startMs - outage.killedAtMs),
        gapEndAfterRestartSeconds: seconds(lastGap.endMs - outage.restartedAtMs),
        copiesDuringOutage,
        // Where the substrate counts the Service's connections (not on Kubernetes).
        ...(connections.length ? { connectionsToDeadReceive: outage.beforeRestart.connections[victimIndex]! - connections[victimIndex]! } : {}),
      },
      plots: [
        {
          kind: 'timeline',
          title: `What each receive holds of series 0 (dedup=false), with ${outage.victim}'s outage marked`,
          range: { from: outage.liveFromMs, to: outage.endMs },
          rows: outage.receives.map((receive) => {
            const series = analysis.series.find((s) => s.labels.receive_replica === replicaName(receive))!;
            return { label: receive, segments: presentSegments(outage.liveFromMs, outage.endMs, outage.stepMs, series.missing) };
          }),
          marks: [{ label: `${outage.victim} down`, from: outage.killedAtMs, to: outage.restartedAtMs }],
        },
      ],
    });
  });

  it('serves again after the restart: Query reaches it and it holds the data from before the kill', () => {
    const { outage } = run();
    const entry = (outage.storesAfterRestart.receive ?? []).find((e) => e.labelSets[0]?.receive_replica === replicaName(outage.victim));
    expect(entry, `${outage.victim} in /api/v1/stores`).toBeDefined();
    expect(entry!.lastError).toBeNull();
    expect(entry!.lastCheck!).toBeGreaterThan(outage.restartedAtMs);
    // Its data outlived the process (WAL replay, or the block a receive cuts on SIGTERM): it holds what it stored before the kill.
    expect(entry!.minTime as number, `${outage.victim}'s oldest sample after the restart (on Kubernetes its data is on an emptyDir where the cluster has no default StorageClass: see the bring-up's "data on" line)`).toBeLessThanOrEqual(outage.liveFromMs);
    expect(outage.end.receives[outage.victim]!.headMaxTimeMs!).toBeGreaterThanOrEqual(outage.endMs);
  });
});
