// Time-partitioned Stores (FINDINGS.md G, thanos-io/thanos #1077, #4478): several Stores over one
// bucket prefix, each serving a slice of time (--min-time/--max-time), and a Query per way of
// slicing. One bring-up holds the split without a hole (fixed), the split with a hole (faulty)
// and the unsplit Store they are compared with.
import { PROMETHEUS_REPLICA_LABEL } from '../plan/context.ts';
import { durationMs } from '../time.ts';
import { validateTopology, type Topology } from '../topology/model.ts';
import { NOTE_CLUSTERS, OBSERVEE, OBSERVER, TEST_STORE_SYNC } from './conventions.ts';
import { handle, type Handle } from './handles.ts';

const BLOCK_DURATION = '2h';

/** The Stores of each way of slicing, by role, and the Query that reads them. */
const SLICES = {
  /** Unbounded: the whole bucket. */
  unsplit: { query: 'query-unsplit', stores: ['store'] },
  /** Fixed: "store-before" up to the boundary, "store-after" from it. */
  split: { query: 'query-split', stores: ['store-before', 'store-after'] },
  /** Faulty: "store-before" again, and a Store that starts PARTITION_GAP after the boundary. */
  gap: { query: 'query-gap', stores: ['store-before', 'store-after-gap'] },
  /** Faulty: the same hole, below it a Store that ends a millisecond before the boundary. */
  wholeGap: { query: 'query-whole-gap', stores: ['store-before-edge', 'store-after-gap'] },
} as const;
export type Slicing = keyof typeof SLICES;
export const SLICINGS = Object.keys(SLICES) as Slicing[];

/** How far after the boundary the faulty split's second Store starts. */
export const PARTITION_GAP = '1h';

/**
 * The block boundary the Stores split at, for a history written from about nowMs on: one block
 * before the end of the newest block in the bucket. Prometheus cuts its head once it spans more
 * than 1.5 blocks, at block boundaries, so the newest cut block ends at the first boundary at or
 * after now - 1.5 blocks (1-3h before now with 2h blocks); the boundary one block earlier (3-5h
 * before now) has a whole shipped block after it. It is more than an hour younger than the
 * history's start (6h10m before now), so a shipped block ends at it too. Later cuts (the live
 * scrape, a bring-up that takes minutes) only add newer blocks: it stays between two blocks in
 * the bucket for the whole run.
 */
export function partitionBoundary(nowMs: number, blockMs: number): number {
  const newestBlockEnd = Math.ceil((nowMs - 1.5 * blockMs) / blockMs) * blockMs;
  return newestBlockEnd - blockMs;
}

const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');

export interface StorePartitionsPreset {
  topology: Topology;
  /** The observee's HA pair and its sidecars, which ship the blocks (no Query reads the sidecars). */
  prometheus: Handle<'prometheus'>;
  sidecar: Handle<'sidecar'>;
  prefix: string;
  /** Every Store, by the role its bounds give it. */
  stores: { unbounded: Handle<'store'>; before: Handle<'store'>; after: Handle<'store'>; afterGap: Handle<'store'>; beforeEdge: Handle<'store'> };
  /** Each way of slicing: its Query and the Stores it reads, in order (lower, upper). */
  slicings: Record<Slicing, { query: Handle<'query'>; stores: Handle<'store'>[] }>;
}

/**
 * The observee's HA pair ships real 2h blocks through its sidecars; the observer runs five Stores
 * over the one prefix and four Queries:
 * - unsplit: one unbounded Store;
 * - split (fixed): --max-time=B and --min-time=B at a block boundary B;
 * - gap (faulty): --max-time=B and --min-time=B+1h, a hole of an hour;
 * - wholeGap (faulty): the same hole under --max-time=B-1ms.
 * The bounds are absolute RFC 3339 times, computed from nowMs when the topology is built.
 */
export function storePartitions(nowMs: number = Date.now()): StorePartitionsPreset {
  const boundary = partitionBoundary(nowMs, durationMs(BLOCK_DURATION));
  const store = (name: string, bounds: { minTime?: string; maxTime?: string }) => ({
    kind: 'store' as const,
    name,
    cluster: OBSERVER,
    bucketPrefix: OBSERVEE,
    syncInterval: TEST_STORE_SYNC,
    ...bounds,
  });
  const query = (role: Slicing) => ({
    kind: 'query' as const,
    name: SLICES[role].query,
    cluster: OBSERVER,
    endpoints: SLICES[role].stores.map((s) => `${OBSERVER}/${s}`),
    replicaLabels: [PROMETHEUS_REPLICA_LABEL],
  });
  const topology = validateTopology({
    name: 'store-partitions',
    description: `Time-partitioned Stores over one bucket: split at ${rfc3339(boundary)} (fixed), with a ${PARTITION_GAP} hole after it (faulty), and unsplit`,
    clusters: NOTE_CLUSTERS,
    components: [
      // Three scrapes per 15s slot, as in Arch 1: the live scrape keeps up after the backfill.
      { kind: 'prometheus', name: 'prometheus', cluster: OBSERVEE, replicas: 2, scrapeInterval: '5s', blockDuration: BLOCK_DURATION },
      { kind: 'sidecar', name: 'sidecar', cluster: OBSERVEE, prometheus: 'prometheus' },
      store('store', {}),
      store('store-before', { maxTime: rfc3339(boundary) }),
      store('store-after', { minTime: rfc3339(boundary) }),
      store('store-after-gap', { minTime: rfc3339(boundary + durationMs(PARTITION_GAP)) }),
      store('store-before-edge', { maxTime: rfc3339(boundary - 1) }),
      ...SLICINGS.map(query),
    ],
  });
  const s = (name: string) => handle(topology, 'store', `${OBSERVER}/${name}`);
  return {
    topology,
    prometheus: handle(topology, 'prometheus', `${OBSERVEE}/prometheus`),
    sidecar: handle(topology, 'sidecar', `${OBSERVEE}/sidecar`),
    prefix: OBSERVEE,
    stores: { unbounded: s('store'), before: s('store-before'), after: s('store-after'), afterGap: s('store-after-gap'), beforeEdge: s('store-before-edge') },
    slicings: Object.fromEntries(SLICINGS.map((role) => [role, { query: handle(topology, 'query', `${OBSERVER}/${SLICES[role].query}`), stores: SLICES[role].stores.map(s) }])) as StorePartitionsPreset['slicings'],
  };
}
