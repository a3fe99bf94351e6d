// Steps of the Receive ingest findings (issue 20): both sides' counters read at one moment, and a
// client other than Prometheus writing to a Receive.
//
// Both sides count the same samples only if nothing is in flight while they are read. The presets
// scrape once a grid slot and send each scrape within about a second (a short batch deadline), so
// after a slot's delivery there are seconds in which Prometheus sends nothing. quietSnapshot reads
// Prometheus, then the Receives, then Prometheus again, and keeps the reading only if Prometheus'
// counters did not move and nothing was pending; otherwise it waits for the next slot's delivery
// and reads again (a bounded number of times). It never looks at what the counters say beyond that.
import { PromApiClient } from '../promql/client.ts';
import { metricSum } from '../promql/metrics.ts';
import { equals, greaterOrEqual, waitSumMetrics } from '../promql/wait-metrics.ts';
import { waitFor } from '../wait.ts';
import type { RunningTopology } from '../substrates/index.ts';
import { alignDown, durationMs } from '../time.ts';
import type { Handle } from '../presets/handles.ts';
import { RemoteWriteError, remoteWrite, type WriteSeries } from '../workload/remote-write.ts';
import { receiveCounters, remoteWriteCounters, type ReceiveCounters, type RemoteWriteCounters } from './remote-write.ts';
import { outOfOrderCompactedSince, type OutOfOrderCompactions } from '../models/receive-head.ts';

/**
 * Samples one scrape adds beside the target's own: up, scrape_duration_seconds,
 * scrape_samples_scraped, scrape_samples_post_metric_relabeling, scrape_series_added (Prometheus
 * 3.16.0 scrape/scrape.go; the extra ones need a feature flag the harness does not set).
 */
export const REPORT_SAMPLES_PER_SCRAPE = 5;

/** What one Receive says about one tenant at a moment: its write counters, and its head's. */
export interface ReceiveSide extends Pick<ReceiveCounters, 'samplesByCode' | 'requestsByCode' | 'headMaxTimeMs'> {
  /** Samples its head appended (prometheus_tsdb_head_samples_appended_total). */
  appended: number;
  /** Samples its head refused as out of bounds (prometheus_tsdb_out_of_bound_samples_total). */
  outOfBounds: number;
  /** Samples its head appended out of order, inside its out-of-order window (prometheus_tsdb_head_out_of_order_samples_appended_total). */
  outOfOrderAppended: number;
  /** Its head's oldest sample (ms): after a block cut, where the cut ended. */
  headMinTimeMs: number | undefined;
}

export interface IngestSnapshot {
  /** When it was read (ms). */
  atMs: number;
  /** Summed over the Prometheus given. */
  prometheus: RemoteWriteCounters;
  receives: Record<string, ReceiveSide>;
}

async function prometheusSide(t: RunningTopology, prometheus: string[]): Promise<RemoteWriteCounters> {
  const sum: RemoteWriteCounters = { samplesTotal: 0, samplesFailed: 0, samplesRetried: 0, highestSentMs: 0, samplesPending: 0 };
  for (const id of prometheus) {
    const c = await remoteWriteCounters(t, id);
    sum.samplesTotal += c.samplesTotal;
    sum.samplesFailed += c.samplesFailed;
    sum.samplesRetried += c.samplesRetried;
    sum.highestSentMs = Math.max(sum.highestSentMs, c.highestSentMs);
    sum.samplesPending += c.samplesPending;
  }
  return sum;
}

export async function receiveSide(t: RunningTopology, receive: string, tenant: string): Promise<ReceiveSide> {
  const c = await receiveCounters(t, receive, tenant);
  const text = await new PromApiClient(t.url(receive)).metrics();
  return {
    samplesByCode: c.samplesByCode,
    requestsByCode: c.requestsByCode,
    appended: metricSum(text, 'prometheus_tsdb_head_samples_appended_total', { tenant }) ?? 0,
    outOfBounds: metricSum(text, 'prometheus_tsdb_out_of_bound_samples_total', { tenant }) ?? 0,
    outOfOrderAppended: metricSum(text, 'prometheus_tsdb_head_out_of_order_samples_appended_total', { tenant }) ?? 0,
    headMaxTimeMs: c.headMaxTimeMs,
    headMinTimeMs: positive(metricSum(text, 'prometheus_tsdb_head_min_time', { tenant })),
  };
}

