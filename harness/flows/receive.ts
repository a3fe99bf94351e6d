// Finding B (the receive "jitter") and Receive on the Stores page (finding E): the steps that bring a
// receiveJitter topology to a frozen window that every receive has fully ingested, and the readings
// the scenario judges (each receive's stored samples, K identical requests). Assertions are the scenario's.
import type { RangeExpectation } from '../promql/analysis.ts';
import { PromApiClient, type RangeQueryResponse, type StoreEndpoint } from '../promql/client.ts';
import { metricSum } from '../promql/metrics.ts';
import { waitForStores } from '../promql/wait-metrics.ts';
import type { RunningTopology } from '../substrates/index.ts';
import { JITTER_QUERY_PATHS } from '../topology/presets.ts';
import { waitFor } from '../wait.ts';
import { goLive } from '../workload/populate.ts';
import { valueAt } from '../workload/series.ts';
import { alignDown, gridPoints } from '../time.ts';
import { remoteWriteCounters, waitForRemoteWriteOfSlot } from './remote-write.ts';

const OBSERVER = 'observer';
const RECEIVE = `${OBSERVER}/receive`;
const GRPC_SERVICE = `${OBSERVER}/receive-grpc`;
export const TENANT = 'default-tenant';
/** Identical requests per measurement. */
export const TRIES = 20;
/**
 * Bound on one try: at 10k series on kind, 20 tries at once share one port-forward to the frontend;
 * the standalone variant's test of 20 such tries took 30.5 s, and the hashring variant's timed out
 * at the client's default 30 s.
 */
const TRY_TIMEOUT_MS = 120_000;
/**
 * Grid slots of live data the frozen window holds. What each receive holds is a draw per sample:
 * 2 Prometheus x 10 series x 21 slots = 420 samples to share out (the 15 s grid's 2 minutes gave
 * 9 slots, 180). On the 1 s grid that is 20 s of waiting per topology.
 */
export const WINDOW_SLOTS = 21;
/**
 * Prometheus' shards send in parallel, each in its own order: once one has sent a sample appended
 * this long after the window's last slot, another still holding a window sample has been stuck for
 * as long, which only a failed send's retries do (counted in remoteWrite.samplesRetried; a sample
 * still missing would show as a union short of the expected samples).
 */
const SHARD_SKEW_MS = 3_000;
/** Bound on remote write catching up with a slot: the window, then retries' backoff (at most 5 s each) a few times. */
const DELIVERY_TIMEOUT_MS = 30_000;
/** Bound on a Query's Stores page showing what it reads: Query checks its endpoints every 5 s, so six checks. */
const STORES_TIMEOUT_MS = 30_000;
/** What Thanos sends for "no bound" (math.MaxInt64), and what an empty TSDB head reports as its min time. */
export const MAX_INT64 = 2n ** 63n - 1n;

/** The name a receive stores its samples under (its receive_replica label), e.g. "receive-0". */
export const receiveName = (instance: string): string => instance.split('/')[1]!;

/** The plan's instances of a component ("observer/query" -> "observer/query-0", ...), in order. */
export const instancesOf = (t: RunningTopology, component: string): string[] => t.plan.processes.filter((p) => p.component === component).map((p) => p.id);

/** The receives of a jitter topology, in order. */
export const receivesOf = (t: RunningTopology): string[] => instancesOf(t, RECEIVE);

export interface Window {
  start: number;
  end: number;
  step: number;
}

/** One way to read the receives: Query replicas behind a Service, a Query Frontend in front. */
export interface QueryPath {
  /** The Query component, e.g. "observer/query". */
  query: string;
  /** Its replicas, in the plan's order. */
  replicas: string[];
  frontend: string;
  /** The receives (receive_replica) each replica reads, from its Stores page once the window was written. */
  readsFrom: Record<string, string[]>;
}

