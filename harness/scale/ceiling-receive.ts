// The Receive rigs of the ingest ceiling (ceiling.ts): this process is Receive's remote-write
// client, as a Prometheus' queue manager would be, and raises the rate step by step.
//
// The load, as one Prometheus scraping every second would send it: a step at R samples/s writes R
// series of the cluster-shaped workload (series i is the same series at every step: a step adds
// series to the ones before), one sample per series per 1 s grid slot, the slots on the clock. So
// each series gets a sample a second, as in the Prometheus rig, whose jobs bring 25k series each.
// A slot is cut into requests of 2,000 samples (Prometheus' max_samples_per_send) by the harness's
// own encoder (WorkloadWriter). Request k of every slot carries the same 2,000 series and goes down
// lane k mod 50: each lane one connection's worth of requests in order, as each of Prometheus'
// shards owns a share of the series (its default max_shards is 50 too), so a series' samples reach
// Receive in time order, which its TSDB requires. A step is paced by a schedule: request n is sent
// no earlier than n x 2,000 / R seconds into the step, and no later than its lane has room
// (LANE_DEPTH): when Receive's answers hold every lane, the generator waits, as Prometheus' would,
// and that wait is measured. Each step's first slot is sent unmeasured, before the clock starts:
// it creates the step's new series (the Prometheus rig likewise measures once its new jobs have
// been scraped once).
//
// What a step records, beside the client's view (sent, accepted, lost, latency): from each
// Receive's own /metrics, the rise of prometheus_tsdb_head_samples_appended_total of its tenant
// (with replication factor 3 each of the three must have appended every accepted sample), and its
// http_request_duration_seconds{handler="receive"} buckets, whose p99 over the step is the verdict's.
import { Agent, request as httpRequest } from 'node:http';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { MetricSample } from '../promql/metrics.ts';
import type { RunningTopology, Substrate } from '../substrates/index.ts';
import { ceilingReceive, ceilingReceiveRing } from '../presets/ceiling.ts';
import type { Receive } from '../topology/model.ts';
import { WaitTimeout, waitFor } from '../wait.ts';
import { RemoteWriteError, WorkloadWriter } from '../workload/remote-write.ts';
import { workloadOf } from '../workload/series.ts';
import { alignDown } from '../time.ts';
import {
  bucketDelta,
  bucketsOf,
  histogramQuantile,
  judgeReceiveStep,
  P99_LIMIT_SECONDS,
  RECEIVE_PLAN,
  shareWithin,
  type Bucket,
  type StepCore,
} from './ceiling.ts';
import { scrapeComponent, startMeters, sumOf } from './ceiling-meters.ts';
import { driveRig, type RigOptions, type RigRun } from './ceiling-rig.ts';
import { percentile } from './report.ts';

/** Prometheus' default max_samples_per_send: what one remote-write request carries. */
export const SAMPLES_PER_REQUEST = 2_000;
/** Prometheus' default max_shards: connections at most. */
const LANES = 50;
/**
 * Requests a lane may hold (one in flight, the rest waiting): Prometheus' default shard capacity,
 * 10,000 samples, is 5 requests of 2,000. Bounds what the generator holds encoded ahead: at most
 * 50 lanes x 5 requests of about 50 kB.
 */
const LANE_DEPTH = 5;
/** Prometheus' default remote_timeout: a request unanswered by then is lost. */
const REMOTE_TIMEOUT_MS = 30_000;
/**
 * How long after a step's last answer each Receive may take to show every accepted sample appended.
 * With replication factor 3 a write is answered at quorum (2 of 3): the third copy may still be on
 * its way. A step whose counters have not caught up by then fails on it.
 */
const SETTLE_TIMEOUT_MS = 30_000;
/** Receive's own request-duration histogram (Thanos' HTTP instrumentation), for its remote-write handler. */
export const RECEIVE_DURATION = { name: 'http_request_duration_seconds', labels: { handler: 'receive' } } as const;
const APPENDED = 'prometheus_tsdb_head_samples_appended_total';

