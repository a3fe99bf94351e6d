// Finding F's trade-offs that cost something measurable: what a query load costs the observee's
// Prometheus (via Sidecar or via Receive), and what each architecture keeps in the bucket.
import { PromApiClient, type RangeQueryOptions } from '../promql/client.ts';
import { metricSum } from '../promql/metrics.ts';
import type { BlockMeta, Bucket } from '../s3/bucket.ts';
import type { QueryPath } from './arch1.ts';

/** Prometheus' remote-read endpoint: what a sidecar calls for every Series request it serves. */
export const REMOTE_READ_HANDLER = '/api/v1/read';

/** The fixed, bounded load each path gets: the same range query, this many times, this many at once. */
export interface QueryLoad {
  expr: string;
  range: RangeQueryOptions;
  /** Queries per path, split over two turns (see measureQueryLoad). Even. */
  count: number;
  concurrency: number;
}

/** What the observee's Prometheus instances spent, summed over them, while one path served its load. */
export interface ObserveeCost {
  cpuSeconds: number;
  /** Resident memory after the turn minus before it, summed over turns and instances (may be negative: Go returns memory). */
  rssDeltaBytes: number;
  /** Resident memory after the last turn, summed over instances. */
  rssAfterBytes: number;
  /** Remote-read requests the observee's Prometheus instances answered. */
  remoteReads: number;
  queries: number;
  /** Wall time of the path's turns. */
  wallMs: number;
  /** How many series each answer had (a set: a path that answers the same every time has one). */
  seriesPerAnswer: number[];
  warnings: string[];
}

interface Reading {
  cpu: number;
  rss: number;
  reads: number;
}

async function readObservee(prometheus: PromApiClient[]): Promise<Reading> {
  const readings = await Promise.all(
    prometheus.map(async (p) => {
      const text = await p.metrics();
      const value = (name: string, labels: Record<string, string> = {}) => {
        const v = metricSum(text, name, labels);
        if (v === undefined) throw new Error(`${p.baseUrl}/metrics has no ${name}${JSON.stringify(labels)}`);
        return v;
      };
      // A handler Prometheus has not served yet has no sample: none served is 0.
      return { cpu: value('process_cpu_seconds_total'), rss: value('process_resident_memory_bytes'), reads: metricSum(text, 'prometheus_http_requests_total', { handler: REMOTE_READ_HANDLER }) ?? 0 };
    }),
  );
  return readings.reduce((a, b) => ({ cpu: a.cpu + b.cpu, rss: a.rss + b.rss, reads: a.reads + b.reads }));
}

/**
 * Runs the same load through each path and reads the observee's Prometheus instances' own
 * /metrics around every turn. The turns go A B B A (half the load each), so that whatever drifts
 * in the background (scrapes, remote write, GC) weighs on both paths alike.
 */
export async function measureQueryLoad(
  prometheusUrls: string[],
  paths: Record<'viaSidecar' | 'viaReceive', QueryPath>,
  load: QueryLoad,
): Promise<Record<'viaSidecar' | 'viaReceive', ObserveeCost>> {
  if (load.count % 2 !== 0) throw new Error(`query load count ${load.count} must be even (two turns per path)`);
  const prometheus = prometheusUrls.map((u) => new PromApiClient(u));
  const empty = (): ObserveeCost => ({ cpuSeconds: 0, rssDeltaBytes: 0, rssAfterBytes: 0, remoteReads: 0, queries: 0, wallMs: 0, seriesPerAnswer: [], warnings: [] });
  const costs = { viaSidecar: empty(), viaReceive: empty() };
  for (const name of ['viaSidecar', 'viaReceive', 'viaReceive', 'viaSidecar'] as const) {
    const cost = costs[name];
    const answers: { series: number; warnings: string[] }[] = [];
    const before = await readObservee(prometheus);
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: load.concurrency }, async () => {
        while (next < load.count / 2) {
          next++;
          const answer = await paths[name].query.queryRange(load.expr, load.range);
          answers.push({ series: answer.result.length, warnings: answer.warnings ?? [] });
        }
      }),
    );
    cost.wallMs += Date.now() - started;
    const after = await readObservee(prometheus);
    cost.cpuSeconds += after.cpu - before.cpu;
    cost.rssDeltaBytes += after.rss - before.rss;
    cost.rssAfterBytes = after.rss;
    cost.remoteReads += after.reads - before.reads;
    cost.queries += answers.length;
    cost.seriesPerAnswer = [...new Set([...cost.seriesPerAnswer, ...answers.map((a) => a.series)])].sort((a, b) => a - b);
    cost.warnings.push(...answers.flatMap((a) => a.warnings));
  }
  // Counters in float seconds: keep the figures readable.
  for (const cost of Object.values(costs)) cost.cpuSeconds = +cost.cpuSeconds.toFixed(3);
  return costs;
}

/** Bucket bytes of some blocks: every object under each block's directory. */
export interface BlocksCost {
  blocks: number;
  bytes: number;
  /** Samples in those blocks (meta.json stats). */
  samples: number;
  minTime: number;
  maxTime: number;
}

/** The bytes and samples of some of the blocks under a prefix. */
export async function blocksCost(bucket: Bucket, prefix: string, blocks: BlockMeta[]): Promise<BlocksCost> {
  const keys = await bucket.keys(`${prefix}/`);
  const ulids = new Set(blocks.map((b) => b.ulid));
  const bytes = keys.filter((k) => ulids.has(k.key.slice(prefix.length + 1).split('/')[0]!)).reduce((sum, k) => sum + k.size, 0);
  return {
    blocks: blocks.length,
    bytes,
    samples: blocks.reduce((sum, b) => sum + (b.stats?.numSamples ?? 0), 0),
    minTime: Math.min(...blocks.map((b) => b.minTime)),
    maxTime: Math.max(...blocks.map((b) => b.maxTime)),
  };
}
