// Prometheus remote-write 1.0 client: how the harness writes backdated history into a Prometheus
// (--web.enable-remote-write-receiver) or a Thanos receive, fast, before the live scrape starts.
import protobuf from 'protobufjs';
import snappy from 'snappyjs';
import { gridPoints, seriesLabels, valueAt, type Workload } from './series.ts';

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
  return snappy.compress(WriteRequestType.encode(message).finish());
}

/** The inverse of encodeWriteRequest (used by tests, and handy when debugging a capture). */
export function decodeWriteRequest(body: Uint8Array): WriteSeries[] {
  const decoded = WriteRequestType.toObject(WriteRequestType.decode(snappy.uncompress(body)), {
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
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 30_000);
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      ...opts.headers,
      'Content-Encoding': 'snappy',
      'Content-Type': 'application/x-protobuf',
      'X-Prometheus-Remote-Write-Version': '0.1.0',
    },
    body: encodeWriteRequest(series),
    signal: opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout,
  });
  const body = await response.text();
  if (!response.ok) throw new RemoteWriteError(url, response.status, body);
}

export interface BackfillOptions extends RemoteWriteOptions {
  /** Upper bound on samples in one request (all series of a time slice go together). Default 10 000. */
  maxSamplesPerRequest?: number;
}

export interface BackfillResult {
  requests: number;
  samples: number;
  /** First and last grid timestamp written, if any. */
  firstMs?: number;
  lastMs?: number;
}

/**
 * Writes the workload's samples on the grid points in [fromMs, toMs] (both included), oldest first,
 * one time slice of all series per request. In-order matters: Prometheus rejects samples older
 * than head.maxTime - blockRange/2 ("out of bounds").
 */
export async function backfill(
  url: string,
  workload: Workload,
  fromMs: number,
  toMs: number,
  opts: BackfillOptions = {},
): Promise<BackfillResult> {
  const points = gridPoints(fromMs, toMs, workload.stepMs);
  const pointsPerRequest = Math.max(1, Math.floor((opts.maxSamplesPerRequest ?? 10_000) / workload.seriesCount));
  const result: BackfillResult = { requests: 0, samples: 0 };
  for (let start = 0; start < points.length; start += pointsPerRequest) {
    const slice = points.slice(start, start + pointsPerRequest);
    const series: WriteSeries[] = [];
    for (let i = 0; i < workload.seriesCount; i++) {
      series.push({ labels: seriesLabels(workload, i), samples: slice.map((t) => ({ t, v: valueAt(i, t) })) });
    }
    await remoteWrite(url, series, opts);
    result.requests++;
    result.samples += slice.length * workload.seriesCount;
  }
  if (points.length > 0) {
    result.firstMs = points[0];
    result.lastMs = points[points.length - 1];
  }
  return result;
}
