// Finding B (the receive "jitter") and Receive on the Stores page (finding E): the steps that bring a
// receiveJitter topology to a frozen window that every receive has fully ingested, and the readings
// the scenario judges (each receive's stored samples, K identical requests). Assertions are the scenario's.
import type { RangeExpectation } from '../promql/analysis.ts';
import { PromApiClient, type Labels, type RangeQueryResponse } from '../promql/client.ts';
import { metricSum } from '../promql/metrics.ts';
import type { RunningTopology } from '../substrates/index.ts';
import { waitFor } from '../wait.ts';
import { remoteWriteCounters, waitForRemoteWriteUpTo } from './remote-write.ts';
import { goLive } from '../workload/populate.ts';
import { alignDown, gridPoints, valueAt } from '../workload/series.ts';

export const RECEIVES = ['observer/receive-0', 'observer/receive-1'];
export const QUERY_REPLICAS = ['observer/query-0', 'observer/query-1'];
export const FRONTEND = 'observer/query-frontend';
const GRPC_SERVICE = 'observer/receive-grpc';
export const TENANT = 'default-tenant';
/** Identical requests per measurement. */
export const TRIES = 20;
/** Live data the frozen window holds: 9 grid slots. */
export const WINDOW_MS = 120_000;
/** What Thanos sends for "no bound" (math.MaxInt64), and what an empty TSDB head reports as its min time. */
export const MAX_INT64 = 2n ** 63n - 1n;

/** The name a receive stores its samples under (its receive_replica label), e.g. "receive-0". */
export const receiveName = (instance: string): string => instance.split('/')[1]!;

export interface Window {
  start: number;
  end: number;
  step: number;
}

export interface JitterRun {
  t: RunningTopology;
  /** The observee's Prometheus instances. */
  prometheus: string[];
  /** The first grid slot served, and remote-written: nothing older exists anywhere. */
  liveFromMs: number;
  /** Every sample up to window.end is in the receives; the answers about it no longer change. */
  window: Window;
  /** The receives (receive_replica) each Query replica reads, from its Stores page. */
  readsFrom: Record<string, string[]>;
  /** Connections each Service accepted per backend, once the window was written. */
  connections: Record<string, number[]>;
  /** Prometheus' remote-write counters then, summed over both. */
  remoteWrite: { samplesFailed: number; samplesRetried: number };
}

/**
 * Each Query replica reading what the preset says (through the gRPC Service: replica i reads
 * receive i), live from a slot every Prometheus remote-writes, until every sample of a WINDOW_MS
 * window has been sent.
 */
export async function prepareJitter(t: RunningTopology, log: (line: string) => void): Promise<JitterRun> {
  if (QUERY_REPLICAS.some((q) => queryEndpoints(t, q).includes(GRPC_SERVICE))) await pinEachQueryToItsReceive(t, log);

  const { liveFromMs, prometheus } = await goLiveOnAFreshSlot(t, log);
  const step = t.workload.workload.stepMs;
  const window = { start: liveFromMs, end: liveFromMs + WINDOW_MS, step };
  log(`  live from ${iso(liveFromMs)}; window ${iso(window.start)} to ${iso(window.end)}`);
  // Two slots past the window: that sample was scraped at least one scrape (three flushes of every
  // shard) after the window's last one was appended, and each shard sends in order.
  await waitForRemoteWriteUpTo(t, prometheus, window.end + 2 * step, log, WINDOW_MS + 120_000);

  const readsFrom: Record<string, string[]> = {};
  for (const q of QUERY_REPLICAS) readsFrom[q] = (await rawStores(t.url(q))).map(receiveOf).sort();
  const connections: Record<string, number[]> = {};
  for (const s of t.plan.services) connections[s.id] = [...t.service(s.id).connections];
  let samplesFailed = 0;
  let samplesRetried = 0;
  for (const p of prometheus) {
    const counters = await remoteWriteCounters(t, p);
    samplesFailed += counters.samplesFailed;
    samplesRetried += counters.samplesRetried;
  }
  return { t, prometheus, liveFromMs, window, readsFrom, connections, remoteWrite: { samplesFailed, samplesRetried } };
}

function queryEndpoints(t: RunningTopology, instance: string): string[] {
  const component = t.plan.processes.find((p) => p.id === instance)?.component;
  const spec = t.topology.components.find((c) => `${c.cluster}/${c.name}` === component);
  return spec?.kind === 'query' ? spec.endpoints : [];
}

/**
 * Round robin on the gRPC Service gives each Query replica the receive it happened to dial in turn
 * (a dial made before a receive listened counts too), so both may read the same one. Restarting each
 * replica while the Service sends every new connection to its receive makes the pairing explicit;
 * its one gRPC connection then stays there, as behind a ClusterIP Service.
 */
async function pinEachQueryToItsReceive(t: RunningTopology, log: (line: string) => void): Promise<void> {
  const grpc = t.service(GRPC_SERVICE);
  const backends = t.plan.services.find((s) => s.id === GRPC_SERVICE)!.backends;
  for (const q of QUERY_REPLICAS) await t.stop(q);
  for (const [i, q] of QUERY_REPLICAS.entries()) {
    const receive = RECEIVES[i]!;
    await grpc.pin(backends.indexOf(receive));
    await t.start(q);
    await waitFor(
      `${q} to read ${receive} through ${GRPC_SERVICE}`,
      async (note) => {
        const stores = await rawStores(t.url(q));
        note(stores.map((s) => `${receiveOf(s)} ${s.lastError ?? 'ok'}`).join(', ') || 'no endpoint yet');
        return stores.length === 1 && stores[0]!.lastError === null && receiveOf(stores[0]!) === receiveName(receive) ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, onProgress: log },
    );
  }
  await grpc.pin(undefined);
}

