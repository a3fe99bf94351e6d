// One receive of a hashring dies while Prometheus keeps remote-writing through a Service, then
// comes back: the steps, and what each component reported at each step. Assertions are the scenario's.
import { PromApiClient } from '../promql/client.ts';
import type { RunningTopology } from '../substrates/index.ts';
import { WaitTimeout, waitFor } from '../wait.ts';
import { goLive, waitForLiveUpTo } from '../workload/populate.ts';
import { alignUp } from '../workload/series.ts';
import { queryEndpointCount } from '../plan/index.ts';
import { waitForQueryEndpoints } from './arch2.ts';
import { receiveCounters, remoteWriteCounters, waitForRemoteWriteUpTo, type ReceiveCounters, type RemoteWriteCounters } from './remote-write.ts';

export const PROMETHEUS = 'observee/prometheus';
export const WRITE_SERVICE = 'observer/receive-write';
/** Samples stamped after the kill that Prometheus must have scraped before the receive comes back. */
const OUTAGE_SAMPLES_MS = 60_000;
/** Samples stamped after the restart that must be stored everywhere before the answers are judged. */
const AFTER_RESTART_MS = 60_000;
/** Bound on each wait for remote write to catch up; the outage lasts at most about this plus OUTAGE_SAMPLES_MS. */
const DELIVERY_TIMEOUT_MS = 90_000;
/**
 * Thanos' --receive-forward-timeout (hidden, default 5s): a receive that reached its write quorum
 * lets its other forwards run on for up to this long, so a forward to the dead receive that is
 * still pending when it comes back can land. Only writes completed longer ago surely never reach it.
 */
export const FORWARD_TIMEOUT_MS = 5_000;

export interface Snapshot {
  atMs: number;
  prometheus: RemoteWriteCounters;
  /** Per receive; undefined for one that is down. */
  receives: Record<string, ReceiveCounters | undefined>;
  /** Connections the write Service accepted so far, per backend (the receives, in order). */
  connections: number[];
}

/** When Prometheus reported having sent what: its highest sent timestamp, polled in the background. */
export class SentTimeline {
  readonly points: { atMs: number; highestSentMs: number }[] = [];
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(t: RunningTopology, prometheus: string, intervalMs = 250) {
    let busy = false;
    this.#timer = setInterval(() => {
      if (busy) return;
      busy = true;
      remoteWriteCounters(t, prometheus)
        .then((c) => this.points.push({ atMs: Date.now(), highestSentMs: c.highestSentMs }))
        .catch(() => undefined)
        .finally(() => (busy = false));
    }, intervalMs);
    this.#timer.unref(); // never what keeps the test process alive
  }

  /** The newest timestamp Prometheus had finished sending by atMs (0 if unknown). */
  sentBy(atMs: number): number {
    return this.points.filter((p) => p.atMs <= atMs).reduce((max, p) => Math.max(max, p.highestSentMs), 0);
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
  /** The receive that was killed: the one Prometheus' remote-write connection went to. */
  victim: string;
  /** First grid slot surely remote-written (see prepareArch2 for why not the armed one). */
  liveFromMs: number;
  beforeKill: Snapshot;
  /** Just before the restart: what remote write achieved while the victim was down. */
  beforeRestart: Snapshot;
  killedAtMs: number;
  /** Last grid slot of the outage that Prometheus had scraped when the restart began. */
  outageUntilMs: number;
  /** When the restart began (the process was spawned) and when the victim was ready again. */
  restartBeganAtMs: number;
  restartedAtMs: number;
  /** Prometheus' highest sent timestamp over the outage. */
  sent: SentTimeline;
  /** The end of the judged window: every component stored everything up to it (see waits). */
  endMs: number;
  end: Snapshot;
  stepMs: number;
}

async function snapshot(t: RunningTopology, receives: string[]): Promise<Snapshot> {
  const atMs = Date.now();
  const prometheus = await remoteWriteCounters(t, PROMETHEUS);
  const counters: Record<string, ReceiveCounters | undefined> = {};
  for (const r of receives) counters[r] = await receiveCounters(t, r).catch(() => undefined);
  return { atMs, prometheus, receives: counters, connections: [...t.service(WRITE_SERVICE).connections] };
}

/** Like a precondition wait, but its outcome is asserted by the scenario: a timeout is a result, not an error. */
async function tryWait(wait: Promise<unknown>, log: (l: string) => void): Promise<void> {
  try {
    await wait;
  } catch (err) {
    if (!(err instanceof WaitTimeout)) throw err;
    log(`  ${err.message}`);
  }
}