export interface JitterRun {
  t: RunningTopology;
  /** The observee's Prometheus instances. */
  prometheus: string[];
  /** Those that remote-wrote the window: every one, unless one was stopped before it (JitterOptions.replicaDown). */
  writers: string[];
  /** With replicaDown: slots every Prometheus wrote before one was stopped, and what each receive then held of them. */
  beforeOutage?: { window: Window; samples: StoredSample[] };
  receives: string[];
  /** The first grid slot served, and remote-written: nothing older exists anywhere. */
  liveFromMs: number;
  /** When every Prometheus had remote-written the first slot: a Query's check after this sees what it wrote. */
  firstSlotSentAtMs: number;
  /** Every sample up to window.end is in the receives and every Prometheus is stopped: the answers about it no longer change. */
  window: Window;
  /** Through the gRPC Service, replica i pinned to receive i (the faulty path; fixed (b) reads this way too). */
  pinned: QueryPath;
  /** Each replica dials every receive, where the topology has such a Query. */
  fanout: QueryPath | undefined;
  /** Connections each Service accepted per backend, once the window was written. */
  connections: Record<string, number[]>;
  /** The writers' remote-write counters then (before they were stopped), summed. */
  remoteWrite: { samplesFailed: number; samplesRetried: number };
}

export interface JitterOptions {
  /**
   * Every Prometheus writes WINDOW_SLOTS slots, then the last replica is stopped (a rollout, a node
   * drained) and the window is written by the others only. With Prometheus' default queue each
   * replica writes over one connection, so each receive holds whole replicas: their answers differ
   * only once one replica's copy has a hole.
   */
  replicaDown?: boolean;
}

/**
 * Goes live on a slot every Prometheus remote-writes, pins each replica of the Query that reads
 * through the gRPC Service to its receive (replica i reads receive i), waits until every sample
 * of a WINDOW_SLOTS window has been sent, then stops every Prometheus. With replicaDown, the last
 * Prometheus replica is stopped after WINDOW_SLOTS slots and the window follows.
 */