/**
 * Prometheus' remote write skips samples older than the moment its queue started (its WAL watcher's
 * start time), and goLive serves first the current slot, aligned down from now: that slot can
 * predate a Prometheus started seconds ago. Every Prometheus was ready before this was called, so
 * once the next slot has begun, the slot goLive serves first is remote-written too.
 */
async function goLiveOnAFreshSlot(t: RunningTopology, log: (line: string) => void): Promise<{ liveFromMs: number; prometheus: string[] }> {
  const readyBy = Date.now();
  const step = t.workload.workload.stepMs;
  await waitFor('a workload grid slot newer than every remote-write queue', async () => (alignDown(Date.now(), step) > readyBy ? true : undefined), {
    timeoutMs: 2 * step,
    intervalMs: 100,
    onProgress: log,
  });
  return goLive(t);
}

// ---- the Stores page, exactly ----

/** A Stores page entry with its component type ("receive", "sidecar", ...) and exact time bounds. */
export interface StoreEntry {
  type: string;
  name: string;
  lastCheck: number | undefined;
  lastError: string | null;
  labelSets: Labels[];
  minTime: bigint;
  maxTime: bigint;
}

/** Query's Stores page, one entry per endpoint, bounds exact (the jitter scenario compares them to int64 values). */
export async function rawStores(queryUrl: string): Promise<StoreEntry[]> {
  const stores = await new PromApiClient(queryUrl).stores();
  return Object.entries(stores).flatMap(([type, entries]) =>
    entries.map((e) => ({ type, name: e.name, lastCheck: e.lastCheck, lastError: e.lastError, labelSets: e.labelSets, minTime: e.exactMinTime, maxTime: e.exactMaxTime })),
  );
}

/** The receive a Stores page entry stands for (its receive_replica), or "?" if it names none. */
export const receiveOf = (entry: StoreEntry): string => entry.labelSets.find((l) => l.receive_replica)?.receive_replica ?? '?';

/** A query replica's Stores page entries for the receives, by receive name, once it has checked each of them after sinceMs. */
export async function receivesOnStoresPage(
  t: RunningTopology,
  query: string,
  sinceMs: number,
  log: (line: string) => void,
): Promise<Record<string, StoreEntry>> {
  return await waitFor(
    `${query} to check every receive after ${iso(sinceMs)}`,
    async (note) => {
      const entries = (await rawStores(t.url(query))).filter((e) => e.type === 'receive');
      note(entries.map((e) => `${receiveOf(e)} checked ${e.lastCheck ? iso(e.lastCheck) : 'never'} ${e.lastError ?? ''}`).join(', '));
      const fresh = entries.every((e) => e.lastError === null && (e.lastCheck ?? 0) > sinceMs);
      return entries.length === RECEIVES.length && fresh ? Object.fromEntries(entries.map((e) => [receiveOf(e), e])) : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 500, onProgress: log },
  );
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
export async function storedSamples(run: JitterRun, query: string): Promise<StoredSample[]> {
  const { window } = run;
  // A range selector is open on the left: (end - range, end]. One more millisecond takes window.start in.
  const rangeMs = window.end - window.start + 1;
  const answer = await new PromApiClient(run.t.url(query)).query(`${run.t.workload.workload.metric}[${rangeMs}ms]`, { time: window.end, dedup: false });
  if (answer.resultType !== 'matrix') throw new Error(`${query}: a range selector gave a ${answer.resultType}`);
  return answer.result.flatMap((s) =>
    s.samples.map((p) => ({ prometheus: s.metric.prometheus_replica ?? '', receive: s.metric.receive_replica ?? '', series: Number(s.metric.series), t: p.t, v: p.v })),
  );
}

export interface Holdings {
  /** Samples the window should hold: every Prometheus x every series x every grid slot. */
  expected: number;
  /** Per receive: expected samples it holds with the right value, and their share of `expected`. */
  perReceive: Record<string, { held: number; share: number }>;
  /** Expected samples held by at least one receive. */
  union: number;
  /** Expected samples held by both. */
  inBoth: number;
  /** Per copy, "prometheus-0@receive-1": how a Prometheus' samples were split over the receives. */
  perCopy: Record<string, number>;
  /** Stored samples that are no expected (Prometheus, series, slot, value). */
  wrong: number;
}

/** Judges stored copies against the workload: which receive holds which of the expected samples. */
export function holdings(run: JitterRun, samples: StoredSample[]): Holdings {
  const { window } = run;
  const w = run.t.workload.workload;
  const replicas = run.prometheus.map((p) => p.split('/')[1]!);
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
  for (const r of RECEIVES.map(receiveName)) {
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
  /** Range requests each Query replica served meanwhile (its own http_requests_total). */
  byQueryReplica: Record<string, number>;
}

/**
 * TRIES identical requests through the Query Frontend, all at once (as a dashboard refresh sends
 * its panels' queries) or one after another. The Frontend keeps idle connections to its downstream
 * and reuses the newest, so requests one after another ride one kept-alive connection to one Query
 * replica; requests at once open new connections, which the Service spreads over the replicas.
 */
export async function tryThroughFrontend(run: JitterRun, how: 'at-once' | 'one-after-another'): Promise<Tries> {
  const frontend = new PromApiClient(run.t.url(FRONTEND));
  const served = async () => {
    const counts: Record<string, number> = {};
    for (const q of QUERY_REPLICAS) {
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
  return { results, byQueryReplica: Object.fromEntries(QUERY_REPLICAS.map((q) => [q, after[q]! - before[q]!])) };
}

export const iso = (ms: number): string => new Date(ms).toISOString();