export interface ReceiveStep extends StepCore {
  /** From the first request to the last answer. */
  seconds: number;
  requests: number;
  acceptedSamples: number;
  lostRequests: number;
  lostSamples: number;
  firstError?: string;
  /** Client side: request to response, this process' event loop included. */
  clientP50Ms?: number;
  clientP99Ms?: number;
  /** Receive's own, over the step, all Receives together. */
  serverP99Seconds?: number;
  serverShareWithin1s?: number;
  /** Rise of each Receive's head samples appended (its tenant) over the step. */
  appended: Record<string, number>;
  /** Failed forwards and replications between the Receives of a ring over the step (its own counters). */
  forwardErrors: number;
  /** Samples the Receives refused as out of order over the step, all together (their own counters). */
  outOfOrderSamples: number;
  /** Share of the step the generator waited for a lane with room. */
  blockedShare: number;
  /** Share of the step the generator spent encoding requests. */
  encodeShare: number;
  benchCpuCores: number;
  machineBusyCores: number;
  /** Each Receive's CPU (cores, process_cpu_seconds_total) over the step and resident memory at its end. */
  receiveCpuCores: Record<string, number>;
  receiveRssBytes: Record<string, number>;
}

interface Request {
  body: Uint8Array;
  samples: number;
  lane: number;
  /** The slot (grid timestamp) of its samples. */
  slotMs: number;
}

/** Requests slot after slot from fromMs, each slot's requests on lanes 0, 1, ... (mod lanes). */
function* requestStream(writer: WorkloadWriter, fromMs: number, lanes: number): Generator<Request, never> {
  for (let slotMs = fromMs; ; slotMs += writer.workload.stepMs) {
    let k = 0;
    for (const r of writer.requests(slotMs, slotMs, SAMPLES_PER_REQUEST)) yield { ...r, lane: k++ % lanes, slotMs };
  }
}

/** One connection's worth of requests, sent one after another in the order pushed. */
class Lane {
  readonly url: URL;
  #tail: Promise<void> = Promise.resolve();
  #held = 0;
  #wake: (() => void) | undefined;

  constructor(url: URL) {
    this.url = url;
  }

  /** Queues a send; `send` must not reject. */
  push(send: () => Promise<void>): void {
    this.#held++;
    this.#tail = this.#tail.then(send).finally(() => {
      this.#held--;
      const wake = this.#wake;
      this.#wake = undefined;
      wake?.();
    });
  }

  /** Resolves once the lane holds fewer than LANE_DEPTH requests (one waiter at a time: the dispatcher). */
  async room(): Promise<void> {
    while (this.#held >= LANE_DEPTH) await new Promise<void>((resolve) => (this.#wake = resolve));
  }

  drained(): Promise<void> {
    return this.#tail;
  }
}

interface Tally {
  requests: number;
  acceptedSamples: number;
  lostRequests: number;
  lostSamples: number;
  firstError?: string;
  latenciesMs: number[];
}

/**
 * POSTs one encoded WriteRequest, with postWriteRequest's headers, over node:http and a keep-alive
 * agent rather than fetch: measured here, fetch cost 0.38-0.47 ms of CPU per 50 kB request and
 * node:http 0.13-0.22 ms (server side included in both). At hundreds of requests a second that is
 * CPU the rig on the same two cores does not get.
 */
