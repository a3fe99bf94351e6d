// Getting an Arch 2 topology (sidecar + remote write) into the state findings D and F assert on,
// and taking its observee down. The Arch 1 counterpart of F reuses stopObservee.
import { queryEndpointCount } from '../plan/index.ts';
import { PromApiClient, type StoreEndpoint } from '../promql/client.ts';
import { metricValue } from '../promql/metrics.ts';
import type { BlockMeta } from '../s3/bucket.ts';
import type { RunningTopology } from '../substrates/index.ts';
import { waitFor } from '../wait.ts';
import { remoteWrite, type WriteSeries } from '../workload/remote-write.ts';
import { goLive, populateWorkload, waitForLiveUpTo, type PopulatedWorkload } from '../workload/populate.ts';
import { alignDown, gridPoints, seriesLabels, valueAt } from '../workload/series.ts';
import { waitForRemoteWriteUpTo } from './remote-write.ts';

export const OBSERVEE = 'observee';
export const RECEIVE = 'observer/receive';
/** How much live data the settled time is at least past the first live slot. */
const LIVE_SPAN_MS = 60_000;

export interface Arch2Run {
  t: RunningTopology;
  frontend: PromApiClient;
  query: PromApiClient;
  /** The observee's Prometheus instances (the HA pair). */
  prometheus: string[];
  /** History written before going live; undefined when the topology went live without any. */
  history: PopulatedWorkload | undefined;
  /** First grid slot that every Prometheus both stored and remote-wrote to Receive. */
  liveFromMs: number;
  /** A grid slot that every Prometheus has stored and remote-written: answers up to it are settled. */
  settledMs: number;
  stepMs: number;
}

/**
 * Emulates the history a Prometheus replica's remote write would have sent Receive had it been
 * running all along: the same samples, labelled with the series' labels plus that replica's
 * external labels, and no THANOS-TENANT header (Receive applies its default tenant, as it does
 * to Prometheus' own writes). Needed because Prometheus' remote write only forwards samples newer
 * than its own start, so a backfilled history reaches its TSDB and blocks but never Receive.
 */
export function historyForReceive(t: RunningTopology, receive: string, prometheus: string[]): (fromMs: number, toMs: number) => Promise<void> {
  const w = t.workload.workload;
  const url = `${t.url(receive, 'remote-write')}/api/v1/receive`;
  const externalLabels = prometheus.map((id) => t.plan.processes.find((p) => p.id === id)!.externalLabels);
  const pointsPerRequest = Math.floor(10_000 / (w.seriesCount * prometheus.length));
  return async (fromMs, toMs) => {
    const points = gridPoints(fromMs, toMs, w.stepMs);
    // In time order: Receive's TSDB rejects samples older than a series' newest one.
    for (let start = 0; start < points.length; start += pointsPerRequest) {
      const slice = points.slice(start, start + pointsPerRequest);
      const series: WriteSeries[] = externalLabels.flatMap((external) =>
        Array.from({ length: w.seriesCount }, (_, i) => ({
          labels: { ...seriesLabels(w, i), ...external },
          samples: slice.map((t) => ({ t, v: valueAt(i, t) })),
        })),
      );
      await remoteWrite(url, series);
    }
  };
}

/** The bucket's blocks under the observee's prefix, once Store has loaded every one of them. */
export async function waitForStoreToLoadBucket(t: RunningTopology, log: (l: string) => void): Promise<{ blocks: BlockMeta[]; loadedAt: number }> {
  const blocks = await t.bucket.blocks(OBSERVEE);
  await waitFor(
    `Store to load the ${blocks.length} blocks in the bucket`,
    async (note) => {
      const loaded = metricValue(await new PromApiClient(t.url('observer/store')).metrics(), 'thanos_bucket_store_blocks_loaded') ?? 0;
      note(`${loaded} loaded`);
      return loaded >= blocks.length ? loaded : undefined;
    },
    { timeoutMs: 180_000, intervalMs: 1_000, onProgress: log },
  );
  return { blocks, loadedAt: Date.now() };
}

/**
 * Waits until Query has checked each of its endpoints since `sinceMs` without error, and every
 * sidecar and receive advertises data from coverFromMs on. Query skips an endpoint whose
 * advertised range does not overlap a query, so this must hold before the answer is judged.
 */
