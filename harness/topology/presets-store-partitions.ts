// Time-partitioned Stores (FINDINGS.md G, thanos-io/thanos #1077, #4478): several Stores over one
// bucket prefix, each serving a slice of time (--min-time/--max-time), and a Query per way of
// slicing. One bring-up holds the split without a hole (fixed), the split with a hole (faulty)
// and the unsplit Store they are compared with.
import { durationMs } from '../time.ts';
import { validateTopology, type Topology } from './model.ts';
import { OBSERVER, OBSERVEE, TEST_STORE_SYNC } from './preset-defaults.ts';

const BLOCK_DURATION = '2h';

/** The components of storePartitions(), by role. */
export const STORE_PARTITIONS = {
  /** Unbounded: the whole bucket. */
  unsplit: { query: 'query-unsplit', stores: ['store'] },
  /** Fixed: "store-before" up to the boundary, "store-after" from it. */
  split: { query: 'query-split', stores: ['store-before', 'store-after'] },
  /** Faulty: "store-before" again, and a Store that starts PARTITION_GAP after the boundary. */
  gap: { query: 'query-gap', stores: ['store-before', 'store-after-gap'] },
  /** Faulty: the same hole, below it a Store that ends a millisecond before the boundary. */
  wholeGap: { query: 'query-whole-gap', stores: ['store-before-edge', 'store-after-gap'] },
} as const;

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

/**
 * The observee's HA pair ships real 2h blocks through its sidecars (which no Query reads, so only
 * the Stores answer); the observer runs five Stores over the one prefix and four Queries:
 * - query-unsplit: one unbounded Store;
 * - query-split (fixed): --max-time=B and --min-time=B at a block boundary B;
 * - query-gap (faulty): --max-time=B and --min-time=B+1h, a hole of an hour;
 * - query-whole-gap (faulty): the same hole under --max-time=B-1ms.
 * The bounds are absolute RFC 3339 times, computed from nowMs when the topology is built.
 */
export function storePartitions(nowMs: number = Date.now()): Topology {
  const boundary = partitionBoundary(nowMs, durationMs(BLOCK_DURATION));
  const store = (name: string, bounds: { minTime?: string; maxTime?: string }) => ({
    kind: 'store' as const,
    name,
    cluster: OBSERVER,
    bucketPrefix: OBSERVEE,
    syncInterval: TEST_STORE_SYNC,
    ...bounds,
  });
  const query = (role: keyof typeof STORE_PARTITIONS) => ({
    kind: 'query' as const,
    name: STORE_PARTITIONS[role].query,
    cluster: OBSERVER,
    endpoints: STORE_PARTITIONS[role].stores.map((s) => `${OBSERVER}/${s}`),
    replicaLabels: ['prometheus_replica'],
  });
  return validateTopology({
    name: 'store-partitions',
    description: `Time-partitioned Stores over one bucket: split at ${rfc3339(boundary)} (fixed), with a ${PARTITION_GAP} hole after it (faulty), and unsplit`,
    clusters: [
      { name: OBSERVER, role: 'observer' },
      { name: OBSERVEE, role: 'observee' },
    ],
    components: [
      // Three scrapes per 15s slot, as in Arch 1: the live scrape keeps up after the backfill.
      { kind: 'prometheus', name: 'prometheus', cluster: OBSERVEE, replicas: 2, scrapeInterval: '5s', blockDuration: BLOCK_DURATION },
      { kind: 'sidecar', name: 'sidecar', cluster: OBSERVEE, prometheus: 'prometheus' },
      store('store', {}),
      store('store-before', { maxTime: rfc3339(boundary) }),
      store('store-after', { minTime: rfc3339(boundary) }),
      store('store-after-gap', { minTime: rfc3339(boundary + durationMs(PARTITION_GAP)) }),
      store('store-before-edge', { maxTime: rfc3339(boundary - 1) }),
      query('unsplit'),
      query('split'),
      query('gap'),
      query('wholeGap'),
    ],
  });
}