// An empty head reports math.MaxInt64 / MinInt64 for its bounds.
const positive = (v: number | undefined) => (v !== undefined && v > 0 && v < 2 ** 62 ? v : undefined);

const same = (a: RemoteWriteCounters, b: RemoteWriteCounters) =>
  a.samplesTotal === b.samplesTotal && a.samplesFailed === b.samplesFailed && a.samplesRetried === b.samplesRetried;

/** Readings a snapshot may take before it gives up: each waits for one more slot's delivery. */
const QUIET_TRIES = 4;

/**
 * Both sides' counters at one moment with nothing in flight, read once the slot stamped slotMs (or
 * a later one, if Prometheus was busy when it first read) was served, scraped and sent.
 *
 * Quiet means: the exporter served no new slot and Prometheus' counters did not move while both
 * sides were read, nothing was pending in its queues, and it had sent a sample stamped at the
 * newest served slot or later. That sample can only come from the scrape that served that slot
 * (the scrape before carries timestamps a grid step earlier), so that scrape was in the queue, and
 * with nothing pending all of it was sent: the snapshot holds exactly the scrapes up to `slotMs`.
 */
export async function quietSnapshot(
  t: RunningTopology,
  writers: { prometheus: string[]; receives: string[]; tenant: string },
  slotMs: number,
  log: (line: string) => void,
): Promise<IngestSnapshot & { slotMs: number }> {
  const step = t.workload.workload.stepMs;
  const served = async () => {
    await t.workload.sync();
    return writers.prometheus.map((id) => t.workload.servedUpTo(id) ?? Number.NaN);
  };
  let slot = slotMs;
  const moved: string[] = [];
  for (let k = 0; k < QUIET_TRIES; k++, slot += step) {
    // The slot served, a sample stamped at it sent, and the scrape's last partial batch (which
    // waits for the batch deadline) sent too: nothing pending.
    await waitFor(
      `the workload exporter to serve ${iso(slot)} to ${writers.prometheus.join(', ')}`,
      async (note) => {
        const now = await served();
        note(`served ${now.map(iso).join(', ')}`);
        return now.every((v) => v >= slot) ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100, onProgress: log },
    );
    for (const id of writers.prometheus) {
      const opts = { timeoutMs: 30_000, intervalMs: 100, onProgress: log };
      await waitSumMetrics(id, t.url(id), greaterOrEqual(slot / 1000), 'prometheus_remote_storage_queue_highest_sent_timestamp_seconds', opts);
      await waitSumMetrics(id, t.url(id), equals(0), 'prometheus_remote_storage_samples_pending', opts);
    }
    const servedBefore = await served();
    const first = await prometheusSide(t, writers.prometheus);
    const receives: Record<string, ReceiveSide> = {};
    for (const r of writers.receives) receives[r] = await receiveSide(t, r, writers.tenant);
    const atMs = Date.now();
    const second = await prometheusSide(t, writers.prometheus);
    const servedAfter = await served();
    const newest = Math.max(...servedAfter);
    const quiet =
      servedBefore.every((v, i) => v === servedAfter[i]) &&
      servedAfter.every((v) => v === newest) &&
      same(first, second) &&
      second.samplesPending === 0 &&
      second.highestSentMs >= newest;
    if (quiet) return { atMs, prometheus: second, receives, slotMs: newest };
    moved.push(`after ${new Date(slot).toISOString()}: served ${servedBefore.map(iso)} then ${servedAfter.map(iso)}, ${second.samplesTotal - first.samplesTotal} sent meanwhile, ${second.samplesPending} pending, highest sent ${iso(second.highestSentMs)}`);
  }
  throw new Error(
    `could not read Prometheus and Receive with nothing in flight in ${QUIET_TRIES} slots (${moved.join('; ')}): ` +
      'the preset must scrape once a slot and send each scrape well inside it',
  );
}

const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : 'nothing');

/** The first grid slot that starts after tMs. */
export const nextSlotAfter = (tMs: number, stepMs: number): number => alignDown(tMs, stepMs) + stepMs;

/** What a Receive answered one write of a client of the harness's own (not Prometheus). */
export interface ClientWrite {
  status: number;
  body: string;
  writtenAtMs: number;
}

