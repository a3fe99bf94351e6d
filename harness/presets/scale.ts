// The scale sweep's topology (issue 18, harness/scale/): the note's three architectures' costs in one
// run. Arch 2's side-by-side shape: the observee's HA pair ships blocks through its sidecars (Arch 1)
// and remote-writes to a Receive (what Arch 3's agent sends it too), read by a Query over Store and
// the sidecars and one over Store and Receive, each behind a Query Frontend; and a Compactor over the
// prefix, started only once the blocks are in, for the bytes after vertical deduplication.
// Unlike arch2(), everything runs at Prometheus' defaults where they cost something at scale: one
// scrape per 15s slot (not a 1s re-scrape of 100k series) and the default remote-write queue.
import { validateTopology, type Topology } from '../topology/model.ts';
import { OBSERVEE, OBSERVER, TEST_SIDECAR_REFRESH, TEST_STORE_SYNC, ALL_REPLICA_LABELS } from './conventions.ts';
import { ARCH2_SIDE_BY_SIDE } from './arch2.ts';
import { handle, queryPathHandle } from './handles.ts';

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
    // The sweep times answers cold and cached: the frontend needs its results cache (in memory, max
    // freshness 1m). One split query at a time: at Thanos' 14, the 6h aggregate's seven 1h parts
    // reached Query, Store and Receive at once, and at 100k series they held 6.0, 4.0 and 5.2 GiB
    // (the machine came to 0.8 GiB available), while the same 6h query sent to Query whole, one at
    // a time, ran through the load.
    { kind: 'query-frontend' as const, name: `${name}-frontend`, cluster: OBSERVER, downstream: `${OBSERVER}/${name}`, resultsCache: {}, maxQueryParallelism: 1 },
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

/** The handles of scaleSweep() (or of it with another series count): what the sweep's steps take. */
export function scaleSweepHandles(topology: Topology) {
  return {
    prometheus: handle(topology, 'prometheus', `${OBSERVEE}/prometheus`),
    sidecar: handle(topology, 'sidecar', `${OBSERVEE}/sidecar`),
    store: handle(topology, 'store', `${OBSERVER}/store`),
    receive: handle(topology, 'receive', SCALE_SWEEP.receive),
    compactor: handle(topology, 'compactor', SCALE_SWEEP.compactor),
    prefix: OBSERVEE,
    paths: {
      viaSidecar: queryPathHandle(topology, `${OBSERVER}/${SCALE_SWEEP.viaSidecar}`),
      viaReceive: queryPathHandle(topology, `${OBSERVER}/${SCALE_SWEEP.viaReceive}`),
    },
  };
}
