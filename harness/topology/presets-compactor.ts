// The Compactor (FINDINGS.md F "Compactor reduces storage cost", G "Compactor halting on overlapping
// blocks", thanos-io/thanos #2161, #4778, #6815, #7197): vertical deduplication of an HA pair's
// blocks and the overlap halt side by side, and downsampling of two days of history.
import { validateTopology, type Topology } from './model.ts';
import { OBSERVER, TEST_STORE_SYNC } from './preset-defaults.ts';

// prometheus-operator's replica label (plan/context.ts PROMETHEUS_REPLICA_LABEL).
const REPLICA_LABEL = 'prometheus_replica';

// The harness starts a Compactor only once every block it is meant to see is uploaded in full
// (thanos_shipper_uploads_total, or its own upload), so the upstream 30m guard against half-uploaded
// blocks only delays the test: it would skip every block younger than that, i.e. all of them.
const TEST_CONSISTENCY_DELAY = '0s';
// Upstream keeps a compacted-away block 48h, marked, for Stores still serving it: the bucket's bytes
// would not drop within a run. 0s deletes it in the same iteration, once its replacement is uploaded.
const TEST_DELETE_DELAY = '0s';

/** Clusters, components and the bucket prefix of compactorOverlap(). */
export const COMPACTOR_OVERLAP = {
  /** Faulty: the HA pair's replicas carry identical external labels; its Compactor halts. */
  sameLabels: 'same-labels',
  /** Fixed: each replica carries prometheus_replica, which its Compactor deduplicates on. */
  replicaLabels: 'replica-labels',
  compactor: 'compactor',
  /** Store and Query (over Store only) read the replica-labels prefix. */
  store: `${OBSERVER}/store`,
  query: `${OBSERVER}/query`,
} as const;

/**
 * Two observees, each an HA pair whose sidecars ship to its own prefix, with a Compactor there:
 * "same-labels" (prometheus-operator's replica label cleared) ships overlapping blocks of one label
 * set, and its Compactor halts; "replica-labels" ships one block set per replica, and its Compactor
 * merges them vertically on prometheus_replica. The observer's Store and Query read replica-labels.
 * The Compactor's default merge (--deduplication.func="", one sample per timestamp) is exact here:
 * both replicas store the same (t, v), the workload's explicit timestamps; a real pair scrapes at
 * different moments, which upstream's "penalty" merge is for.
 */
export function compactorOverlap(): Topology {
  const { sameLabels, replicaLabels, compactor } = COMPACTOR_OVERLAP;
  const observee = (cluster: string, replicaExternalLabel: boolean, deduplicationReplicaLabels: string[]) => [
    { kind: 'prometheus' as const, name: 'prometheus', cluster, replicas: 2, replicaExternalLabel },
    { kind: 'sidecar' as const, name: 'sidecar', cluster, prometheus: 'prometheus' },
    {
      kind: 'compactor' as const,
      name: compactor,
      cluster,
      bucketPrefix: cluster,
      deduplicationReplicaLabels,
      consistencyDelay: TEST_CONSISTENCY_DELAY,
      deleteDelay: TEST_DELETE_DELAY,
    },
  ];
  return validateTopology({
    name: 'compactor-overlap',
    description: 'Two HA pairs, a Compactor each: identical external labels (it halts on overlapping blocks) and prometheus_replica deduplicated (it merges them)',
    clusters: [
      { name: OBSERVER, role: 'observer' },
      { name: sameLabels, role: 'observee' },
      { name: replicaLabels, role: 'observee' },
    ],
    components: [
      ...observee(sameLabels, false, []),
      ...observee(replicaLabels, true, [REPLICA_LABEL]),
      { kind: 'store', name: 'store', cluster: OBSERVER, bucketPrefix: replicaLabels, syncInterval: TEST_STORE_SYNC },
      { kind: 'query', name: 'query', cluster: OBSERVER, endpoints: [COMPACTOR_OVERLAP.store], replicaLabels: [REPLICA_LABEL] },
    ],
  });
}

/** Components and the bucket prefix of compactorDownsampling(). */
export const COMPACTOR_DOWNSAMPLING = {
  /** The blocks are an observee's, uploaded by the harness under its prefix (no observee runs). */
  prefix: 'observee',
  compactor: `${OBSERVER}/compactor`,
  store: `${OBSERVER}/store`,
  query: `${OBSERVER}/query`,
} as const;

/** A Compactor, Store and Query over one prefix, where the harness uploads days of history made by promtool. */
export function compactorDownsampling(): Topology {
  const { prefix } = COMPACTOR_DOWNSAMPLING;
  return validateTopology({
    name: 'compactor-downsampling',
    description: 'A Compactor downsampling 2 days of promtool-made history to 5m, read through Store and Query',
    clusters: [{ name: OBSERVER, role: 'observer' }],
    components: [
      { kind: 'compactor', name: 'compactor', cluster: OBSERVER, bucketPrefix: prefix, consistencyDelay: TEST_CONSISTENCY_DELAY },
      { kind: 'store', name: 'store', cluster: OBSERVER, bucketPrefix: prefix, syncInterval: TEST_STORE_SYNC },
      { kind: 'query', name: 'query', cluster: OBSERVER, endpoints: [COMPACTOR_DOWNSAMPLING.store] },
    ],
  });
}