export async function prepareJitter(t: RunningTopology, log: (line: string) => void, opts: JitterOptions = {}): Promise<JitterRun> {
  const receives = receivesOf(t);
  const has = (component: string) => t.plan.processes.some((p) => p.component === component);
  const paths = [JITTER_QUERY_PATHS.pinned, JITTER_QUERY_PATHS.fanout].filter((p) => has(`${OBSERVER}/${p.query}`));
  const pinned = paths[0]!;
  if (pinned !== JITTER_QUERY_PATHS.pinned) throw new Error(`${t.topology.name} has no ${OBSERVER}/${JITTER_QUERY_PATHS.pinned.query}`);

  const { liveFromMs, prometheus } = await goLiveOnAFreshSlot(t, log);
  const step = t.workload.workload.stepMs;
  const slotsFrom = (start: number): Window => ({ start, end: start + (WINDOW_SLOTS - 1) * step, step });
  let window = slotsFrom(liveFromMs);
  log(`  live from ${iso(liveFromMs)}; ${opts.replicaDown ? 'every replica writes' : 'window'} ${iso(window.start)} to ${iso(window.end)}`);
  // Pinning restarts Query replicas only, nothing on the write path: done while Prometheus
  // discovers the workload target (seconds pass before its first scrape).
  const pinnedReplicas = instancesOf(t, `${OBSERVER}/${pinned.query}`);
  if (queryEndpoints(t, `${OBSERVER}/${pinned.query}`).includes(GRPC_SERVICE)) await pinEachQueryToItsReceive(t, pinnedReplicas, receives, log);
  const delivery = { marginMs: SHARD_SKEW_MS, timeoutMs: DELIVERY_TIMEOUT_MS, onProgress: log };
  const firstSlotSentAtMs = (await waitForRemoteWriteOfSlot(t, prometheus, liveFromMs, delivery)).sentAtMs;
  await waitForRemoteWriteOfSlot(t, prometheus, window.end, delivery);
  let writers = prometheus;
  let beforeOutage: JitterRun['beforeOutage'];
  if (opts.replicaDown) {
    const down = prometheus.at(-1)!;
    // What each receive holds of the slots both wrote, read the way the scenario reads the window.
    const perQuery: StoredSample[][] = [];
    for (const q of instancesOf(t, `${OBSERVER}/${pinned.query}`)) perQuery.push(await storedSamplesIn(t, q, window));
    const samples = perQuery.flat(); // not push(...): 10k series' samples exceed the call stack as arguments
    beforeOutage = { window, samples };
    await t.stop(down);
    writers = prometheus.filter((p) => p !== down);
    // The first slot no scrape of the stopped replica can have been served.
    window = slotsFrom(alignDown(Date.now(), step) + step);
    log(`  stopped ${down} (a replica down); window ${iso(window.start)} to ${iso(window.end)}, written by ${writers.join(', ')}`);
    await waitForRemoteWriteOfSlot(t, writers, window.end, delivery);
  }

  const [pinnedPath, fanoutPath] = await Promise.all(
    paths.map(async (p): Promise<QueryPath> => {
      const replicas = instancesOf(t, `${OBSERVER}/${p.query}`);
      const readsFrom: Record<string, string[]> = {};
      for (const q of replicas) readsFrom[q] = Object.values(await new PromApiClient(t.url(q)).stores()).flat().map(receiveOf).sort();
      return { query: `${OBSERVER}/${p.query}`, replicas, frontend: `${OBSERVER}/${p.frontend}`, readsFrom };
    }),
  );
  const connections: Record<string, number[]> = {};
  for (const s of t.plan.services) connections[s.id] = [...t.service(s.id).connections];
  let samplesFailed = 0;
  let samplesRetried = 0;
  for (const p of writers) {
    const counters = await remoteWriteCounters(t, p);
    samplesFailed += counters.samplesFailed;
    samplesRetried += counters.samplesRetried;
  }
  // Freeze: nothing newer than the window may reach the receives. Penalty deduplication looks at
  // samples past a query's end: while Prometheus kept writing, answers about the window changed
  // from one second to the next (measured); once it stopped, they did not.
  await Promise.all(writers.map((p) => t.stop(p)));
  return {
    t,
    prometheus,
    writers,
    ...(beforeOutage ? { beforeOutage } : {}),
    receives,
    liveFromMs,
    firstSlotSentAtMs,
    window,
    pinned: pinnedPath!,
    fanout: fanoutPath,
    connections,
    remoteWrite: { samplesFailed, samplesRetried },
  };
}

function queryEndpoints(t: RunningTopology, component: string): string[] {
  const spec = t.topology.components.find((c) => `${c.cluster}/${c.name}` === component);
  return spec?.kind === 'query' ? spec.endpoints : [];
}

/**
 * Round robin on the gRPC Service gives each Query replica the receive it happened to dial in turn
 * (a dial made before a receive listened counts too), so both may read the same one. Restarting each
 * replica while the Service sends every new connection to its receive makes the pairing explicit;
 * its one gRPC connection then stays there, as behind a ClusterIP Service.
 */
async function pinEachQueryToItsReceive(t: RunningTopology, replicas: string[], receives: string[], log: (line: string) => void): Promise<void> {
  if (replicas.length !== receives.length) throw new Error(`${replicas.length} Query replicas cannot be paired with ${receives.length} receives`);
  const grpc = t.service(GRPC_SERVICE);
  const backends = t.plan.services.find((s) => s.id === GRPC_SERVICE)!.backends;
  for (const q of replicas) await t.stop(q);
  for (const [i, q] of replicas.entries()) {
    const receive = receives[i]!;
    await grpc.pin(backends.indexOf(receive));
    await t.start(q);
    // Its only endpoint (the Service) is that receive.
    await waitForStores(q, new PromApiClient(t.url(q)), { count: 1, labels: { receive_replica: receiveName(receive) } }, { timeoutMs: STORES_TIMEOUT_MS, onProgress: log });
  }
  await grpc.pin(undefined);
}

