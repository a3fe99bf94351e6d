// Prometheus remote-write 1.0 client: how the harness writes backdated history into a Prometheus
// (--web.enable-remote-write-receiver) or a Thanos receive, fast, before the live scrape starts.
import protobuf from 'protobufjs';
// snappy's native block-format codec: the pure-JS one took longer than encoding the request itself.
import { compressSync, uncompressSync } from 'snappy';
import { generationAt, seriesLabels, valueAt, type Workload } from './series.ts';
import { gridPoints } from '../time.ts';

// The subset of prometheus/prompb (types.proto, remote.proto) that remote write 1.0 needs.
// Field numbers are the wire contract; note Sample is value = 1, timestamp = 2.
const WRITE_REQUEST_PROTO = `
syntax = "proto3";
package prometheus;
message WriteRequest { repeated TimeSeries timeseries = 1; }
message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }
message Label { string name = 1; string value = 2; }
message Sample { double value = 1; int64 timestamp = 2; }
`;

/** The protobufjs type, exported so tests can decode what encodeWriteRequest produced. */
export const WriteRequestType = protobuf.parse(WRITE_REQUEST_PROTO).root.lookupType('prometheus.WriteRequest');

export interface Sample {
  /** Milliseconds since the epoch. */
  t: number;
  v: number;
}

export interface WriteSeries {
  labels: Record<string, string>;
  samples: Sample[];
}

export interface RemoteWriteOptions {
  /** Extra headers, e.g. { 'THANOS-TENANT': 'team-a' }. */
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Per request; default 30 s. */
  timeoutMs?: number;
}

export class RemoteWriteError extends Error {
  readonly status: number;
  readonly body: string;
  constructor(url: string, status: number, body: string) {
    super(`remote write to ${url} failed: HTTP ${status}: ${body.trim()}`);
    this.name = 'RemoteWriteError';
    this.status = status;
    this.body = body;
  }
}

/** Protobuf-encodes and snappy-compresses (block format) a WriteRequest. Labels are sent sorted by name, as the spec requires. */
export function encodeWriteRequest(series: WriteSeries[]): Uint8Array {
  const message = WriteRequestType.fromObject({
    timeseries: series.map((s) => ({
      labels: Object.keys(s.labels)
        .sort()
        .map((name) => ({ name, value: s.labels[name] })),
      samples: s.samples.map(({ t, v }) => ({ value: v, timestamp: t })),
    })),
  });
  return compressSync(WriteRequestType.encode(message).finish());
}

/** The inverse of encodeWriteRequest (used by tests, and handy when debugging a capture). */
export function decodeWriteRequest(body: Uint8Array): WriteSeries[] {
  const decoded = WriteRequestType.toObject(WriteRequestType.decode(uncompressSync(body, { asBuffer: true }) as Buffer), {
    longs: Number,
    arrays: true,
    defaults: true, // proto3 leaves zeros off the wire: value 0 must decode as 0, not be absent
  }) as { timeseries: { labels: { name: string; value: string }[]; samples: { value: number; timestamp: number }[] }[] };
  return decoded.timeseries.map((ts) => ({
    labels: Object.fromEntries(ts.labels.map((l) => [l.name, l.value])),
    samples: ts.samples.map((s) => ({ t: s.timestamp, v: s.value })),
  }));
}

export async function remoteWrite(url: string, series: WriteSeries[], opts: RemoteWriteOptions = {}): Promise<void> {
  await postWriteRequest(url, encodeWriteRequest(series), opts);
}

export interface BackfillOptions extends RemoteWriteOptions {
  /** Upper bound on samples in one request. Default 10 000. */
  maxSamplesPerRequest?: number;
}

export interface BackfillResult {
  requests: number;
  samples: number;
  /** First and last grid timestamp written, if any. */
  firstMs?: number;
  lastMs?: number;
}

// ---- writing the workload fast: 100k series x hours of history ----
// Building protobufjs objects for every sample costs more than Prometheus takes to ingest them. The
// workload's bodies are written straight into bytes instead: each series' labels are encoded once
// (they never change) and only (value, timestamp) pairs are added per request. The wire format is
// the same WriteRequest; the unit tests decode these bodies with protobufjs' own decoder.

