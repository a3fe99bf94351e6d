// Finding B of FINDINGS.md, the receive "jitter" (thanos-io/thanos#4450), and Receive on the
// Stores page (finding E).
//
// The observee's HA pair remote-writes through a Service to two receives. With standalone receives
// (the POC) each keeps what the Service's connections brought it, and each Query replica reads one
// receive (behind a ClusterIP Service, its one gRPC connection's; paired in the topology here, so
// that which replica reads which receive is certain on every substrate): identical requests
// through the Query Frontend get different answers, depending on the Query replica that served them. Fanning every Query out to both receives
// (a), or a hashring with replication factor 2 (b), gives one answer, complete.
//
// The faulty configuration and fix (a) differ only in the query path, so they read the same two
// receives, the same samples, in one topology: one Query pair reading one receive per replica and
// one fanning out, each with its own Query Frontend. Fix (b) changes the receives themselves (a
// hashring that replicates every write), so it is a topology of its own.
//
// Two ways of writing, each faulty and fixed: 10 series over many connections (4 shards, one sample
// per request: each receive holds an interleaved part of every series), and 10k series with
// Prometheus' default queue (one connection per replica: each receive holds whole replicas, and the
// answers differ once a replica is down), at the end of the file.
//
// Every try asks the same range query over a frozen past window (all of it written, then the
// observee's Prometheus stopped: nothing in it or after it changes), so any difference between
// tries is the symptom, not new data. A range query rather than
// an instant one: each answer is judged point by point against the workload, which says how much of
// the window each try covered. Each Query replica is asked directly too, and every try through the
// frontend is matched to the replica that served it (each try dials the Service anew, as a refresh
// minutes after the last does: the preset's FRONTEND_AS_BETWEEN_REFRESHES).
import { describe, expect, it } from 'vitest';
import { answerOfReceiveReader, type ReaderAnswer } from '../harness/models/receive-reader.ts';
import { tenantOf } from '../harness/presets/handles.ts';
import { receiveJitter, type JitterPreset } from '../harness/presets/receive-jitter.ts';
import { analyseRange, distinctAnswers, type DistinctAnswers, type RangeExpectation } from '../harness/promql/analysis.ts';
import { PromApiClient, type RangeQueryResponse, type StoreEndpoint } from '../harness/promql/client.ts';
import { metricSum } from '../harness/promql/metrics.ts';
import { waitForStores } from '../harness/promql/wait-metrics.ts';
import { recordFinding } from '../harness/report/findings.ts';
import { log, useTopology } from '../harness/scenario.ts';
import { goLiveOnAFreshSlot } from '../harness/steps/live.ts';
import { remoteWriteCounters, waitForRemoteWriteOfSlot } from '../harness/steps/remote-write.ts';
import type { RunningTopology } from '../harness/substrates/index.ts';
import { alignDown, gridPoints, iso } from '../harness/time.ts';
import { valueAt } from '../harness/workload/series.ts';


/** Identical requests per measurement. */
const TRIES = 20;
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
const WINDOW_SLOTS = 21;
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
const MAX_INT64 = 2n ** 63n - 1n;

/** The name a receive stores its samples under (its receive_replica label), e.g. "receive-0". */
const receiveName = (instance: string): string => instance.split('/')[1]!;

interface Window {
  start: number;
  end: number;
  step: number;
}

/** One way to read the receives: Query replicas behind a Service, a Query Frontend in front. */
interface QueryPath {
  /** The Query component, e.g. "observer/query". */
  query: string;
  /** Its replicas, in the plan's order. */
  replicas: string[];
  frontend: string;
  /** The receives (receive_replica) each replica reads, from its Stores page once the window was written. */
  readsFrom: Record<string, string[]>;
}

interface JitterRun {
  t: RunningTopology;
  preset: JitterPreset;
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
  /** Replica i reads receive i (the faulty path; fixed (b) reads this way too). */
  pinned: QueryPath;
  /** Each replica dials every receive, where the topology has such a Query. */
  fanout: QueryPath | undefined;
  /** Connections each Service accepted per backend, once the window was written. */
  connections: Record<string, number[]>;
  /** The writers' remote-write counters then (before they were stopped), summed. */
  remoteWrite: { samplesFailed: number; samplesRetried: number };
}

interface JitterOptions {
  /**
   * Every Prometheus writes WINDOW_SLOTS slots, then the last replica is stopped (a rollout, a node
   * drained) and the window is written by the others only. With Prometheus' default queue each
   * replica writes over one connection, so each receive holds whole replicas: their answers differ
   * only once one replica's copy has a hole.
   */
  replicaDown?: boolean;
}

/**
 * Goes live on a slot every Prometheus remote-writes, waits until every sample of a WINDOW_SLOTS
 * window has been sent, then stops every Prometheus. With replicaDown, the last
 * Prometheus replica is stopped after WINDOW_SLOTS slots and the window follows.
 */
