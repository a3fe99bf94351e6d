// The scale sweep's topology (issue 18, harness/scale/): the note's three architectures' costs in one
// run. Arch 2's side-by-side shape: the observee's HA pair ships blocks through its sidecars (Arch 1)
// and remote-writes to a Receive (what Arch 3's agent sends it too), read by a Query over Store and
// the sidecars and one over Store and Receive, each behind a Query Frontend; and a Compactor over the
// prefix, started only once the blocks are in, for the bytes after vertical deduplication.
// Unlike arch2(), everything runs at Prometheus' defaults where they cost something at scale: one
// scrape per 15s slot (not a 1s re-scrape of 100k series) and the default remote-write queue.
import { validateTopology, type Topology } from './model.ts';
import { OBSERVEE, OBSERVER, TEST_SIDECAR_REFRESH, TEST_STORE_SYNC } from './preset-defaults.ts';
import { ALL_REPLICA_LABELS, ARCH2_SIDE_BY_SIDE } from './presets.ts';

/** The Queries (each with a Query Frontend named `${query}-frontend`) and the Compactor of scaleSweep(). */
export const SCALE_SWEEP = {
  viaSidecar: ARCH2_SIDE_BY_SIDE.storeAndSidecar,
  viaReceive: ARCH2_SIDE_BY_SIDE.storeAndReceive,
  compactor: `${OBSERVER}/compactor`,
  receive: `${OBSERVER}/receive`,
} as const;

export function scaleSweep(): Topology {
  const store = `${OBSERVER}/store`;
  const path = (name: string, endpoints: string[]) => [
    { kind: 'query' as const, name, cluster: OBSERVER, endpoints, replicaLabels: ALL_REPLICA_LABELS },
    // The sweep times answers cold and cached: the frontend needs its results cache (in memory, max freshness 1m).
    { kind: 'query-frontend' as const, name: `${name}-frontend`, cluster: OBSERVER, downstream: `${OBSERVER}/${name}`, resultsCache: {} },
  ];
  return validateTopology({
    name: 'scale-sweep',
    description: 'Arch 1, 2 and 3 costs at one series count: an HA pair with sidecars remote-writing to a Receive, a Query over Store and the sidecars, one over Store and Receive, a Compactor',
    clusters: [
      { name: OBSERVER, role: 'observer' },
      { name: OBSERVEE, role: 'observee' },
    ],
    workload: { shape: 'cluster' },
    components: [
      { kind: 'prometheus', name: 'prometheus', cluster: OBSERVEE, replicas: 2, remoteWrite: [SCALE_SWEEP.receive] },
      { kind: 'sidecar', name: 'sidecar', cluster: OBSERVEE, prometheus: 'prometheus', prometheusRefreshInterval: TEST_SIDECAR_REFRESH },
      { kind: 'store', name: 'store', cluster: OBSERVER, bucketPrefix: OBSERVEE, syncInterval: TEST_STORE_SYNC },
      { kind: 'receive', name: 'receive', cluster: OBSERVER, bucketPrefix: OBSERVEE },
      // Deduplicates the HA pair's blocks (prometheus_replica); Receive's blocks are a group of their own.
      { kind: 'compactor', name: 'compactor', cluster: OBSERVER, bucketPrefix: OBSERVEE, deduplicationReplicaLabels: ['prometheus_replica'], consistencyDelay: '0s', deleteDelay: '0s' },
      ...path(SCALE_SWEEP.viaSidecar, [store, `${OBSERVEE}/sidecar`]),
      ...path(SCALE_SWEEP.viaReceive, [store, SCALE_SWEEP.receive]),
    ],
  });
}
