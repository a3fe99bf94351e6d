// Getting an Arch 2 topology (sidecar + remote write) into the state findings D and F assert on,
// and taking its observee down.
import { greaterOrEqual, waitForStores, waitSumMetrics } from '../promql/wait-metrics.ts';
import type { BlockMeta } from '../s3/bucket.ts';
import type { RunningTopology } from '../substrates/index.ts';
import { postWriteRequest, WorkloadWriter } from '../workload/remote-write.ts';
import { populateWorkload, waitForHistoryShipped, type PopulatedWorkload, type PopulateOptions } from './history.ts';
import type { Handle, QueryPathHandle } from '../presets/handles.ts';
import { queryPathOf, type QueryPath } from './arch1.ts';
import { waitForRemoteWriteOfSlot } from './remote-write.ts';

/** What prepareArch2 needs of a preset: the HA pair, its sidecars, Store, the Receive it writes to, and the query paths. */
export interface Arch2Shape<P extends string = string> {
  prometheus: Handle<'prometheus'>;
  sidecar: Handle<'sidecar'>;
  store: Handle<'store'>;
  receive: Handle<'receive'>;
  prefix: string;
  paths: Partial<Record<P, QueryPathHandle>>;
}
/** How many grid slots of live data the settled slot is past the first live one. */
const LIVE_SLOTS = 2;

export interface Arch2Run<P extends string = string> {
  t: RunningTopology;
  shape: Arch2Shape<P>;
  paths: Record<P, QueryPath>;
  /** The observee's Prometheus instances (the HA pair). */
  prometheus: string[];
  /** History written before going live. */
  history: PopulatedWorkload;
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
export function historyForReceive(t: RunningTopology, receive: Handle<'receive'>, prometheus: readonly string[]): NonNullable<PopulateOptions['alsoWrite']> {
  const url = `${t.url(receive.ref, 'remote-write')}/api/v1/receive`;
  // One copy of every series per replica, under that replica's external labels; each time slice of
  // every copy before the next slice (WorkloadWriter): Receive's head refuses samples older than
  // its max time less half a block, across series.
  const writer = new WorkloadWriter(
    t.workload.workload,
    prometheus.map((id) => t.plan.processes.find((p) => p.id === id)!.externalLabels),
  );
  return {
    copies: prometheus.length,
    write: async (fromMs, toMs, wrote) => {
      for (const request of writer.requests(fromMs, toMs)) {
        await postWriteRequest(url, request.body);
        wrote(request.samples);
      }
    },
  };
}

/**
 * 6h of history into each Prometheus and the same history into Receive as remote write would
 * have sent it; then live until a slot LIVE_SLOTS after the first live one that every Prometheus
 * has stored and remote-written, and every Query knows all its endpoints, each sidecar and
 * receive with data from the first live slot. The sidecars may still be shipping the history's
 * last blocks (stopObservee waits for them).
 */
export async function prepareArch2<P extends string>(t: RunningTopology, shape: Arch2Shape<P>, log: (l: string) => void): Promise<Arch2Run<P>> {
  const step = t.workload.workload.stepMs;
  const prometheus = [...shape.prometheus.instances];
  const history = await populateWorkload(t, { onProgress: log, alsoWrite: historyForReceive(t, shape.receive, prometheus), returnBeforeShipped: true });
  // historyToMs is aligned down from a moment after Prometheus started: the next slot is newer than
  // its start, so its remote write sends it (it skips older samples).
  const liveFromMs = history.historyToMs + step;
  const settledMs = liveFromMs + LIVE_SLOTS * step;
  await waitForRemoteWriteOfSlot(t, prometheus, settledMs, { onProgress: log });
  const paths = Object.fromEntries(Object.entries<QueryPathHandle | undefined>(shape.paths).map(([name, h]) => [name, queryPathOf(t, h!)])) as Record<P, QueryPath>;
  await Promise.all(Object.values<QueryPath>(paths).map((p) => waitForStores(p.ref, p.query, { count: p.endpoints, covering: liveFromMs }, { onProgress: log })));
  return { t, shape, paths, prometheus, history, liveFromMs, settledMs, stepMs: step };
}

/**
 * Once the sidecars have shipped the history, takes the whole observee down (every Prometheus and
 * sidecar, SIGTERM) and waits until every Query has failed to reach each sidecar (an endpoint
 * whose last check failed is not asked), Store has loaded the bucket (final now that no sidecar
 * ships) and every Query has checked Store since. Returns what was stopped and the bucket's blocks.
 */
export async function stopObservee(run: Arch2Run, log: (l: string) => void): Promise<{ stopped: string[]; blocks: BlockMeta[] }> {
  const { t, paths, shape } = run;
  await waitForHistoryShipped(t, run.history, log);
  const stopped = [...shape.prometheus.instances, ...shape.sidecar.instances];
  await Promise.all(stopped.map((id) => t.stop(id)));
  log(`  stopped ${stopped.join(', ')}`);
  const sidecars = shape.sidecar.instances.length;
  const stores = shape.store.instances.length;
  const blocks = await t.bucket.blocks(shape.prefix);
  // At least: a Receive that keeps running may upload more.
  await waitSumMetrics(shape.store.ref, t.url(shape.store.ref), greaterOrEqual(blocks.length), 'thanos_bucket_store_blocks_loaded', { onProgress: log });
  const loadedAt = Date.now();
  await Promise.all(
    Object.values<QueryPath>(paths).map(async (p) => {
      if (p.dials.includes(shape.sidecar.ref)) await waitForStores(p.ref, p.query, { type: 'sidecar', count: sidecars, failing: true }, { onProgress: log });
      await waitForStores(p.ref, p.query, { type: 'store', count: stores, checkedAfter: loadedAt }, { onProgress: log });
    }),
  );
  return { stopped, blocks };
}