/**
 * Live workload; once every receive holds samples, kill (SIGKILL) the receive that Prometheus'
 * remote-write connection goes to, keep writing for OUTAGE_SAMPLES_MS of samples, restart it,
 * keep writing for AFTER_RESTART_MS more, and wait until every component stored all of it.
 */
export async function runReceiveOutage(t: RunningTopology, log: (l: string) => void): Promise<OutageRun> {
  const step = t.workload.workload.stepMs;
  const receives = t.plan.processes.filter((p) => p.kind === 'receive').map((p) => p.id);
  const query = new PromApiClient(t.url('observer/query'));
  const penaltyQuery = new PromApiClient(t.url('observer/query-penalty'));
  const liveFromMs = goLive(t).liveFromMs + step;

  const warmUntil = liveFromMs + 2 * step;
  await waitForLiveUpTo(t, [PROMETHEUS], warmUntil, log);
  await waitForRemoteWriteUpTo(t, [PROMETHEUS], warmUntil, log);
  const warmAt = Date.now();
  for (const q of [query, penaltyQuery]) await waitForQueryEndpoints(q, queryEndpointCount(t.topology, 'observer/query'), warmAt, liveFromMs, log);

  // Round robin per connection: the newest connection went to backend (accepted - 1) mod n.
  const beforeKill = await snapshot(t, receives);
  const accepted = beforeKill.connections.reduce((a, b) => a + b, 0);
  const victim = receives[(accepted - 1) % receives.length]!;
  const sent = new SentTimeline(t, PROMETHEUS);
  const killedAtMs = Date.now();
  await t.kill(victim);
  log(`  killed ${victim} (write Service connections so far: ${beforeKill.connections.join(', ')})`);

  // The outage lasts until Prometheus has scraped OUTAGE_SAMPLES_MS of samples stamped after the
  // kill (the exporter knows) and has had the chance to deliver them.
  const outageUntilMs = alignUp(killedAtMs, step) + OUTAGE_SAMPLES_MS;
  await waitForLiveUpTo(t, [PROMETHEUS], outageUntilMs, log);
  await tryWait(waitForRemoteWriteUpTo(t, [PROMETHEUS], outageUntilMs, log, DELIVERY_TIMEOUT_MS), log);
  const beforeRestart = await snapshot(t, receives);

  const restartBeganAtMs = Date.now();
  await t.start(victim);
  const restartedAtMs = Date.now();
  sent.stop();
  log(`  restarted ${victim}, ${((restartedAtMs - killedAtMs) / 1000).toFixed(0)}s after the kill`);

  const endMs = alignUp(restartedAtMs, step) + AFTER_RESTART_MS;
  await waitForLiveUpTo(t, [PROMETHEUS], endMs, log);
  await tryWait(waitForRemoteWriteUpTo(t, [PROMETHEUS], endMs, log, DELIVERY_TIMEOUT_MS), log);
  // The victim's own report that it stores new samples again, and Query's that it reaches it.
  await tryWait(
    waitFor(
      `${victim} to store samples up to ${new Date(endMs).toISOString()}`,
      async (note) => {
        const { headMaxTimeMs } = await receiveCounters(t, victim);
        note(`head up to ${headMaxTimeMs === undefined ? 'nothing' : new Date(headMaxTimeMs).toISOString()}`);
        return headMaxTimeMs !== undefined && headMaxTimeMs >= endMs ? headMaxTimeMs : undefined;
      },
      { timeoutMs: DELIVERY_TIMEOUT_MS, intervalMs: 500, onProgress: log },
    ),
    log,
  );
  for (const q of [query, penaltyQuery]) {
    await tryWait(
      waitFor(
        `${q.baseUrl} to reach ${victim} again`,
        async () => {
          const all = (await q.stores()).receive ?? [];
          return all.length === receives.length && all.every((e) => e.lastError === null && (e.lastCheck ?? 0) > restartedAtMs) ? all : undefined;
        },
        { timeoutMs: DELIVERY_TIMEOUT_MS, intervalMs: 500, onProgress: log },
      ),
      log,
    );
  }
  const end = await snapshot(t, receives);
  return { t, query, penaltyQuery, receives, victim, liveFromMs, beforeKill, beforeRestart, killedAtMs, outageUntilMs, restartBeganAtMs, restartedAtMs, sent, endMs, end, stepMs: step };
}