/**
 * Prometheus' remote write skips samples older than the moment its queue started (its WAL watcher's
 * start time), and goLive serves first the current slot, aligned down from now: that slot can
 * predate a Prometheus started seconds ago. Every Prometheus was ready before this was called, so
 * once the next slot has begun, the slot goLive serves first is remote-written too.
 */
export async function goLiveOnAFreshSlot(t: RunningTopology, log: (line: string) => void): Promise<{ liveFromMs: number; prometheus: string[] }> {
  const readyBy = Date.now();
  const step = t.workload.workload.stepMs;
  await waitFor('a workload grid slot newer than every remote-write queue', async () => (alignDown(Date.now(), step) > readyBy ? true : undefined), {
    timeoutMs: 2 * step,
    intervalMs: 100,
    onProgress: log,
  });
  return goLive(t);
}

// ---- the Stores page ----

/** The receive a Stores page entry stands for (its receive_replica), or "?" if it names none. */
export const receiveOf = (entry: StoreEndpoint): string => entry.labelSets.find((l) => l.receive_replica)?.receive_replica ?? '?';

/**
 * A Query replica's Stores page entries for the receives, by receive name, once it shows every
 * receive checked without error (after checkedAfterMs, if given). Bounds exact in exactMinTime/exactMaxTime.
 */
export async function receivesOnStoresPage(
  t: RunningTopology,
  query: string,
  log: (line: string) => void,
  checkedAfterMs?: number,
): Promise<Record<string, StoreEndpoint>> {
  const expectation = { type: 'receive', count: receivesOf(t).length, checkedAfter: checkedAfterMs };
  const page = await waitForStores(query, new PromApiClient(t.url(query)), expectation, { timeoutMs: STORES_TIMEOUT_MS, onProgress: log });
  return Object.fromEntries((page.receive ?? []).map((e) => [receiveOf(e), e]));
}

/** A receive's own word on its tenant's head: the oldest sample it holds (MaxInt64, as a float, while empty). */
export async function headMinTime(t: RunningTopology, receive: string): Promise<number | undefined> {
  return metricSum(await new PromApiClient(t.url(receive)).metrics(), 'prometheus_tsdb_head_min_time', { tenant: TENANT });
}

// ---- what each receive holds ----

export interface StoredSample {
  prometheus: string;
  receive: string;
  series: number;
  t: number;
  v: number;
}

/** Every stored copy of every workload sample in the window that a Query reaches: a range selector at window.end, not deduplicated. */
export function storedSamples(run: JitterRun, query: string): Promise<StoredSample[]> {
  return storedSamplesIn(run.t, query, run.window);
}

async function storedSamplesIn(t: RunningTopology, query: string, window: Window): Promise<StoredSample[]> {
  // A range selector is open on the left: (end - range, end]. One more millisecond takes window.start in.
  const rangeMs = window.end - window.start + 1;
  const answer = await new PromApiClient(t.url(query)).query(`${t.workload.workload.metric}[${rangeMs}ms]`, { time: window.end, dedup: false });
  if (answer.resultType !== 'matrix') throw new Error(`${query}: a range selector gave a ${answer.resultType}`);
  return answer.result.flatMap((s) =>
    s.samples.map((p) => ({ prometheus: s.metric.prometheus_replica ?? '', receive: s.metric.receive_replica ?? '', series: Number(s.metric.series), t: p.t, v: p.v })),
  );
}

export interface Holdings {
  /** Samples the window should hold: every writer x every series x every grid slot. */
  expected: number;
  /** Per receive: expected samples it holds with the right value, and their share of `expected`. */
  perReceive: Record<string, { held: number; share: number }>;
  /** Expected samples held by at least one receive. */
  union: number;
  /** Expected samples held by more than one. */
  inBoth: number;
  /** Per copy, "prometheus-0@receive-1": how a Prometheus' samples were split over the receives. */
  perCopy: Record<string, number>;
  /** Stored samples that are no expected (Prometheus, series, slot, value). */
  wrong: number;
}

