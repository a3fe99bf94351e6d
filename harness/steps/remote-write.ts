// What Prometheus and Thanos Receive report about remote write, read from their own /metrics:
// how far a Prometheus has delivered, what failed or was retried, what each receive accepted.
// Names as in Prometheus 3.16.0 storage/remote/queue_manager.go and Thanos 0.42.4 pkg/receive/handler.go.
import { PromApiClient } from '../promql/client.ts';
import { metricSum, parseMetrics } from '../promql/metrics.ts';
import { greaterOrEqual, waitSumMetrics } from '../promql/wait-metrics.ts';
import type { RunningTopology } from '../substrates/index.ts';
import { waitForLiveUpTo } from './live.ts';

export interface RemoteWriteCounters {
  /** Samples in every send attempt, retries included (prometheus_remote_storage_samples_total). */
  samplesTotal: number;
  /** Samples given up on: non-recoverable errors (HTTP 4xx) or retries exhausted. */
  samplesFailed: number;
  /** Samples of attempts that failed with a recoverable error (5xx, connection errors) and were sent again. */
  samplesRetried: number;
  /** Newest sample timestamp a send has finished for, whole seconds (queue_highest_sent_timestamp_seconds), in ms. */
  highestSentMs: number;
  /** Samples read from the WAL and not yet sent or given up on (prometheus_remote_storage_samples_pending). */
  samplesPending: number;
}

/** A Prometheus' remote-write counters, summed over its remote-write queues. */
export async function remoteWriteCounters(t: RunningTopology, prometheus: string): Promise<RemoteWriteCounters> {
  const text = await new PromApiClient(t.url(prometheus)).metrics();
  const sum = (name: string) => metricSum(text, `prometheus_remote_storage_${name}`) ?? 0;
  return {
    samplesTotal: sum('samples_total'),
    samplesFailed: sum('samples_failed_total'),
    samplesRetried: sum('samples_retried_total'),
    highestSentMs: sum('queue_highest_sent_timestamp_seconds') * 1000,
    samplesPending: sum('samples_pending'),
  };
}

/**
 * Waits until every Prometheus has finished sending a sample stamped untilMs or later (its queue's
 * highest sent timestamp, whole seconds). Each shard sends in timestamp order per series, so what
 * that shard held before was sent before. A precondition for asking a Receive about untilMs, not
 * an assertion: the counters say whether the sends succeeded.
 */
export async function waitForRemoteWriteUpTo(
  t: RunningTopology,
  prometheus: string[],
  untilMs: number,
  onProgress?: (l: string) => void,
  timeoutMs = 180_000,
): Promise<void> {
  await Promise.all(
    prometheus.map((id) =>
      waitSumMetrics(id, t.url(id), greaterOrEqual(untilMs / 1000), 'prometheus_remote_storage_queue_highest_sent_timestamp_seconds', { timeoutMs, onProgress }),
    ),
  );
}

/**
 * Waits until every Prometheus has scraped the workload slot slotMs (scrapedAtMs: every sample up to
 * it was appended by then) and then remote-written a sample stamped at least marginMs after that.
 * Everything a Prometheus appended before scrapedAtMs is stamped before it (a workload slot is at
 * most the current one; `up` and scrape_* carry their scrape's start), so that sample was appended
 * after the slot's scrape. One shard sends in append order: every sample up to the slot has then
 * been sent (sentAtMs). Several shards send in parallel: marginMs is how far one may lag another.
 */
export async function waitForRemoteWriteOfSlot(
  t: RunningTopology,
  prometheus: string[],
  slotMs: number,
  opts: { marginMs?: number; timeoutMs?: number; onProgress?: (l: string) => void } = {},
): Promise<{ scrapedAtMs: number; sentAtMs: number }> {
  await waitForLiveUpTo(t, prometheus, slotMs, opts.onProgress);
  const scrapedAtMs = Date.now();
  await waitForRemoteWriteUpTo(t, prometheus, scrapedAtMs + (opts.marginMs ?? 0), opts.onProgress, opts.timeoutMs);
  return { scrapedAtMs, sentAtMs: Date.now() };
}

export interface ReceiveCounters {
  /** Remote-write requests of the tenant answered, by HTTP status code (thanos_receive_write_samples_count). */
  requestsByCode: Record<string, number>;
  /** Samples in those requests, by status code (thanos_receive_write_samples_sum). */
  samplesByCode: Record<string, number>;
  /** Requests forwarded to a hashring member (itself included), by result. */
  forwardSuccess: number;
  forwardError: number;
  /** Replications of a write it received first-hand (success = quorum reached), by result. */
  replicationSuccess: number;
  replicationError: number;
  /** Newest sample in its default tenant's head (ms); undefined before its first write. */
  headMaxTimeMs: number | undefined;
}

export async function receiveCounters(t: RunningTopology, receive: string, tenant: string): Promise<ReceiveCounters> {
  const text = await new PromApiClient(t.url(receive)).metrics();
  const samples = parseMetrics(text);
  const byCode = (name: string) => {
    const out: Record<string, number> = {};
    for (const s of samples) if (s.name === name && s.labels.tenant === tenant) out[s.labels.code!] = (out[s.labels.code!] ?? 0) + s.value;
    return out;
  };
  const headMax = metricSum(text, 'prometheus_tsdb_head_max_time', { tenant });
  return {
    requestsByCode: byCode('thanos_receive_write_samples_count'),
    samplesByCode: byCode('thanos_receive_write_samples_sum'),
    forwardSuccess: metricSum(text, 'thanos_receive_forward_requests_total', { result: 'success' }) ?? 0,
    forwardError: metricSum(text, 'thanos_receive_forward_requests_total', { result: 'error' }) ?? 0,
    replicationSuccess: metricSum(text, 'thanos_receive_replications_total', { result: 'success' }) ?? 0,
    replicationError: metricSum(text, 'thanos_receive_replications_total', { result: 'error' }) ?? 0,
    // An empty head reports math.MinInt64.
    headMaxTimeMs: headMax !== undefined && headMax > 0 ? headMax : undefined,
  };
}