/** One remote-write request to a Receive, answered with any status: the answer is what is measured. */
export async function writeAsClient(t: RunningTopology, receive: string, series: WriteSeries[]): Promise<ClientWrite> {
  const url = `${t.url(receive, 'remote-write')}/api/v1/receive`;
  const writtenAtMs = Date.now();
  try {
    await remoteWrite(url, series);
    return { status: 200, body: '', writtenAtMs };
  } catch (err) {
    if (err instanceof RemoteWriteError) return { status: err.status, body: err.body.trim(), writtenAtMs };
    throw err;
  }
}

/** A Receive tenant's out-of-order compactions begun and finished, as its WBL counts them (models/receive-head.ts). */
export async function outOfOrderCompactions(t: RunningTopology, receive: string, tenant: string): Promise<OutOfOrderCompactions> {
  const text = await new PromApiClient(t.url(receive)).metrics();
  return {
    segment: metricSum(text, 'prometheus_tsdb_out_of_order_wbl_segment_current', { tenant }) ?? 0,
    truncations: metricSum(text, 'prometheus_tsdb_out_of_order_wbl_truncations_total', { tenant }) ?? 0,
  };
}

/**
 * Waits until a Receive has cut its out-of-order head into blocks since this call: an out-of-order
 * compaction begun after it, finished. Receive does so on its own schedule, every block length
 * once its head's oldest sample is 1.5 block lengths old, so this takes up to about three.
 * Says nothing about which blocks it cut: the bucket does.
 */
export async function waitForOutOfOrderCompaction(t: RunningTopology, receive: Handle<'receive'>, log: (line: string) => void): Promise<OutOfOrderCompactions> {
  const tenant = receive.spec.defaultTenant;
  const before = await outOfOrderCompactions(t, receive.ref, tenant);
  const blockMs = durationMs(receive.spec.blockDuration ?? '2h');
  return await waitFor(
    `${receive.ref} to cut its out-of-order head into blocks (WBL segment above ${before.segment}, truncated as often)`,
    async (note) => {
      const now = await outOfOrderCompactions(t, receive.ref, tenant);
      note(`WBL segment ${now.segment}, truncations ${now.truncations}`);
      return outOfOrderCompactedSince(before, now) ? now : undefined;
    },
    { timeoutMs: 3 * blockMs, intervalMs: 500, onProgress: log },
  );
}

const NOTHING_YET: ReceiveSide = { samplesByCode: {}, requestsByCode: {}, headMaxTimeMs: undefined, appended: 0, outOfBounds: 0, outOfOrderAppended: 0, headMinTimeMs: undefined };

/** Every counter of b minus a's: what happened between two snapshots. */
export function sidesDelta(a: IngestSnapshot, b: IngestSnapshot) {
  const byCode = (x: Record<string, number>, y: Record<string, number>) =>
    Object.fromEntries([...new Set([...Object.keys(x), ...Object.keys(y)])].map((code) => [code, (y[code] ?? 0) - (x[code] ?? 0)]));
  return {
    prometheus: {
      sent: b.prometheus.samplesTotal - a.prometheus.samplesTotal,
      failed: b.prometheus.samplesFailed - a.prometheus.samplesFailed,
      retried: b.prometheus.samplesRetried - a.prometheus.samplesRetried,
    },
    receives: Object.fromEntries(
      Object.keys(b.receives).map((r) => {
        // A receive first read in b (one that joined since a) counts from zero.
        const [x, y] = [a.receives[r] ?? NOTHING_YET, b.receives[r]!];
        return [
          r,
          {
            samplesByCode: byCode(x.samplesByCode, y.samplesByCode),
            requestsByCode: byCode(x.requestsByCode, y.requestsByCode),
            appended: y.appended - x.appended,
            outOfBounds: y.outOfBounds - x.outOfBounds,
            outOfOrderAppended: y.outOfOrderAppended - x.outOfOrderAppended,
          },
        ];
      }),
    ),
  };
}

/** Both sides' counters at one moment of a running experiment (not necessarily quiet). */
export interface TimelinePoint {
  atMs: number;
  /** Summed over the Prometheus given. */
  prometheus: RemoteWriteCounters;
  /** The receive Prometheus writes to (the router): requests and samples it answered, by status code. */
  front: Pick<ReceiveCounters, 'requestsByCode' | 'samplesByCode'>;
}

/**
 * Reads Prometheus' remote-write counters and the front receive's answers by status code every
 * intervalMs in the background, from start() until stop() (at most maxPoints readings, and never
 * past maxMs: it stops itself). For the plots over time and the window of non-2xx answers; the
 * exact counts come from quietSnapshot. A reading that fails (a receive restarting) is skipped.
 */
