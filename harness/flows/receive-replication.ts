// One receive of a hashring dies while Prometheus keeps remote-writing through a Service, then
// comes back: the steps, and what each component reported at each step. Assertions are the scenario's.
import { PromApiClient } from '../promql/client.ts';
import { greaterOrEqual, waitForStores, waitSumMetrics, type StoresPage } from '../promql/wait-metrics.ts';
import type { RunningTopology } from '../substrates/index.ts';
import { waitFor, WaitTimeout } from '../wait.ts';
import { goLive, waitForLiveUpTo } from '../workload/populate.ts';
import { receiveCounters, remoteWriteCounters, waitForRemoteWriteOfSlot, waitForRemoteWriteUpTo, type ReceiveCounters, type RemoteWriteCounters } from './remote-write.ts';

export const PROMETHEUS = 'observee/prometheus';
export const WRITE_SERVICE = 'observer/receive-write';
const QUERY = 'observer/query';
const PENALTY_QUERY = 'observer/query-penalty';
const TENANT = 'default-tenant';
/**
 * Thanos' --receive-forward-timeout (hidden, default 5s): a receive that reached its write quorum
 * lets its other forwards run on for up to this long, so a forward to the dead receive that is
 * still pending when it comes back can land. Only writes completed longer ago surely never reach it.
 */
export const FORWARD_TIMEOUT_MS = 5_000;
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
 * Bound on the restarted receive storing forwarded samples again: the others' gRPC connections to
 * it reconnect with gRPC's backoff (1 s, growing 1.6-fold per failed attempt during the outage).
 */
const RECONNECT_TIMEOUT_MS = 30_000;
/** Bound on Query's Stores page showing what it reads: Query checks its endpoints every 5 s, so six checks. */
const STORES_TIMEOUT_MS = 30_000;

export interface Snapshot {
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
export class SentTimeline {
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

export interface OutageRun {
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

async function snapshot(t: RunningTopology, receives: string[]): Promise<Snapshot> {
  const atMs = Date.now();
  const prometheus = await remoteWriteCounters(t, PROMETHEUS);
  const counters: Record<string, ReceiveCounters | undefined> = {};
  for (const r of receives) counters[r] = await receiveCounters(t, r).catch(() => undefined);
  return { atMs, prometheus, receives: counters, connections: [...t.service(WRITE_SERVICE).connections] };
}

/** Remote-write requests a receive answered first-hand: its HTTP handler counts them, forwarded writes arrive over gRPC and are not. */
const firstHand = (c: ReceiveCounters | undefined): number => Object.values(c?.requestsByCode ?? {}).reduce((a, b) => a + b, 0);

/**
 * The receive Prometheus' remote-write connection goes to, on any substrate: the only one whose
 * first-hand requests grow (one shard sends over one connection, a batch a second). Where the
 * substrate also counts the write Service's connections (the process substrate's proxy, round robin
 * per connection), the newest connection must have gone to the same receive.
 */
async function ingressReceive(t: RunningTopology, receives: string[], log: (l: string) => void): Promise<string> {
  const counts = async () => Promise.all(receives.map(async (r) => firstHand(await receiveCounters(t, r))));
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
  const connections = t.service(WRITE_SERVICE).connections;
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
function receiveStoresUpTo(t: RunningTopology, receive: string, atMs: number, timeoutMs: number, log: (l: string) => void): Promise<number> {
  return waitSumMetrics(receive, t.url(receive), greaterOrEqual(atMs), 'prometheus_tsdb_head_max_time', { labels: { tenant: TENANT }, timeoutMs, onProgress: log });
}

/**
 * Live workload; once every receive holds samples, kill (process: SIGKILL; Kubernetes: its pod
 * deleted, grace period 1 s) the receive that Prometheus' remote-write connection goes to, keep
 * writing for OUTAGE_SAMPLES_MS of samples, restart it, wait until it stores new samples again, then
 * until every component stored TAIL_MS more.
 */
export async function runReceiveOutage(t: RunningTopology, log: (l: string) => void): Promise<OutageRun> {
  const step = t.workload.workload.stepMs;
  const receives = t.plan.processes.filter((p) => p.kind === 'receive').map((p) => p.id);
  const query = new PromApiClient(t.url(QUERY));
  const penaltyQuery = new PromApiClient(t.url(PENALTY_QUERY));
  // The armed slot is aligned down from now and can predate Prometheus' start, whose remote write
  // skips samples older than its queue. The next slot cannot.
  const liveFromMs = (await goLive(t)).liveFromMs + step;

  // Every receive holds the first slot before one is killed: each stores a sample appended after it.
  const first = await waitForRemoteWriteOfSlot(t, [PROMETHEUS], liveFromMs, { timeoutMs: DELIVERY_TIMEOUT_MS, onProgress: log });
  await Promise.all(receives.map((r) => receiveStoresUpTo(t, r, first.scrapedAtMs, DELIVERY_TIMEOUT_MS, log)));

  const victim = await ingressReceive(t, receives, log);
  const beforeKill = await snapshot(t, receives);
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
  await tryWait(waitForRemoteWriteUpTo(t, [PROMETHEUS], outageScrapedAtMs, log, DELIVERY_TIMEOUT_MS), log);
  const beforeRestart = await snapshot(t, receives);

  const restartBeganAtMs = Date.now();
  await t.start(victim);
  const restartedAtMs = Date.now();
  sent.stop();
  log(`  restarted ${victim}, ${((restartedAtMs - killedAtMs) / 1000).toFixed(0)}s after the kill`);

  // The victim's own report that it stores new samples again. The window ends TAIL_MS after the
  // slot Prometheus had stored by then, once every receive, the victim included, stores a sample
  // appended after that end.
  await tryWait(receiveStoresUpTo(t, victim, restartedAtMs, RECONNECT_TIMEOUT_MS, log), log);
  await t.workload.sync();
  const endMs = t.workload.committedUpTo(PROMETHEUS)! + TAIL_MS;
  await waitForLiveUpTo(t, [PROMETHEUS], endMs, log);
  const endScrapedAtMs = Date.now();
  await tryWait(waitForRemoteWriteUpTo(t, [PROMETHEUS], endScrapedAtMs, log, DELIVERY_TIMEOUT_MS), log);
  await tryWait(Promise.all(receives.map((r) => receiveStoresUpTo(t, r, endScrapedAtMs, DELIVERY_TIMEOUT_MS, log))), log);
  // Both Queries reach every receive again (checked since the restart).
  const reachEvery = async (name: string, q: PromApiClient) =>
    (await tryWait(waitForStores(name, q, { type: 'receive', count: receives.length, checkedAfter: restartedAtMs }, { timeoutMs: STORES_TIMEOUT_MS, onProgress: log }), log)) ?? (await q.stores());
  const [storesAfterRestart] = await Promise.all([reachEvery(QUERY, query), reachEvery(PENALTY_QUERY, penaltyQuery)]);
  const end = await snapshot(t, receives);
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