/**
 * Judges stored copies against the workload: which receive holds which of the expected samples
 * (every writer's, each series, each slot of the window; by default the run's window and writers).
 */
export function holdings(run: JitterRun, samples: StoredSample[], of: { window: Window; writers: string[] } = run): Holdings {
  const { window } = of;
  const w = run.t.workload.workload;
  const replicas = of.writers.map((p) => p.split('/')[1]!);
  const slots = gridPoints(window.start, window.end, window.step);
  const expected = new Map<string, number>();
  for (const p of replicas) for (let i = 0; i < w.seriesCount; i++) for (const t of slots) expected.set(`${p}/${i}/${t}`, valueAt(i, t));

  const holders = new Map<string, Set<string>>();
  let wrong = 0;
  for (const s of samples) {
    const key = `${s.prometheus}/${s.series}/${s.t}`;
    if (expected.get(key) !== s.v) {
      wrong++;
      continue;
    }
    holders.set(key, (holders.get(key) ?? new Set()).add(s.receive));
  }
  const perReceive: Holdings['perReceive'] = {};
  for (const r of run.receives.map(receiveName)) {
    const held = [...holders.values()].filter((h) => h.has(r)).length;
    perReceive[r] = { held, share: held / expected.size };
  }
  const inBoth = [...holders.values()].filter((h) => h.size > 1).length;
  const perCopy: Record<string, number> = {};
  for (const [key, receives] of holders) for (const r of receives) perCopy[`${key.split('/')[0]}@${r}`] = (perCopy[`${key.split('/')[0]}@${r}`] ?? 0) + 1;
  return { expected: expected.size, perReceive, union: holders.size, inBoth, perCopy, wrong };
}

// ---- K identical requests ----

/** The range query every try sends: the workload over the window, as Grafana sends it (Query's default dedup). */
export function tryExpectation(run: JitterRun): RangeExpectation {
  const { window } = run;
  return {
    workload: run.t.workload.workload,
    startMs: window.start,
    endMs: window.end,
    stepMs: window.step,
    coverage: [{ fromMs: run.liveFromMs, toMs: window.end }],
  };
}

export function queryWindow(run: JitterRun, client: PromApiClient): Promise<RangeQueryResponse> {
  return client.queryRange(run.t.workload.workload.metric, run.window);
}

export interface Tries {
  results: RangeQueryResponse[];
  /** Range requests each Query replica of the path served meanwhile (its own http_requests_total). */
  byQueryReplica: Record<string, number>;
}

/**
 * TRIES identical requests through a path's Query Frontend, all at once (as a dashboard refresh
 * sends its panels' queries) or one after another. The Frontend keeps idle connections to its
 * downstream and reuses the newest, so requests one after another ride one kept-alive connection
 * to one Query replica; requests at once open new connections, which the Service spreads over the replicas.
 */
export async function tryThroughFrontend(run: JitterRun, path: QueryPath, how: 'at-once' | 'one-after-another'): Promise<Tries> {
  const frontend = new PromApiClient(run.t.url(path.frontend), { timeoutMs: TRY_TIMEOUT_MS });
  const served = async () => {
    const counts: Record<string, number> = {};
    for (const q of path.replicas) {
      counts[q] = metricSum(await new PromApiClient(run.t.url(q)).metrics(), 'http_requests_total', { handler: 'query_range' }) ?? 0;
    }
    return counts;
  };
  const before = await served();
  let results: RangeQueryResponse[];
  if (how === 'at-once') {
    results = await Promise.all(Array.from({ length: TRIES }, () => queryWindow(run, frontend)));
  } else {
    results = [];
    for (let i = 0; i < TRIES; i++) results.push(await queryWindow(run, frontend));
  }
  const after = await served();
  return { results, byQueryReplica: Object.fromEntries(path.replicas.map((q) => [q, after[q]! - before[q]!])) };
}

export const iso = (ms: number): string => new Date(ms).toISOString();