const utf8 = new TextEncoder();
// A double's 8 bytes, little-endian as protobuf wants them (every platform Node runs on is little-endian).
const scratch = new Float64Array(1);
const scratchBytes = new Uint8Array(scratch.buffer);

function varintLength(n: number): number {
  let len = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

/** Writes n (a non-negative safe integer) as a protobuf varint at offset; returns the new offset. */
function putVarint(buf: Buffer, offset: number, n: number): number {
  while (n >= 128) {
    buf[offset++] = (n % 128) | 128;
    n = Math.floor(n / 128);
  }
  buf[offset++] = n;
  return offset;
}

/** Field 1 of a TimeSeries, repeated: every label as a Label message, sorted by name (the spec requires it). */
function encodeLabels(labels: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const name of Object.keys(labels).sort()) {
    const n = utf8.encode(name);
    const v = utf8.encode(labels[name]!);
    const inner = 1 + varintLength(n.length) + n.length + 1 + varintLength(v.length) + v.length;
    const buf = Buffer.allocUnsafe(1 + varintLength(inner) + inner);
    let o = putVarint(buf, 0, (1 << 3) | 2);
    o = putVarint(buf, o, inner);
    o = putVarint(buf, o, (1 << 3) | 2);
    o = putVarint(buf, o, n.length);
    buf.set(n, o);
    o += n.length;
    o = putVarint(buf, o, (2 << 3) | 2);
    o = putVarint(buf, o, v.length);
    buf.set(v, o);
    parts.push(buf);
  }
  return Buffer.concat(parts);
}

/** The workload's history as remote-write bodies: time slices in order, each cut into requests of whole series. */
export class WorkloadWriter {
  readonly workload: Workload;
  /** One copy of every series per label set (e.g. a replica's external labels); [{}]: the series as they are. */
  readonly copies: Record<string, string>[];
  readonly #labels: (Buffer | undefined)[] = [];
  /** Under churn: the pod generation each cached label set was encoded for. */
  readonly #generations: (number | undefined)[] = [];

  constructor(workload: Workload, copies: Record<string, string>[] = [{}]) {
    this.workload = workload;
    this.copies = copies;
  }

  /** Series i's labels (of its generation alive at tMs, under churn), encoded once per generation. */
  #labelsOf(copy: number, i: number, tMs: number): Buffer {
    const key = copy * this.workload.seriesCount + i;
    if (!this.workload.churn) return (this.#labels[key] ??= encodeLabels({ ...seriesLabels(this.workload, i), ...this.copies[copy] }));
    const generation = generationAt(this.workload, i, tMs);
    if (this.#labels[key] === undefined || this.#generations[key] !== generation) {
      this.#labels[key] = encodeLabels({ ...seriesLabels(this.workload, i, generation), ...this.copies[copy] });
      this.#generations[key] = generation;
    }
    return this.#labels[key];
  }