export class IngestTimeline {
  readonly points: TimelinePoint[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #stopAt = 0;

  readonly #t: RunningTopology;
  readonly #prometheus: string[];
  readonly #front: string;
  readonly #tenant: string;
  readonly #opts: { intervalMs: number; maxPoints: number; maxMs: number };

  constructor(t: RunningTopology, prometheus: string[], front: string, tenant: string, opts = { intervalMs: 500, maxPoints: 600, maxMs: 300_000 }) {
    this.#t = t;
    this.#prometheus = prometheus;
    this.#front = front;
    this.#tenant = tenant;
    this.#opts = opts;
  }

  start(): this {
    this.#stopAt = Date.now() + this.#opts.maxMs;
    let busy = false;
    this.#timer = setInterval(() => {
      if (busy) return;
      if (this.points.length >= this.#opts.maxPoints || Date.now() > this.#stopAt) return this.stop();
      busy = true;
      Promise.all([prometheusSide(this.#t, this.#prometheus), receiveCounters(this.#t, this.#front, this.#tenant)])
        .then(([prometheus, c]) => this.points.push({ atMs: Date.now(), prometheus, front: { requestsByCode: c.requestsByCode, samplesByCode: c.samplesByCode } }))
        .catch(() => undefined)
        .finally(() => (busy = false));
    }, this.#opts.intervalMs);
    this.#timer.unref(); // never what keeps the test process alive
    return this;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * The front's answers other than 200 over the timeline: how many requests and samples, and the
   * window from the last reading before the first of them to the first reading after the last
   * (undefined if there were none).
   */
  refusals(): { requests: number; samples: number; byCode: Record<string, number>; fromMs: number; toMs: number } | undefined {
    const non200 = (x: Record<string, number>) => Object.entries(x).reduce((n, [code, v]) => n + (code === '200' ? 0 : v), 0);
    let first: number | undefined;
    let last: number | undefined;
    for (let k = 1; k < this.points.length; k++) {
      if (non200(this.points[k]!.front.requestsByCode) > non200(this.points[k - 1]!.front.requestsByCode)) {
        first ??= k;
        last = k;
      }
    }
    if (first === undefined || last === undefined) return undefined;
    const a = this.points[first - 1]!;
    const b = this.points[last]!;
    const byCode: Record<string, number> = {};
    for (const [code, v] of Object.entries(b.front.requestsByCode)) if (code !== '200') byCode[code] = v - (a.front.requestsByCode[code] ?? 0);
    return {
      requests: non200(b.front.requestsByCode) - non200(a.front.requestsByCode),
      samples: non200(b.front.samplesByCode) - non200(a.front.samplesByCode),
      byCode,
      fromMs: a.atMs,
      toMs: b.atMs,
    };
  }

  /**
   * Per bucket of bucketMs from the first reading: samples Prometheus sent and kept, retried and
   * failed; samples the front answered 200 and otherwise (by code). The plot "over time".
   */
  buckets(bucketMs: number): { fromMs: number; sentKept: number; retried: number; failed: number; front: Record<string, number> }[] {
    const out: { fromMs: number; sentKept: number; retried: number; failed: number; front: Record<string, number> }[] = [];
    if (this.points.length < 2) return out;
    const t0 = this.points[0]!.atMs;
    let prev = this.points[0]!;
    for (const p of this.points.slice(1)) {
      const from = t0 + Math.floor((p.atMs - t0) / bucketMs) * bucketMs;
      let b = out.at(-1);
      if (!b || b.fromMs !== from) out.push((b = { fromMs: from, sentKept: 0, retried: 0, failed: 0, front: {} }));
      const sent = p.prometheus.samplesTotal - prev.prometheus.samplesTotal;
      const failed = p.prometheus.samplesFailed - prev.prometheus.samplesFailed;
      const retried = p.prometheus.samplesRetried - prev.prometheus.samplesRetried;
      b.sentKept += sent - failed - retried;
      b.retried += retried;
      b.failed += failed;
      for (const [code, v] of Object.entries(p.front.samplesByCode)) b.front[code] = (b.front[code] ?? 0) + v - (prev.front.samplesByCode[code] ?? 0);
      prev = p;
    }
    return out;
  }
}
