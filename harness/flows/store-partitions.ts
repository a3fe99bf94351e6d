// Time-partitioned Stores: what a Store bounded by --min-time/--max-time loads, advertises and
// serves (a model of Thanos v0.42.4, checked against its source), and getting the
// store-partitions topology into the state its scenario asserts on.
//
// Thanos Store, for bounds [min, max] (inclusive; defaults 0000-01-01 and 9999-12-31):
// - loads every block that overlaps them, comparing with the block's exclusive maxTime inclusively
//   (block.TimePartitionMetaFilter: maxTime >= min && minTime <= max), so a Store ending at a block
//   boundary B also loads the block that starts at B, and one starting at B the block ending at B;
// - advertises (Info API, Query's Stores page) the loaded blocks' range clipped to the bounds
//   (BucketStore.TimeRange with limitMinTime/limitMaxTime);
// - answers Series for the request range clipped to the bounds, but with whole chunks: every
//   chunk whose [first, last] sample overlaps the clipped range, untrimmed (decodeSeriesForTime).
//   So it serves samples up to the end of the chunk that holds (or starts at) its maxTime, and
//   from the start of the chunk that holds its minTime; Query's PromQL uses them all.
import { advertisedRange, blocksLoaded, boundsOf, type StoreBounds } from '../models/store-partitions.ts';
import { queryEndpointAddresses } from '../plan/query.ts';
import { PromApiClient } from '../promql/client.ts';
import { equals, waitForStores, waitSumMetrics } from '../promql/wait-metrics.ts';
import type { BlockMeta } from '../s3/bucket.ts';
import type { RunningTopology } from '../substrates/index.ts';
import { durationMs } from '../time.ts';
import { refOf, type Prometheus, type Store } from '../topology/model.ts';
import { gridChunks } from '../models/chunks.ts';
import { populateWorkload, type PopulatedWorkload } from '../workload/populate.ts';
import { alignUp } from '../time.ts';
import { OBSERVEE, observeeReplicas } from './arch1.ts';

/** Query's Stores page names an endpoint by the address it dials: which component each address is, from the Query's plan. */
export function endpointComponents(t: RunningTopology, query: string): Record<string, string> {
  const plan = t.plan.processes.find((p) => p.id === query);
  const spec = t.topology.components.find((c) => refOf(c) === query);
  if (!plan || spec?.kind !== 'query') throw new Error(`${query} is not a Query of topology ${t.topology.name}`);
  const addresses = queryEndpointAddresses(plan);
  // One address per endpoint instance, in the order of the Query's endpoints (plan/query.ts); each Store has one instance.
  if (addresses.length !== spec.endpoints.length) throw new Error(`${query} dials ${addresses.length} addresses for ${spec.endpoints.length} endpoints: one instance each expected`);
  return Object.fromEntries(addresses.map((a, i) => [a, spec.endpoints[i]!]));
}

export interface PartitionedStore {
  ref: string;
  bounds: StoreBounds;
  /** What the model says it loads and advertises, from the bucket's blocks. */
  loaded: BlockMeta[];
  advertised: { minTime: number; maxTime: number };
}

export interface StorePartitionsRun {
  t: RunningTopology;
  workload: PopulatedWorkload;
  blocks: BlockMeta[];
  blockMs: number;
  stores: Record<string, PartitionedStore>;
  /** Each Query by name, with its endpoints' addresses mapped to Store refs. */
  queries: Record<string, { ref: string; client: PromApiClient; stores: string[]; addresses: Record<string, string> }>;
  /** The whole bucket on the workload grid: first sample of the oldest block to last of the newest. Ends before the head. */
  window: { start: number; end: number; step: number };
}

/**
 * History in and shipped by the HA pair's sidecars, every Store loaded exactly the blocks its bounds
 * select (its own thanos_bucket_store_blocks_loaded), every Query's Stores page checked since.
 */
export async function prepareStorePartitions(t: RunningTopology, log: (line: string) => void): Promise<StorePartitionsRun> {
  const workload = await populateWorkload(t, { onProgress: log });
  const replicas = observeeReplicas(t);
  const blocks = await t.bucket.blocks(OBSERVEE);
  if (blocks.length !== replicas.length * workload.blocks.length) {
    throw new Error(`expected ${replicas.length * workload.blocks.length} blocks in the bucket (every replica ships every block it cut), found ${blocks.length}`);
  }
  const prometheus = t.topology.components.find((c): c is Prometheus => c.kind === 'prometheus' && c.cluster === OBSERVEE)!;
  const blockMs = durationMs(prometheus.blockDuration);

  const stores: Record<string, PartitionedStore> = {};
  for (const c of t.topology.components) {
    if (c.kind !== 'store') continue;
    const bounds = boundsOf(c);
    const loaded = blocksLoaded(bounds, blocks);
    stores[refOf(c)] = { ref: refOf(c), bounds, loaded, advertised: advertisedRange(bounds, loaded) };
  }
  await Promise.all(
    Object.values(stores).map((s) => waitSumMetrics(s.ref, t.url(s.ref), equals(s.loaded.length), 'thanos_bucket_store_blocks_loaded', { onProgress: log })),
  );
  const loadedAt = Date.now();

  const queries: StorePartitionsRun['queries'] = {};
  for (const c of t.topology.components) {
    if (c.kind !== 'query') continue;
    const ref = refOf(c);
    queries[c.name] = { ref, client: new PromApiClient(t.url(ref)), stores: c.endpoints, addresses: endpointComponents(t, ref) };
  }
  // Query refreshes endpoint metadata every few seconds: a check made after every Store loaded its blocks.
  await Promise.all(
    Object.entries(queries).map(([name, q]) => waitForStores(name, q.client, { type: 'store', count: q.stores.length, checkedAfter: loadedAt }, { onProgress: log })),
  );

  const step = t.workload.workload.stepMs;
  const window = { start: alignUp(Math.min(...blocks.map((b) => b.minTime)), step), end: Math.max(...blocks.map((b) => b.maxTime)) - step, step };
  return { t, workload, blocks, blockMs, stores, queries, window };
}