  /**
   * The grid points in slices of at most pointsPerSlice. Under churn a slice never crosses a
   * period boundary, so that each series of a slice is one generation: one TimeSeries.
   */
  #slices(points: number[], pointsPerSlice: number): number[][] {
    const slices: number[][] = [];
    const period = this.workload.churn?.periodMs;
    for (let p = 0; p < points.length; ) {
      let end = Math.min(points.length, p + pointsPerSlice);
      if (period !== undefined) {
        const k = Math.floor(points[p]! / period);
        for (let q = p + 1; q < end; q++) if (Math.floor(points[q]! / period) !== k) end = q;
      }
      slices.push(points.slice(p, end));
      p = end;
    }
    return slices;
  }

  /**
   * Snappy-compressed WriteRequests of the grid samples in [fromMs, toMs]: every sample of a time
   * slice is sent before any of the next, so that a head's max time moves no further ahead of a
   * series than one slice (TSDBs refuse samples older than head.maxTime - blockRange/2). At most
   * maxSamplesPerRequest samples a request, and whole series of a slice at a time.
   */
  *requests(fromMs: number, toMs: number, maxSamplesPerRequest = 10_000): Generator<{ body: Uint8Array; samples: number }> {
    const w = this.workload;
    const points = gridPoints(fromMs, toMs, w.stepMs);
    const series = w.seriesCount * this.copies.length;
    const pointsPerSlice = Math.max(1, Math.floor(maxSamplesPerRequest / series));
    const seriesPerRequest = Math.max(1, Math.floor(maxSamplesPerRequest / pointsPerSlice));
    for (const slice of this.#slices(points, pointsPerSlice)) {
      // A Sample field of a TimeSeries: [tag 2, length, tag 1 (double)] value [tag 2 (varint), timestamp].
      // Only the value differs between series: the rest is encoded once per slice.
      const heads = slice.map((t) => {
        const length = 1 + 8 + 1 + varintLength(t);
        return Buffer.from([(2 << 3) | 2, length, (1 << 3) | 1]); // length < 128: one byte
      });
      const tails = slice.map((t) => {
        const buf = Buffer.allocUnsafe(1 + varintLength(t));
        putVarint(buf, putVarint(buf, 0, (2 << 3) | 0), t);
        return buf;
      });
      const samplesLength = slice.reduce((n, _, k) => n + heads[k]!.length + 8 + tails[k]!.length, 0);
      for (let first = 0; first < series; first += seriesPerRequest) {
        const last = Math.min(series, first + seriesPerRequest);
        let total = 0;
        for (let s = first; s < last; s++) {
          const inner = this.#labelsOf(Math.floor(s / w.seriesCount), s % w.seriesCount, slice[0]!).length + samplesLength;
          total += 1 + varintLength(inner) + inner;
        }
        const buf = Buffer.allocUnsafe(total);
        let o = 0;
        for (let s = first; s < last; s++) {
          const index = s % w.seriesCount;
          const labels = this.#labelsOf(Math.floor(s / w.seriesCount), index, slice[0]!);
          buf[o++] = (1 << 3) | 2;
          o = putVarint(buf, o, labels.length + samplesLength);
          o += labels.copy(buf, o);
          // Byte by byte: Buffer.copy costs more than these few bytes are worth.
          for (let k = 0; k < slice.length; k++) {
            const head = heads[k]!;
            const tail = tails[k]!;
            for (let b = 0; b < head.length; b++) buf[o++] = head[b]!;
            scratch[0] = valueAt(index, slice[k]!);
            for (let b = 0; b < 8; b++) buf[o++] = scratchBytes[b]!;
            for (let b = 0; b < tail.length; b++) buf[o++] = tail[b]!;
          }
        }
        yield { body: compressSync(buf), samples: (last - first) * slice.length };
      }
    }
  }
}

/** Sends an encoded WriteRequest (from WorkloadWriter). */
export async function postWriteRequest(url: string, body: Uint8Array, opts: RemoteWriteOptions = {}): Promise<void> {
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 30_000);
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      ...opts.headers,
      'Content-Encoding': 'snappy',
      'Content-Type': 'application/x-protobuf',
      'X-Prometheus-Remote-Write-Version': '0.1.0',
    },
    body,
    signal: opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout,
  });
  const text = await response.text();
  if (!response.ok) throw new RemoteWriteError(url, response.status, text);
}

/**
 * Writes the workload's samples on the grid points in [fromMs, toMs] (both included), oldest first
 * (WorkloadWriter.requests). In-order matters: Prometheus rejects samples older than
 * head.maxTime - blockRange/2 ("out of bounds").
 */
export async function backfill(
  url: string,
  workload: Workload,
  fromMs: number,
  toMs: number,
  opts: BackfillOptions & { writer?: WorkloadWriter } = {},
): Promise<BackfillResult> {
  const writer = opts.writer ?? new WorkloadWriter(workload);
  const result: BackfillResult = { requests: 0, samples: 0 };
  for (const request of writer.requests(fromMs, toMs, opts.maxSamplesPerRequest)) {
    await postWriteRequest(url, request.body, opts);
    result.requests++;
    result.samples += request.samples;
  }
  const points = gridPoints(fromMs, toMs, workload.stepMs);
  if (points.length > 0) {
    result.firstMs = points[0];
    result.lastMs = points[points.length - 1];
  }
  return result;
}