function postBody(agent: Agent, url: URL, body: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      {
        method: 'POST',
        agent,
        timeout: REMOTE_TIMEOUT_MS,
        headers: { 'Content-Encoding': 'snappy', 'Content-Type': 'application/x-protobuf', 'X-Prometheus-Remote-Write-Version': '0.1.0', 'Content-Length': body.byteLength },
      },
      (response) => {
        const status = response.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          response.resume().on('end', resolve).on('error', reject);
          return;
        }
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk)).on('end', () => reject(new RemoteWriteError(url.href, status, text))).on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${REMOTE_TIMEOUT_MS / 1000} s`)));
    request.on('error', reject);
    request.end(body);
  });
}

async function send(agent: Agent, url: URL, r: Request, tally: Tally): Promise<void> {
  const started = performance.now();
  tally.requests++;
  try {
    await postBody(agent, url, r.body);
    tally.acceptedSamples += r.samples;
  } catch (err) {
    tally.lostRequests++;
    tally.lostSamples += r.samples;
    tally.firstError ??= err instanceof RemoteWriteError ? `HTTP ${err.status}: ${err.body.trim().slice(0, 160)}` : err instanceof Error ? err.message : String(err);
  }
  tally.latenciesMs.push(performance.now() - started);
}

/** What one Receive says about itself at a moment. */
interface ReceiveSnapshot {
  appended: number;
  /** Writes to the other Receives of the ring that failed (forwards and replications): where a missing copy went. */
  forwardErrors: number;
  /** Samples its TSDB refused as older than its series' newest (no out-of-order window is set). */
  outOfOrder: number;
  buckets: Bucket[];
  cpuSeconds: number;
  rssBytes: number;
}

function receiveSnapshot(samples: MetricSample[], tenant: string): ReceiveSnapshot {
  return {
    appended: sumOf(samples, APPENDED, { tenant }),
    forwardErrors: sumOf(samples, 'thanos_receive_forward_requests_total', { result: 'error' }) + sumOf(samples, 'thanos_receive_replications_total', { result: 'error' }),
    outOfOrder: sumOf(samples, 'prometheus_tsdb_out_of_order_samples_total', { tenant }),
    buckets: bucketsOf(samples, RECEIVE_DURATION.name, RECEIVE_DURATION.labels),
    cpuSeconds: sumOf(samples, 'process_cpu_seconds_total'),
    rssBytes: sumOf(samples, 'process_resident_memory_bytes'),
  };
}

/** A step that stopped before its measured part: nothing sent in it, nothing measured. */
function unmeasured(rate: number, refinement: boolean): Omit<ReceiveStep, 'verdict'> {
  return {
    target: rate,
    refinement,
    achieved: 0,
    seconds: 0,
    requests: 0,
    acceptedSamples: 0,
    lostRequests: 0,
    lostSamples: 0,
    appended: {},
    forwardErrors: 0,
    outOfOrderSamples: 0,
    blockedShare: 0,
    encodeShare: 0,
    benchCpuCores: 0,
    machineBusyCores: 0,
    receiveCpuCores: {},
    receiveRssBytes: {},
  };
}

/** A running Receive rig: where to write, and the generator's state across steps. Disposing closes its connections. */
class ReceiveLoad implements Disposable {
  readonly t: RunningTopology;
  readonly receives: string[];
  readonly tenant: string;
  readonly lanes: Lane[];
  readonly agent: Agent;
  /** The next slot to write: a series' timestamps only move forward, across steps too. */
  #nextSlotMs = 0;

  constructor(t: RunningTopology) {
    this.t = t;
    this.receives = t.plan.processes.filter((p) => p.kind === 'receive').map((p) => p.id);
    this.tenant = (t.topology.components.find((c) => c.kind === 'receive') as Receive).defaultTenant;
    // Lanes spread over the Receives in turn, as Prometheus' connections through a Service would.
    this.lanes = Array.from({ length: LANES }, (_, k) => new Lane(new URL(`${t.url(this.receives[k % this.receives.length]!, 'remote-write')}/api/v1/receive`)));
    // One connection per lane, kept open between requests, as a Prometheus shard keeps its own.
    this.agent = new Agent({ keepAlive: true, maxSockets: LANES });
  }

  [Symbol.dispose](): void {
    this.agent.destroy();
  }

  /** A step's encoder: `series` series of the topology's workload shape (it keeps their labels encoded). */
  #writerOf(series: number): WorkloadWriter {
    return new WorkloadWriter(workloadOf({ ...this.t.topology, workload: { ...this.t.topology.workload, series } }));
  }

  /** Requests from the current slot on the clock, or the one after the last written if that is later. */
  #streamOf(writer: WorkloadWriter): Generator<Request, never> {
    return requestStream(writer, Math.max(this.#nextSlotMs, alignDown(Date.now(), writer.workload.stepMs)), LANES);
  }

  /** Pulls the next request, noting its slot as written. */
  #next(stream: Generator<Request, never>): Request {
    const r = stream.next().value;
    this.#nextSlotMs = r.slotMs + 1_000;
    return r;
  }

  async snapshots(): Promise<Map<string, ReceiveSnapshot>> {
    const each = await Promise.all(this.receives.map(async (id) => [id, receiveSnapshot(await scrapeComponent(this.t.url(id)), this.tenant)] as const));
    return new Map(each);
  }

  /**
   * How many samples each Receive appended since `before`, once every one has appended `accepted`
   * (or SETTLE_TIMEOUT_MS has passed: the caller compares). With replication factor 3 a write is
   * answered at quorum, so the third copy of the last writes may land after their answers; a
   * step's counters are read only once it has, so none of it is counted in the next.
   */
  async settle(before: Map<string, ReceiveSnapshot>, accepted: number, onProgress: (line: string) => void): Promise<Record<string, number>> {
    const appendedOf = (now: Map<string, ReceiveSnapshot>) => Object.fromEntries(this.receives.map((id) => [id, now.get(id)!.appended - before.get(id)!.appended]));
    try {
      return await waitFor(
        `every Receive to append the ${accepted.toLocaleString('en')} samples accepted`,
        async (note) => {
          const now = appendedOf(await this.snapshots());
          note(Object.entries(now).map(([id, n]) => `${id}: ${n.toLocaleString('en')}`).join(', '));
          return Object.values(now).every((n) => n >= accepted) ? now : undefined;
        },
        { timeoutMs: SETTLE_TIMEOUT_MS, intervalMs: 250, onProgress },
      );
    } catch (err) {
      if (!(err instanceof WaitTimeout)) throw err;
      return appendedOf(await this.snapshots());
    }
  }

  /**
   * The step's first slot, as fast as the lanes take it and unmeasured: it creates the series the
   * step adds, which costs more than appending to them and is no part of a rate. Refused or not
   * appended everywhere, the step fails on it.
   */
  async #firstSlot(writer: WorkloadWriter, onProgress: (line: string) => void): Promise<string | undefined> {
    const before = await this.snapshots();
    const stream = this.#streamOf(writer);
    const series = writer.workload.seriesCount;
    const tally: Tally = { requests: 0, acceptedSamples: 0, lostRequests: 0, lostSamples: 0, latenciesMs: [] };
    for (let sent = 0; sent < series; ) {
      const r = this.#next(stream);
      const lane = this.lanes[r.lane]!;
      await lane.room();
      lane.push(() => send(this.agent, lane.url, r, tally));
      sent += r.samples;
    }
    await Promise.all(this.lanes.map((l) => l.drained()));
    if (tally.lostRequests) return `the step's first slot (its new series) was refused: ${tally.firstError}`;
    const appended = await this.settle(before, tally.acceptedSamples, onProgress);
    const short = Object.entries(appended).filter(([, n]) => n !== tally.acceptedSamples);
    return short.length ? `the step's first slot (its new series): ${short.map(([id, n]) => `${id.split('/')[1]} appended ${n.toLocaleString('en')} of ${tally.acceptedSamples.toLocaleString('en')}`).join('; ')}` : undefined;
  }

  /** Drives `rate` samples/s (as many series) for holdMs, then waits for every answer, and measures the step. */
  async step(rate: number, holdMs: number, refinement: boolean, onProgress: (line: string) => void): Promise<ReceiveStep> {
    const writer = this.#writerOf(rate);
    const firstSlot = await this.#firstSlot(writer, onProgress);
    if (firstSlot) return { ...unmeasured(rate, refinement), verdict: 'fail', reason: firstSlot };
    // The slots measured start on the clock again: the first one's appends took their time.
    const stream = this.#streamOf(writer);
    const before = await this.snapshots();
    const meters = startMeters();
    const tally: Tally = { requests: 0, acceptedSamples: 0, lostRequests: 0, lostSamples: 0, latenciesMs: [] };
    const started = performance.now();
    let dispatched = 0;
    let blockedMs = 0;
    let encodeMs = 0;
    while (performance.now() - started < holdMs) {
      // The schedule: this request is due once the samples before it have had their time at `rate`.
      const wait = started + (dispatched / rate) * 1000 - performance.now();
      if (wait >= 1) await new Promise((resolve) => setTimeout(resolve, wait));
      const encodeStart = performance.now();
      const r = this.#next(stream);
      const lane = this.lanes[r.lane]!;
      const blockStart = performance.now();
      encodeMs += blockStart - encodeStart;
      await lane.room();
      blockedMs += performance.now() - blockStart;
      lane.push(() => send(this.agent, lane.url, r, tally));
      dispatched += r.samples;
    }
    await Promise.all(this.lanes.map((l) => l.drained()));
    const used = meters.read();
    const after = await this.snapshots();
    const appended = await this.settle(before, tally.acceptedSamples, onProgress);
    const settled = await this.snapshots();
    const rise = (of: (x: ReceiveSnapshot) => number) => this.receives.reduce((sum, id) => sum + of(settled.get(id)!) - of(before.get(id)!), 0);
    const forwardErrors = rise((x) => x.forwardErrors);
    const outOfOrderSamples = rise((x) => x.outOfOrder);
    const appendMismatch = Object.entries(appended)
      .filter(([, n]) => n !== tally.acceptedSamples)
      .map(([id, n]) => `${id.split('/')[1]} appended ${n.toLocaleString('en')} of ${tally.acceptedSamples.toLocaleString('en')} accepted`);
    // Where the missing copies went, as the Receives count it: with replication factor 3 a write is
    // answered at quorum, and a copy still on its way when its series' next sample lands is refused.
    if (appendMismatch.length && outOfOrderSamples) appendMismatch.push(`${outOfOrderSamples.toLocaleString('en')} refused as out of order (a copy arriving after its series' next sample)`);
    if (appendMismatch.length && forwardErrors) appendMismatch.push(`${forwardErrors.toLocaleString('en')} failed forwards/replications between them`);
    const buckets = this.receives
      .map((id) => bucketDelta(after.get(id)!.buckets, before.get(id)!.buckets))
      .reduce<Bucket[]>((sum, b) => (sum.length ? sum.map((s, k) => ({ le: s.le, count: s.count + (b[k]?.count ?? 0) })) : b), []);
    const seconds = used.seconds;
    const figures = {
      target: rate,
      achieved: tally.acceptedSamples / seconds,
      lostRequests: tally.lostRequests,
      firstError: tally.firstError,
      appendMismatch,
      serverP99Seconds: histogramQuantile(0.99, buckets),
      serverShareWithin1s: shareWithin(P99_LIMIT_SECONDS, buckets),
      blockedShare: blockedMs / 1000 / seconds,
      benchCpuCores: used.benchCpuCores,
      machineBusyCores: used.machineBusyCores,
      cores: cpus().length,
    };
    const judgement = judgeReceiveStep(figures);
    return {
      target: rate,
      refinement,
      ...judgement,
      achieved: figures.achieved,
      latencySeconds: figures.serverP99Seconds,
      seconds,
      requests: tally.requests,
      acceptedSamples: tally.acceptedSamples,
      lostRequests: tally.lostRequests,
      lostSamples: tally.lostSamples,
      ...(tally.firstError ? { firstError: tally.firstError } : {}),
      clientP50Ms: percentile(tally.latenciesMs, 50),
      clientP99Ms: percentile(tally.latenciesMs, 99),
      serverP99Seconds: figures.serverP99Seconds,
      serverShareWithin1s: figures.serverShareWithin1s,
      appended,
      forwardErrors,
      outOfOrderSamples,
      blockedShare: figures.blockedShare,
      encodeShare: encodeMs / 1000 / seconds,
      benchCpuCores: used.benchCpuCores,
      machineBusyCores: used.machineBusyCores,
      receiveCpuCores: Object.fromEntries(this.receives.map((id) => [id, (after.get(id)!.cpuSeconds - before.get(id)!.cpuSeconds) / seconds])),
      receiveRssBytes: Object.fromEntries(this.receives.map((id) => [id, after.get(id)!.rssBytes])),
    };
  }
}