async function prepareJitter(t: RunningTopology, preset: JitterPreset, opts: JitterOptions = {}): Promise<JitterRun> {
  const receives = [...preset.receive.instances];
  const pinned = preset.pinned;
  const paths = [pinned, ...(preset.fanout ? [preset.fanout] : [])];

  const { liveFromMs, prometheus } = await goLiveOnAFreshSlot(t, log);
  const step = t.workload.workload.stepMs;
  const slotsFrom = (start: number): Window => ({ start, end: start + (WINDOW_SLOTS - 1) * step, step });
  let window = slotsFrom(liveFromMs);
  log(`  live from ${iso(liveFromMs)}; ${opts.replicaDown ? 'every replica writes' : 'window'} ${iso(window.start)} to ${iso(window.end)}`);
  const delivery = { marginMs: SHARD_SKEW_MS, timeoutMs: DELIVERY_TIMEOUT_MS, onProgress: log };
  const firstSlotSentAtMs = (await waitForRemoteWriteOfSlot(t, prometheus, liveFromMs, delivery)).sentAtMs;
  await waitForRemoteWriteOfSlot(t, prometheus, window.end, delivery);
  let writers = prometheus;
  let beforeOutage: JitterRun['beforeOutage'];
  if (opts.replicaDown) {
    const down = prometheus.at(-1)!;
    // What each receive holds of the slots both wrote, read the way the scenario reads the window.
    const perQuery: StoredSample[][] = [];
    for (const q of pinned.query.instances) perQuery.push(await storedSamplesIn(t, q, window));
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
      const replicas = [...p.query.instances];
      const readsFrom: Record<string, string[]> = {};
      for (const q of replicas) readsFrom[q] = Object.values(await new PromApiClient(t.url(q)).stores()).flat().map(receiveOf).sort();
      return { query: p.query.ref, replicas, frontend: p.frontend.ref, readsFrom };
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
    preset,
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

// ---- the Stores page ----

/** The receive a Stores page entry stands for (its receive_replica), or "?" if it names none. */
const receiveOf = (entry: StoreEndpoint): string => entry.labelSets.find((l) => l.receive_replica)?.receive_replica ?? '?';

/**
 * A Query replica's Stores page entries for the receives, by receive name, once it shows every
 * receive checked without error (after checkedAfterMs, if given). Bounds exact in exactMinTime/exactMaxTime.
 */
async function receivesOnStoresPage(t: RunningTopology, preset: JitterPreset, query: string, checkedAfterMs?: number): Promise<Record<string, StoreEndpoint>> {
  const expectation = { type: 'receive', count: preset.receive.instances.length, checkedAfter: checkedAfterMs };
  const page = await waitForStores(query, new PromApiClient(t.url(query)), expectation, { timeoutMs: STORES_TIMEOUT_MS, onProgress: log });
  return Object.fromEntries((page.receive ?? []).map((e) => [receiveOf(e), e]));
}

/** A receive's own word on its tenant's head: the oldest sample it holds (MaxInt64, as a float, while empty). */
async function headMinTime(t: RunningTopology, preset: JitterPreset, receive: string): Promise<number | undefined> {
  return metricSum(await new PromApiClient(t.url(receive)).metrics(), 'prometheus_tsdb_head_min_time', { tenant: tenantOf(preset.receive) });
}

// ---- what each receive holds ----

interface StoredSample {
  prometheus: string;
  receive: string;
  series: number;
  t: number;
  v: number;
}

/** Every stored copy of every workload sample in the window that a Query reaches: a range selector at window.end, not deduplicated. */
function storedSamples(run: JitterRun, query: string): Promise<StoredSample[]> {
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

interface Holdings {
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
function holdings(run: JitterRun, samples: StoredSample[], of: { window: Window; writers: string[] } = run): Holdings {
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
function tryExpectation(run: JitterRun): RangeExpectation {
  const { window } = run;
  return {
    workload: run.t.workload.workload,
    startMs: window.start,
    endMs: window.end,
    stepMs: window.step,
    coverage: [{ fromMs: run.liveFromMs, toMs: window.end }],
  };
}

function queryWindow(run: JitterRun, client: PromApiClient): Promise<RangeQueryResponse> {
  return client.queryRange(run.t.workload.workload.metric, run.window);
}

interface Tries {
  results: RangeQueryResponse[];
  /** Range requests each Query replica of the path served meanwhile (its own http_requests_total). */
  byQueryReplica: Record<string, number>;
}

/**
 * TRIES identical requests through a path's Query Frontend, all at once (as a dashboard refresh
 * sends its panels' queries). The Frontend forwards each whole, over a connection of its own
 * (the preset's FRONTEND_AS_BETWEEN_REFRESHES), which the Service gives to one Query replica.
 */
async function tryThroughFrontend(run: JitterRun, path: QueryPath): Promise<Tries> {
  const frontend = new PromApiClient(run.t.url(path.frontend), { timeoutMs: TRY_TIMEOUT_MS });
  const served = async () => {
    const counts: Record<string, number> = {};
    for (const q of path.replicas) {
      counts[q] = metricSum(await new PromApiClient(run.t.url(q)).metrics(), 'http_requests_total', { handler: 'query_range' }) ?? 0;
    }
    return counts;
  };
  const before = await served();
  const results = await Promise.all(Array.from({ length: TRIES }, () => queryWindow(run, frontend)));
  const after = await served();
  return { results, byQueryReplica: Object.fromEntries(path.replicas.map((q) => [q, after[q]! - before[q]!])) };
}

/** The same request asked of each Query replica of the path directly: what a try it serves answers. */
function askEachReplica(run: JitterRun, path: QueryPath): Promise<RangeQueryResponse[]> {
  return Promise.all(path.replicas.map((q) => queryWindow(run, new PromApiClient(run.t.url(q), { timeoutMs: TRY_TIMEOUT_MS }))));
}

/**
 * Which answer a try gets is which replica served it: every try through the Frontend is, exactly,
 * the answer of a replica asked directly, and each answer came back as many times as the replicas
 * giving it served tries (their own http_requests_total). Both replicas served some: each try
 * dialled the Service anew.
 */
function expectTriesFromTheirReplicas(path: QueryPath, tries: Tries, direct: RangeQueryResponse[]): void {
  for (const q of path.replicas) expect(tries.byQueryReplica[q], `range requests served by ${q}`).toBeGreaterThan(0);
  const all = distinctAnswers([...direct, ...tries.results]);
  const ofReplica = direct.map((_, i) => all.perTry[i]!.answer);
  const ofTry = tries.results.map((_, k) => all.perTry[direct.length + k]!.answer);
  ofTry.forEach((a, k) => expect(ofReplica, `try ${k + 1}'s answer is one a replica gives`).toContain(a));
  for (const a of new Set(ofReplica)) {
    const giving = path.replicas.filter((_, i) => ofReplica[i] === a);
    const served = giving.reduce((n, q) => n + tries.byQueryReplica[q]!, 0);
    expect(ofTry.filter((x) => x === a).length, `tries answered as ${giving.join(' and ')} answer`).toBe(served);
  }
}

const SCENARIO = 'receive-jitter';
const pct = (share: number) => Math.round(share * 1000) / 10;

function coverage(d: DistinctAnswers): { min: number; max: number } {
  const present = d.perTry.map((p) => p.presentPoints ?? 0);
  return { min: Math.min(...present), max: Math.max(...present) };
}

function triesServed(byQueryReplica: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(byQueryReplica).map(([q, n]) => [`triesServedBy_${q.split('/')[1]}`, n]));
}

function holdingFigures(h: Holdings): Record<string, number> {
  const figures: Record<string, number> = { expectedSamples: h.expected, samplesInBoth: h.inBoth };
  for (const [copy, n] of Object.entries(h.perCopy)) figures[`samples_${copy}`] = n;
  for (const [r, { held, share }] of Object.entries(h.perReceive)) {
    figures[`${r}Samples`] = held;
    figures[`${r}SharePct`] = pct(share);
  }
  return figures;
}

function sharesText(h: Holdings): string {
  const perReceive = Object.entries(h.perReceive).map(([r, { held, share }]) => `${r} ${held}/${h.expected} (${pct(share)}%)`);
  const perCopy = Object.entries(h.perCopy)
    .sort()
    .map(([copy, n]) => `${copy} ${n}`);
  return `${perReceive.join(', ')} [${perCopy.join(', ')}]`;
}

/** What every finding row of this file says of where it was measured. */
const findingOf = (run: JitterRun, finding: 'B' | 'E', configuration: 'faulty' | 'fixed') => ({
  finding,
  scenario: SCENARIO,
  topology: run.t.topology.name,
  substrate: run.t.substrate,
  configuration,
});

/** Replica i reads receive i, and only it. */
const onePerReceive = (run: JitterRun, path: QueryPath) => Object.fromEntries(path.replicas.map((q, i) => [q, [receiveName(run.receives[i]!)]]));

/** Each Query replica of the path gives one answer, complete and exact; so do K identical requests at once, spread over both. */
async function expectOneCompleteAnswer(run: JitterRun, path: QueryPath) {
  const direct = await askEachReplica(run, path);
  expect(distinctAnswers(direct).distinct, 'answers of the replicas asked directly').toBe(1);
  const atOnce = await tryThroughFrontend(run, path);
  expectTriesFromTheirReplicas(path, atOnce, direct);
  const answers = distinctAnswers(atOnce.results, tryExpectation(run));
  expect(answers.distinct, answers.description).toBe(1);
  const present = expectCompleteAndExact(run, atOnce.results[0]!.result);
  return { atOnce, answers, present };
}

/** Points a complete answer about the window has: each of the N series at every slot. */
const windowPoints = (run: JitterRun): number => run.t.workload.workload.seriesCount * gridPoints(run.window.start, run.window.end, run.window.step).length;

/** The answer every try must give when nothing is lost: each of the N series, every slot, exact. */
function expectCompleteAndExact(run: JitterRun, answer: Parameters<typeof analyseRange>[0]): number {
  const analysis = analyseRange(answer, tryExpectation(run));
  expect(analysis.series, analysis.description).toHaveLength(run.t.workload.workload.seriesCount);
  expect(analysis.summary, analysis.description).toMatchObject({ missingPoints: 0, wrongPoints: 0, repeatedTimestamps: 0, ok: true });
  expect(analysis.summary.presentPoints).toBe(windowPoints(run));
  return analysis.summary.presentPoints;
}

describe('Finding B: two standalone receives behind Services, read through a pinned Query pair and a fan-out one', () => {
  const preset = receiveJitter('standalone-behind-service');
  const { topology } = preset;
  const run = useTopology(topology, async (t) => {
    // Reads both receives from the start: its Stores page shows them before and after remote write (E).
    const fanoutReader = preset.fanout!.query.instances[0]!;
    // The Stores page before anything was remote-written: Prometheus scrapes nothing before goLive.
    const storesBefore = await receivesOnStoresPage(t, preset, fanoutReader);
    const beforeWrite = {
      stores: storesBefore,
      headMinTimes: await Promise.all(preset.receive.instances.map((r) => headMinTime(t, preset, r))),
      served: t.workload.servedRange() !== undefined,
    };
    const jitter = await prepareJitter(t, preset);
    const afterWrite = {
      stores: await receivesOnStoresPage(t, preset, fanoutReader, jitter.firstSlotSentAtMs),
      headMinTimes: await Promise.all(jitter.receives.map((r) => headMinTime(t, preset, r))),
    };
    // What each pinned Query replica finds stored: replica i reads only receive i, so what receive i holds.
    const pinnedSamples: Record<string, StoredSample[]> = {};
    for (const q of jitter.pinned.replicas) pinnedSamples[q] = await storedSamples(jitter, q);
    // The fan-out with Thanos' default (penalty) deduplication: what it answers, and what it reads.
    const penaltyAnswer = await queryWindow(jitter, new PromApiClient(t.url(preset.penalty!.ref)));
    const penalty = {
      analysis: analyseRange(penaltyAnswer.result, tryExpectation(jitter)),
      holdings: holdings(jitter, await storedSamples(jitter, preset.penalty!.ref)),
    };
    return { jitter, beforeWrite, afterWrite, pinnedSamples, penalty };
  });

  describe('faulty: each Query replica reads one receive', () => {
    it('keeps a part of the samples in each receive, all of them together', () => {
      const { jitter, pinnedSamples } = run();
      // The pairing the setup made explicit: replica i reads receive i, and only it.
      expect(jitter.pinned.readsFrom).toEqual(onePerReceive(jitter, jitter.pinned));
      for (const [i, q] of jitter.pinned.replicas.entries()) {
        expect(new Set(pinnedSamples[q]!.map((s) => s.receive))).toEqual(new Set([receiveName(jitter.receives[i]!)]));
      }
      const h = holdings(jitter, Object.values(pinnedSamples).flat());
      expect(h.wrong).toBe(0);
      expect(h.union, 'every sample Prometheus sent is in one receive or the other').toBe(h.expected);
      // Each receive holds what the connections the Service gave it carried. Where the substrate
      // balances them in turn and counts them (process: two per receive from each Prometheus), each
      // sample goes over whichever is free, so about half (45% to 55% in every run so far); the bounds
      // leave room for that draw, not for a receive that holds a small part or nearly everything.
      // kube-proxy picks a backend at random per connection and nothing counts them there (one kind
      // run put 77% on one receive); there, each receive holds a part.
      const counted = jitter.connections[jitter.preset.writeService.ref] ?? [];
      for (const [r, { share }] of Object.entries(h.perReceive)) {
        if (counted.length > 0) {
          expect(share, `${r}'s share`).toBeGreaterThanOrEqual(0.3);
          expect(share, `${r}'s share`).toBeLessThanOrEqual(0.7);
        } else {
          expect(share, `${r}'s share`).toBeGreaterThan(0);
          expect(share, `${r}'s share`).toBeLessThan(1);
        }
      }
      log(`[jitter faulty] samples per receive: ${sharesText(h)}; in both: ${h.inBoth}; write connections per receive: ${jitter.connections[jitter.preset.writeService.ref]}`);
    });

    it('gives different answers to identical requests, none of them complete', async () => {
      const { jitter, pinnedSamples } = run();
      // Each replica, asked directly, answers with what its receive holds: a part, each its own.
      const ofReplicas = await askEachReplica(jitter, jitter.pinned);
      const direct = distinctAnswers(ofReplicas, tryExpectation(jitter));
      expect(direct.distinct, direct.description).toBe(jitter.pinned.replicas.length);
      const atOnce = await tryThroughFrontend(jitter, jitter.pinned);
      expectTriesFromTheirReplicas(jitter.pinned, atOnce, ofReplicas);
      const answers = distinctAnswers(atOnce.results, tryExpectation(jitter));
      expect(answers.distinct, answers.description).toBe(jitter.pinned.replicas.length);
      // No try has every point.
      const expectedPoints = answers.perTry[0]!.expectedPoints!;
      for (const p of answers.perTry) expect(p.presentPoints).toBeLessThan(expectedPoints);

      const { min, max } = coverage(answers);
      const h = holdings(jitter, Object.values(pinnedSamples).flat());
      log(`[jitter faulty] each replica asked directly: ${direct.description} ${answers.tries} tries at once through the frontend: ${answers.description}`);
      recordFinding({
        ...findingOf(jitter, 'B', 'faulty'),
        observed:
          `${answers.distinct} distinct answers to ${answers.tries} identical requests sent at once through the Query Frontend, ` +
          `each try covering ${min} to ${max} of ${expectedPoints} points, each exactly the answer of the Query replica that served it; samples per receive: ${sharesText(h)}`,
        figures: {
          tries: answers.tries,
          distinctAnswers: answers.distinct,
          coverageMin: min,
          coverageMax: max,
          expectedPoints,
          ...triesServed(atOnce.byQueryReplica),
          ...holdingFigures(h),
          writeConnections: String(jitter.connections[jitter.preset.writeService.ref]),
          remoteWriteSamplesRetried: jitter.remoteWrite.samplesRetried,
        },
        plots: [
          {
            kind: 'bars',
            title: `Points each of ${answers.tries} identical tries returned: ${answers.distinct} distinct answers (one colour per answer)`,
            bars: answers.perTry.map((p, i) => ({ label: `try ${i + 1}`, value: p.presentPoints ?? 0, group: `answer ${p.answer + 1}` })),
            reference: { label: 'expected points', value: expectedPoints },
            unit: 'points',
          },
        ],
      });
    });
  });

  describe('fixed (a): every Query fans out to both receives', () => {
    it("loses samples with Thanos' default penalty deduplication, though both receives together hold them all", () => {
      const { penalty } = run();
      // Same endpoints and replica labels: penalty deduplication follows one copy and, on each
      // switch, skips ahead, which with interleaved partial copies drops points.
      expect(penalty.holdings.wrong).toBe(0);
      expect(penalty.holdings.union).toBe(penalty.holdings.expected);
      expect(penalty.analysis.summary.wrongPoints).toBe(0);
      expect(penalty.analysis.summary.missingPoints, penalty.analysis.description).toBeGreaterThan(0);
      log(`[jitter fanout, penalty dedup] ${penalty.analysis.summary.presentPoints}/${penalty.analysis.summary.expectedPoints} points; samples per receive: ${sharesText(penalty.holdings)}`);
    });

    it('gives one answer to identical requests with chain deduplication, complete and exact', async () => {
      const { jitter, penalty } = run();
      const fanout = jitter.fanout!;
      const everyReceive = jitter.receives.map(receiveName).sort();
      expect(fanout.readsFrom).toEqual(Object.fromEntries(fanout.replicas.map((q) => [q, everyReceive])));
      const { atOnce, answers, present } = await expectOneCompleteAnswer(jitter, fanout);
      const { presentPoints: penaltyPresent, expectedPoints } = penalty.analysis.summary;
      log(`[jitter fanout] ${answers.description}`);
      recordFinding({
        ...findingOf(jitter, 'B', 'fixed'),
        observed:
          `fan-out to both receives with chain deduplication: ${answers.distinct} distinct answer to ${answers.tries} identical requests, all ${present} points exact; ` +
          `with the default penalty deduplication ${penaltyPresent} of ${expectedPoints} (samples per receive: ${sharesText(penalty.holdings)})`,
        figures: {
          tries: answers.tries,
          distinctAnswers: answers.distinct,
          presentPoints: present,
          ...triesServed(atOnce.byQueryReplica),
          penaltyDedupPresentPoints: penaltyPresent,
          ...holdingFigures(penalty.holdings),
        },
      });
    });
  });

  describe('Receive on the Stores page (E)', () => {
    it("shows each receive's minTime as math.MaxInt64 before remote write arrives", () => {
      const { jitter, beforeWrite } = run();
      expect(beforeWrite.served, 'nothing served to any Prometheus yet').toBe(false);
      for (const [i, receive] of jitter.receives.entries()) {
        const entry = beforeWrite.stores[receiveName(receive)];
        expect(entry, `Stores page entry of ${receive}`).toBeDefined();
        // Receive 0.42.4 creates its default tenant's TSDB at start; an empty head's MinTime() is
        // math.MaxInt64 (prometheus_tsdb_head_min_time says so too), and Receive reports it as is.
        expect(beforeWrite.headMinTimes[i]).toBe(Number(MAX_INT64));
        expect(entry!.exactMinTime).toBe(MAX_INT64);
        expect(entry!.exactMaxTime).toBe(MAX_INT64);
        expect(entry!.labelSets).toEqual([{ receive_replica: receiveName(receive), tenant_id: tenantOf(jitter.preset.receive) }]);
      }
    });

    it("shows each receive's minTime as the first sample Prometheus remote-wrote once it arrived", () => {
      const { jitter, afterWrite } = run();
      const firstServed = jitter.t.workload.servedRange()!.firstMs;
      expect(firstServed).toBe(jitter.liveFromMs);
      const figures: Record<string, string> = { firstServedSlot: iso(firstServed) };
      for (const [i, receive] of jitter.receives.entries()) {
        const entry = afterWrite.stores[receiveName(receive)]!;
        // Its head's oldest sample, as the receive itself reports it...
        expect(entry.exactMinTime).toBe(BigInt(afterWrite.headMinTimes[i]!));
        // ...which is the first slot the exporter served: both Prometheus' shards sent it at once,
        // over connections the Service spread over both receives.
        expect(entry.exactMinTime).toBe(BigInt(firstServed));
        expect(entry.exactMaxTime).toBe(MAX_INT64);
        figures[`${receiveName(receive)}MinTime`] = iso(Number(entry.exactMinTime));
      }
      recordFinding({
        ...findingOf(jitter, 'E', 'fixed'),
        observed: `Stores page: each receive's minTime is math.MaxInt64 (empty head) until remote write arrives, then the first slot Prometheus sent (${iso(firstServed)}); maxTime math.MaxInt64`,
        figures,
      });
    });
  });
});

describe('Finding B, fixed (b): a hashring over both receives with replication factor 2', () => {
  const preset = receiveJitter('hashring-rf2');
  const run = useTopology(preset.topology, (t) => prepareJitter(t, preset));

  it('keeps every sample in each receive', async () => {
    const jitter = run();
    expect(jitter.pinned.readsFrom).toEqual(onePerReceive(jitter, jitter.pinned));
    for (const [i, q] of jitter.pinned.replicas.entries()) {
      const h = holdings(jitter, await storedSamples(jitter, q));
      const receive = receiveName(jitter.receives[i]!);
      expect(h.wrong).toBe(0);
      expect(h.perReceive[receive]!.held, `samples in ${receive}`).toBe(h.expected);
    }
  });

  it('shows one copy per receive with dedup=false and collapses them to exactly N series with dedup=true', async () => {
    const jitter = run();
    const { seriesCount, metric } = jitter.t.workload.workload;
    const copies: string[] = [];
    for (const [i, q] of jitter.pinned.replicas.entries()) {
      const client = new PromApiClient(jitter.t.url(q));
      const raw = await client.queryRange(metric, { ...jitter.window, dedup: false });
      // Each Prometheus replica's series, as receive i stores them.
      expect(raw.result).toHaveLength(jitter.prometheus.length * seriesCount);
      expect(new Set(raw.result.map((s) => s.metric.receive_replica))).toEqual(new Set([receiveName(jitter.receives[i]!)]));
      copies.push(...raw.result.map((s) => `${s.metric.receive_replica}/${s.metric.prometheus_replica}/${s.metric.series}`));
      expectCompleteAndExact(jitter, (await queryWindow(jitter, client)).result);
    }
    expect(new Set(copies).size).toBe(jitter.receives.length * jitter.prometheus.length * seriesCount);
  });

  it('gives one answer to identical requests, complete and exact', async () => {
    const jitter = run();
    const { atOnce, answers, present } = await expectOneCompleteAnswer(jitter, jitter.pinned);
    log(`[jitter hashring-rf2] ${answers.description}`);
    recordFinding({
      ...findingOf(jitter, 'B', 'fixed'),
      observed: `hashring with replication factor 2: each receive holds every sample; ${answers.distinct} distinct answer to ${answers.tries} identical requests, all ${present} points exact`,
      figures: { tries: answers.tries, distinctAnswers: answers.distinct, presentPoints: present, ...triesServed(atOnce.byQueryReplica) },
    });
  });
});

// ---- at 10k series, with Prometheus' default queue configuration ----
//
// One shard keeps up with 10k samples/s, so each Prometheus replica writes over one kept-alive
// connection, and the write Service puts each replica, whole, on one receive (both on the same
// one, when kube-proxy's draw says so). The pinned Queries agree while both replicas write. Once
// one replica is down (a rollout, a drained node), the Query reading only its receive answers with
// that replica's last values, carried forward by the 5 min lookback, while the other answers right:
// refreshes alternate between the live values and a frozen line. Where both replicas went to one
// receive, the other receive's Query answers nothing instead (models/receive-reader.ts says which,
// from what each receive held). The fixes need no help from the queue.

/**
 * What each pinned Query replica should answer once a replica is down (models/receive-reader.ts),
 * from what its receive held while both wrote: complete, frozen at the stopped replica's last values,
 * or empty where the write Service put both replicas on the other receive.
 */
function predictedAnswers(run: JitterRun): ReaderAnswer[] {
  const before = run.beforeOutage!;
  const h = holdings(run, before.samples, { window: before.window, writers: run.prometheus });
  const name = (p: string) => p.split('/')[1]!;
  const stopped = run.prometheus.find((p) => !run.writers.includes(p))!;
  return run.pinned.replicas.map((_, i) => {
    const held = Object.keys(h.perCopy).filter((copy) => copy.endsWith(`@${receiveName(run.receives[i]!)}`)).map((copy) => copy.split('@')[0]!);
    return answerOfReceiveReader(held, run.writers.map(name), name(stopped));
  });
}

/**
 * Which of the model's answers a Query replica gave, checked point for point: complete and exact;
 * frozen (every point shows an earlier sample's value, the stopped replica's last, through the
 * lookback; none right, none of another value); or empty (no series).
 */
function kindOfAnswer(run: JitterRun, answer: RangeQueryResponse, who: string): ReaderAnswer {
  const expectedPoints = windowPoints(run);
  const { summary, series } = analyseRange(answer.result, tryExpectation(run));
  if (summary.ok) {
    expect(summary.presentPoints, who).toBe(expectedPoints);
    return 'complete';
  }
  expect(summary, who).toMatchObject({ presentPoints: 0, wrongPoints: 0, missingPoints: expectedPoints, repeatedTimestamps: 0 });
  if (series.length === 0) return 'empty';
  const carried = series.reduce((n, s) => n + s.missing.reduce((m, r) => m + r.carried, 0), 0);
  expect(carried, `${who}: points showing an earlier value`).toBe(expectedPoints);
  return 'frozen';
}

describe("Finding B at 10k series with Prometheus' default queue: standalone receives, a replica down", () => {
  const preset = receiveJitter('standalone-behind-service', 'default');
  const run = useTopology(preset.topology, async (t) => {
    const jitter = await prepareJitter(t, preset, { replicaDown: true });
    const pinnedSamples: Record<string, StoredSample[]> = {};
    for (const q of jitter.pinned.replicas) pinnedSamples[q] = await storedSamples(jitter, q);
    return { jitter, pinnedSamples };
  });

  it('writes each Prometheus replica, whole, to one receive', () => {
    const { jitter } = run();
    const before = jitter.beforeOutage!;
    const h = holdings(jitter, before.samples, { window: before.window, writers: jitter.prometheus });
    expect(h.wrong).toBe(0);
    expect(h.union, 'every sample both replicas sent is in a receive').toBe(h.expected);
    expect(h.inBoth, 'no sample is in both receives').toBe(0);
    // Each replica's samples are all in one receive: one copy per replica, all of its samples.
    const perReplica = h.expected / jitter.prometheus.length;
    const copies = Object.entries(h.perCopy);
    expect(copies.map(([copy]) => copy.split('@')[0]).sort()).toEqual(jitter.prometheus.map((p) => p.split('/')[1]).sort());
    for (const [copy, n] of copies) expect(n, copy).toBe(perReplica);
    // Round robin (process): each replica's first connection went to a receive of its own. The
    // count is read after the outage, by when the surviving replica may have opened another one
    // (seen once: [2, 1]); where each replica's samples went is what the holdings above prove.
    const counted = jitter.connections[jitter.preset.writeService.ref] ?? [];
    if (counted.length > 0) for (const [i, n] of counted.entries()) expect(n, `connections to ${jitter.receives[i]}`).toBeGreaterThanOrEqual(1);
    log(`[jitter default queue] both replicas writing: ${sharesText(h)}; write connections per receive: ${counted}`);
  });

  // Where each replica went is the write Service's draw; the answers follow from it (the model).
  it("gives identical requests complete answers and, from the other receive, answers frozen at the stopped replica's last values (or empty), once a replica is down", async () => {
    const { jitter, pinnedSamples } = run();
    expect(jitter.writers).toHaveLength(jitter.prometheus.length - 1);
    const h = holdings(jitter, Object.values(pinnedSamples).flat());
    expect(h.wrong).toBe(0);
    expect(h.union).toBe(h.expected);
    // Each replica, asked directly, answers as the model says from what its receive held.
    const predicted = predictedAnswers(jitter);
    const ofReplicas = await askEachReplica(jitter, jitter.pinned);
    expect(ofReplicas.map((a, i) => kindOfAnswer(jitter, a, jitter.pinned.replicas[i]!))).toEqual(predicted);
    // Through the frontend, each try gets the answer of the replica that served it.
    const atOnce = await tryThroughFrontend(jitter, jitter.pinned);
    expectTriesFromTheirReplicas(jitter.pinned, atOnce, ofReplicas);
    const answers = distinctAnswers(atOnce.results, tryExpectation(jitter));
    expect(answers.distinct, `${answers.description} (predicted per Query replica: ${predicted.join(', ')})`).toBe(new Set(predicted).size);
    const expectedPoints = windowPoints(jitter);
    const triesOf: Record<ReaderAnswer, number> = { complete: 0, frozen: 0, empty: 0 };
    jitter.pinned.replicas.forEach((q, i) => (triesOf[predicted[i]!] += atOnce.byQueryReplica[q]!));
    const frozenTries = triesOf.frozen;
    const other = predicted.includes('empty') ? `${triesOf.empty} empty (both replicas had gone to one receive)` : `${frozenTries} frozen at the stopped replica's last values`;
    log(`[jitter default queue] ${answers.tries} tries at once: ${answers.description} Predicted per Query replica: ${predicted.join(', ')}; frozen: ${frozenTries}, empty: ${triesOf.empty}.`);
    recordFinding({
      ...findingOf(jitter, 'B', 'faulty'),
      observed:
        `${jitter.t.workload.workload.seriesCount} series, Prometheus' default queue (one connection per replica), one replica down: ` +
        `${answers.distinct} distinct answers to ${answers.tries} identical requests: ${triesOf.complete} complete, ${other} (0 of ${expectedPoints} points right); samples per receive: ${sharesText(h)}`,
      figures: {
        series: jitter.t.workload.workload.seriesCount,
        tries: answers.tries,
        distinctAnswers: answers.distinct,
        frozenTries,
        emptyTries: triesOf.empty,
        expectedPoints,
        ...triesServed(atOnce.byQueryReplica),
        ...holdingFigures(h),
        writeConnections: String(jitter.connections[jitter.preset.writeService.ref]),
      },
    });
  });

  it('gives one answer, complete and exact, through the fan-out', async () => {
    const jitter = run().jitter;
    const { answers, present } = await expectOneCompleteAnswer(jitter, jitter.fanout!);
    log(`[jitter default queue, fanout] ${answers.description}`);
    recordFinding({
      ...findingOf(jitter, 'B', 'fixed'),
      observed: `${jitter.t.workload.workload.seriesCount} series, default queue, one replica down; fan-out to both receives: ${answers.distinct} distinct answer to ${answers.tries} identical requests, all ${present} points exact`,
      figures: { series: jitter.t.workload.workload.seriesCount, tries: answers.tries, distinctAnswers: answers.distinct, presentPoints: present },
    });
  });
});

describe("Finding B at 10k series with Prometheus' default queue, fixed (b): a hashring with replication factor 2, a replica down", () => {
  const preset = receiveJitter('hashring-rf2', 'default');
  const run = useTopology(preset.topology, (t) => prepareJitter(t, preset, { replicaDown: true }));

  it('keeps every sample in each receive and gives one answer, complete and exact', async () => {
    const jitter = run();
    for (const [i, q] of jitter.pinned.replicas.entries()) {
      const h = holdings(jitter, await storedSamples(jitter, q));
      const receive = receiveName(jitter.receives[i]!);
      expect(h.wrong).toBe(0);
      expect(h.perReceive[receive]!.held, `samples in ${receive}`).toBe(h.expected);
    }
    const { answers, present } = await expectOneCompleteAnswer(jitter, jitter.pinned);
    log(`[jitter default queue, hashring-rf2] ${answers.description}`);
    recordFinding({
      ...findingOf(jitter, 'B', 'fixed'),
      observed: `${jitter.t.workload.workload.seriesCount} series, default queue, one replica down; hashring with replication factor 2: each receive holds every sample; ${answers.distinct} distinct answer to ${answers.tries} identical requests, all ${present} points exact`,
      figures: { series: jitter.t.workload.workload.seriesCount, tries: answers.tries, distinctAnswers: answers.distinct, presentPoints: present },
    });
  });
});