export async function waitForQueryEndpoints(
  query: PromApiClient,
  expected: number,
  sinceMs: number,
  coverFromMs: number,
  log: (l: string) => void,
): Promise<Record<string, StoreEndpoint[]>> {
  return await waitFor(
    `Query to have checked its ${expected} endpoints with data from ${new Date(coverFromMs).toISOString()}`,
    async (note) => {
      const stores = await query.stores();
      const all = Object.values(stores).flat();
      const covering = (e: StoreEndpoint) => typeof e.minTime === 'number' && e.minTime <= coverFromMs;
      const fresh = all.filter((e) => e.lastError === null && (e.lastCheck ?? 0) > sinceMs);
      const notCovering = [...(stores.sidecar ?? []), ...(stores.receive ?? [])].filter((e) => !covering(e));
      note(`${all.length} endpoints, ${fresh.length} checked since, ${notCovering.length} sidecar/receive without data from the start`);
      return all.length === expected && fresh.length === expected && notCovering.length === 0 ? stores : undefined;
    },
    { timeoutMs: 180_000, intervalMs: 1_000, onProgress: log },
  );
}

/**
 * History (with `history`: 6h into each Prometheus, shipped by the sidecars, and the same history
 * into Receive as remote write would have sent it) or none, then live until a settled slot
 * LIVE_SPAN_MS after the first live one that every Prometheus has stored and remote-written,
 * and Query knows every endpoint with current time ranges.
 */
export async function prepareArch2(t: RunningTopology, opts: { history: boolean; log: (l: string) => void }): Promise<Arch2Run> {
  const { log } = opts;
  const step = t.workload.workload.stepMs;
  const prometheus = t.plan.processes.filter((p) => p.kind === 'prometheus' && p.cluster === OBSERVEE).map((p) => p.id);
  let history: PopulatedWorkload | undefined;
  let liveFromMs: number;
  if (opts.history) {
    history = await populateWorkload(t, { onProgress: log, alsoWrite: historyForReceive(t, RECEIVE, prometheus) });
    // historyToMs is aligned down from a moment after Prometheus started: the next slot is newer than its start.
    liveFromMs = history.historyToMs + step;
  } else {
    // The armed slot is aligned down from now and can predate Prometheus' start by a few seconds
    // (bring-up is quick), in which case its remote write skips it. The next slot cannot.
    liveFromMs = goLive(t).liveFromMs + step;
  }

  const settledMs = alignDown(Math.max(Date.now() - 30_000, liveFromMs + LIVE_SPAN_MS), step);
  await waitForLiveUpTo(t, prometheus, settledMs, log);
  await waitForRemoteWriteUpTo(t, prometheus, settledMs, log);
  const sinceMs = opts.history ? (await waitForStoreToLoadBucket(t, log)).loadedAt : Date.now();
  const query = new PromApiClient(t.url('observer/query'));
  await waitForQueryEndpoints(query, queryEndpointCount(t.topology, 'observer/query'), sinceMs, liveFromMs, log);
  return { t, frontend: new PromApiClient(t.url('observer/query-frontend')), query, prometheus, history, liveFromMs, settledMs, stepMs: step };
}

/** Waits until Query's last check of every endpoint of a type ('store', 'receive', ...) succeeded after sinceMs. */
export async function waitForQueryToCheck(query: PromApiClient, type: string, sinceMs: number, log: (l: string) => void): Promise<StoreEndpoint[]> {
  return await waitFor(
    `Query to check its ${type} endpoints again`,
    async () => {
      const endpoints = (await query.stores())[type] ?? [];
      return endpoints.length > 0 && endpoints.every((e) => e.lastError === null && (e.lastCheck ?? 0) > sinceMs) ? endpoints : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 500, onProgress: log },
  );
}

/**
 * Takes the whole observee down (every Prometheus and sidecar, SIGTERM) and waits until Query has
 * failed to reach each sidecar, so it no longer asks them (an endpoint whose last check failed is
 * not queried). Returns when that is so.
 */
export async function stopObservee(t: RunningTopology, query: PromApiClient, log: (l: string) => void): Promise<{ stopped: string[]; stoppedAt: number }> {
  const stopped = t.plan.processes.filter((p) => p.cluster === OBSERVEE).map((p) => p.id);
  await Promise.all(stopped.map((id) => t.stop(id)));
  const stoppedAt = Date.now();
  log(`  stopped ${stopped.join(', ')}`);
  await waitFor(
    'Query to mark every sidecar unreachable',
    async (note) => {
      const sidecars = (await query.stores()).sidecar ?? [];
      const failed = sidecars.filter((s) => s.lastError !== null);
      note(`${failed.length} of ${sidecars.length} sidecars failing`);
      return sidecars.length > 0 && failed.length === sidecars.length ? sidecars : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 500, onProgress: log },
  );
  return { stopped, stoppedAt };
}