export const receiveTopologyOf = (rig: 'receive' | 'receive-rf3') => (rig === 'receive' ? ceilingReceive() : ceilingReceiveRing());

/** One line per step, to stderr: rig, target, achieved, p99, lost, verdict. */
export function receiveStepLine(rig: string, s: ReceiveStep): string {
  const k = (v: number) => `${Math.round(v / 1000).toLocaleString('en')}k`;
  const p99 = s.serverP99Seconds === undefined ? 'n/a' : `${(s.serverP99Seconds * 1000).toFixed(0)} ms`;
  return `[ceiling ${rig}] target ${k(s.target)}/s${s.refinement ? ' (refinement)' : ''}: achieved ${k(s.achieved)}/s, p99 ${p99} (client ${s.clientP99Ms?.toFixed(0) ?? 'n/a'} ms), lost ${s.lostSamples.toLocaleString('en')}, bench ${s.benchCpuCores.toFixed(2)} cores, machine ${s.machineBusyCores.toFixed(2)}: ${s.verdict}${s.reason ? ` (${s.reason})` : ''}`;
}

/** Brings the rig up, steps the rate up to its ceiling, tears it down (however it ends). */
export function runReceiveRig(rig: 'receive' | 'receive-rf3', substrate: Substrate, opts: RigOptions<ReceiveStep>): Promise<RigRun<ReceiveStep>> {
  return driveRig(rig, receiveTopologyOf(rig), RECEIVE_PLAN, substrate, opts, async (t) => {
    const load = new ReceiveLoad(t);
    opts.onProgress(`[ceiling ${rig}] ${load.receives.length} Receive(s) up; ${LANES} lanes of ${SAMPLES_PER_REQUEST.toLocaleString('en')} samples per request, one sample a second per series`);
    return {
      instances: load.receives,
      step: (target, holdMs, refinement) => load.step(target, holdMs, refinement, opts.onProgress),
      line: (step) => receiveStepLine(rig, step),
      [Symbol.dispose]: () => load[Symbol.dispose](),
    };
  });
}
