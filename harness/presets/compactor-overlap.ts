// The Compactor and an HA pair's blocks (FINDINGS.md F "Compactor reduces storage cost", G "Compactor
// halting on overlapping blocks", thanos-io/thanos #2161, #4778, #6815, #7197): vertical
// deduplication and the overlap halt side by side.
import { PROMETHEUS_REPLICA_LABEL } from '../plan/context.ts';
import { validateTopology, type Topology } from '../topology/model.ts';
import { OBSERVER, queryPath, TEST_STORE_SYNC } from './conventions.ts';
import { handle, queryPathHandle, type Handle, type QueryPathHandle } from './handles.ts';

// The harness starts a Compactor only once every block it is meant to see is uploaded in full
// (thanos_shipper_uploads_total, or its own upload), so the upstream 30m guard against half-uploaded
// blocks only delays the test: it would skip every block younger than that, i.e. all of them.
export const TEST_CONSISTENCY_DELAY = '0s';
// Upstream keeps a compacted-away block 48h, marked, for Stores still serving it: the bucket's bytes
// would not drop within a run. 0s deletes it in the same iteration, once its replacement is uploaded.
export const TEST_DELETE_DELAY = '0s';

/** One observee: an HA pair whose sidecars ship to the cluster's own prefix, and a Compactor there. */
export interface CompactedObservee {
  cluster: string;
  prefix: string;
  prometheus: Handle<'prometheus'>;
  compactor: Handle<'compactor'>;
  /**
   * A Query over the pair's sidecars, behind a frontend: where the pair is read live, as Arch 1's
   * fixed Query reads it (the shared label set shows on its Stores page; what `audit` reads).
   */
  sidecars: QueryPathHandle;
}

export interface CompactorOverlapPreset {
  topology: Topology;
  /** Faulty: the HA pair's replicas carry identical external labels; its Compactor halts. */
  sameLabels: CompactedObservee;
  /** Fixed: each replica carries prometheus_replica, which its Compactor deduplicates on. */
  replicaLabels: CompactedObservee;
  /** The observer's Store and Query (over Store only), which read the replica-labels prefix. */
  store: Handle<'store'>;
  query: Handle<'query'>;
  replicaLabel: string;
}

const sidecarsQuery = (cluster: string) => `query-${cluster}-sidecars`;

/**
 * Two observees, each an HA pair whose sidecars ship to its own prefix, with a Compactor there:
 * "same-labels" (prometheus-operator's replica label cleared) ships overlapping blocks of one label
 * set, and its Compactor halts; "replica-labels" ships one block set per replica, and its Compactor
 * merges them vertically on prometheus_replica. The observer's Store and Query read replica-labels;
 * a Query per pair (with a frontend) reads its sidecars.
 * The Compactor's default merge (--deduplication.func="", one sample per timestamp) is exact here:
 * both replicas store the same (t, v), the workload's explicit timestamps; a real pair scrapes at
 * different moments, which upstream's "penalty" merge is for.
 */
export function compactorOverlap(): CompactorOverlapPreset {
  const [sameLabels, replicaLabels] = ['same-labels', 'replica-labels'];
  const observee = (cluster: string, replicaExternalLabel: boolean, deduplicationReplicaLabels: string[]) => [
    { kind: 'prometheus' as const, name: 'prometheus', cluster, replicas: 2, replicaExternalLabel },
    { kind: 'sidecar' as const, name: 'sidecar', cluster, prometheus: 'prometheus' },
    { kind: 'compactor' as const, name: 'compactor', cluster, bucketPrefix: cluster, deduplicationReplicaLabels, consistencyDelay: TEST_CONSISTENCY_DELAY, deleteDelay: TEST_DELETE_DELAY },
  ];
  const topology = validateTopology({
    name: 'compactor-overlap',
    description: 'Two HA pairs, a Compactor each: identical external labels (it halts on overlapping blocks) and prometheus_replica deduplicated (it merges them)',
    clusters: [
      { name: OBSERVER, role: 'observer' },
      { name: sameLabels, role: 'observee' },
      { name: replicaLabels, role: 'observee' },
    ],
    components: [
      ...observee(sameLabels, false, []),
      ...observee(replicaLabels, true, [PROMETHEUS_REPLICA_LABEL]),
      { kind: 'store', name: 'store', cluster: OBSERVER, bucketPrefix: replicaLabels, syncInterval: TEST_STORE_SYNC },
      { kind: 'query', name: 'query', cluster: OBSERVER, endpoints: [`${OBSERVER}/store`], replicaLabels: [PROMETHEUS_REPLICA_LABEL] },
      ...[sameLabels, replicaLabels].flatMap((cluster) => queryPath(sidecarsQuery(cluster), [`${cluster}/sidecar`], [PROMETHEUS_REPLICA_LABEL])),
    ],
  });
  const compacted = (cluster: string): CompactedObservee => ({
    cluster,
    prefix: cluster,
    prometheus: handle(topology, 'prometheus', `${cluster}/prometheus`),
    compactor: handle(topology, 'compactor', `${cluster}/compactor`),
    sidecars: queryPathHandle(topology, `${OBSERVER}/${sidecarsQuery(cluster)}`),
  });
  return {
    topology,
    sameLabels: compacted(sameLabels),
    replicaLabels: compacted(replicaLabels),
    store: handle(topology, 'store', `${OBSERVER}/store`),
    query: handle(topology, 'query', `${OBSERVER}/query`),
    replicaLabel: PROMETHEUS_REPLICA_LABEL,
  };
}
