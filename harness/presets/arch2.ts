// Arch 2 (sidecar + remote write), findings D and F: as Arch 1, and the observee's HA pair also
// remote-writes to a dedicated Receive in the observer, which uploads under the same prefix.
import { PROMETHEUS_REPLICA_LABEL } from '../plan/context.ts';
import { validateTopology, type Topology } from '../topology/model.ts';
import { ALL_REPLICA_LABELS, NOTE_CLUSTERS, NOTE_REPLICA_LABELS, OBSERVEE, OBSERVER, queryPath, TEST_SIDECAR_REFRESH, TEST_STORE_SYNC } from './conventions.ts';
import { handle, queryPathHandle, type Handle, type QueryPathHandle } from './handles.ts';

export const ARCH2_VARIANTS = ['note-replica-labels', 'all-replica-labels', 'side-by-side'] as const;
export type Arch2Variant = (typeof ARCH2_VARIANTS)[number];

/**
 * The Query of each query path in the side-by-side variant (a variant alone has one, "query").
 * storeAndSidecar is Arch 1's fixed path inside Arch 2 (no Receive), for finding F's comparison;
 * storeAndReceive reads without touching the observee (no sidecar), for F's query load.
 */
export const ARCH2_SIDE_BY_SIDE = {
  noteReplicaLabels: 'query-note-replica-labels',
  allReplicaLabels: 'query',
  storeAndSidecar: 'query-store-and-sidecar',
  storeAndReceive: 'query-store-and-receive',
} as const;
export type Arch2Path = keyof typeof ARCH2_SIDE_BY_SIDE;

export interface Arch2Preset {
  topology: Topology;
  /** The observee's HA pair, its sidecars, the observer's Store and the Receive the pair remote-writes to. */
  prometheus: Handle<'prometheus'>;
  sidecar: Handle<'sidecar'>;
  store: Handle<'store'>;
  receive: Handle<'receive'>;
  /** The bucket prefix the sidecars and Receive upload under. */
  prefix: string;
  replicaLabel: string;
  /** The query paths of the side-by-side variant (a single variant has only the path its replica labels name). */
  paths: Partial<Record<Arch2Path, QueryPathHandle>>;
}

/**
 * Query reads Store, Sidecars and Receive. "note-replica-labels" double-counts (finding D),
 * "all-replica-labels" not; "side-by-side" has both of those Queries, Arch 1's (Store and sidecars
 * only) and one over Store and Receive only (finding F).
 */
export function arch2(variant: Arch2Variant): Arch2Preset {
  const all = [`${OBSERVER}/store`, `${OBSERVEE}/sidecar`, `${OBSERVER}/receive`];
  const queryPaths = {
    'note-replica-labels': queryPath('query', all, NOTE_REPLICA_LABELS),
    'all-replica-labels': queryPath('query', all, ALL_REPLICA_LABELS),
    'side-by-side': [
      ...queryPath(ARCH2_SIDE_BY_SIDE.noteReplicaLabels, all, NOTE_REPLICA_LABELS),
      ...queryPath(ARCH2_SIDE_BY_SIDE.allReplicaLabels, all, ALL_REPLICA_LABELS),
      // All replica labels here too: Store also serves the blocks Receive uploaded under the same prefix.
      ...queryPath(ARCH2_SIDE_BY_SIDE.storeAndSidecar, [`${OBSERVER}/store`, `${OBSERVEE}/sidecar`], ALL_REPLICA_LABELS),
      ...queryPath(ARCH2_SIDE_BY_SIDE.storeAndReceive, [`${OBSERVER}/store`, `${OBSERVER}/receive`], ALL_REPLICA_LABELS),
    ],
  }[variant];
  const topology = validateTopology({
    name: `arch2-${variant}`,
    description: {
      'note-replica-labels': 'Arch 2, faulty: replica labels as in the note, so sidecar and receive copies of a series both come back',
      'all-replica-labels': 'Arch 2, fixed: the receive replica label and tenant are replica labels too',
      'side-by-side': "Arch 2 with four Queries: the note's replica labels, all replica labels, Arch 1's Store and sidecars only, and Store and Receive only",
    }[variant],
    clusters: NOTE_CLUSTERS,
    components: [
      // A scrape a second and a 1s batch deadline: a live slot is stored and remote-written
      // within seconds of being due (a settled slot is what D waits for).
      { kind: 'prometheus', name: 'prometheus', cluster: OBSERVEE, replicas: 2, remoteWrite: [`${OBSERVER}/receive`], scrapeInterval: '1s', remoteWriteBatchSendDeadline: '1s' },
      { kind: 'sidecar', name: 'sidecar', cluster: OBSERVEE, prometheus: 'prometheus', prometheusRefreshInterval: TEST_SIDECAR_REFRESH },
      { kind: 'prometheus', name: 'prometheus', cluster: OBSERVER, scrapeWorkload: false, scrapeCluster: true, scrapeInterval: '5s' },
      { kind: 'store', name: 'store', cluster: OBSERVER, bucketPrefix: OBSERVEE, syncInterval: TEST_STORE_SYNC },
      { kind: 'receive', name: 'receive', cluster: OBSERVER, bucketPrefix: OBSERVEE },
      ...queryPaths,
    ],
  });
  const paths: Arch2Preset['paths'] =
    variant === 'side-by-side'
      ? Object.fromEntries(Object.entries(ARCH2_SIDE_BY_SIDE).map(([path, query]) => [path, queryPathHandle(topology, `${OBSERVER}/${query}`)]))
      : { [variant === 'note-replica-labels' ? 'noteReplicaLabels' : 'allReplicaLabels']: queryPathHandle(topology, `${OBSERVER}/query`) };
  return {
    topology,
    prometheus: handle(topology, 'prometheus', `${OBSERVEE}/prometheus`),
    sidecar: handle(topology, 'sidecar', `${OBSERVEE}/sidecar`),
    store: handle(topology, 'store', `${OBSERVER}/store`),
    receive: handle(topology, 'receive', `${OBSERVER}/receive`),
    prefix: OBSERVEE,
    replicaLabel: PROMETHEUS_REPLICA_LABEL,
    paths,
  };
}
