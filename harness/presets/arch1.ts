// Arch 1 (sidecar), findings A and E: the observee's HA pair uploads blocks through sidecars; the
// observer queries S3 through Store.
import { PROMETHEUS_REPLICA_LABEL } from '../plan/context.ts';
import { validateTopology, type Topology } from '../topology/model.ts';
import { NOTE_CLUSTERS, OBSERVEE, OBSERVER, queryPath, TEST_SIDECAR_REFRESH, TEST_STORE_SYNC } from './conventions.ts';
import { handle, queryPathHandle, type Handle, type QueryPathHandle } from './handles.ts';

export const ARCH1_VARIANTS = ['store-only', 'store-and-sidecar', 'side-by-side'] as const;
export type Arch1Variant = (typeof ARCH1_VARIANTS)[number];

/** The query paths of each variant: a variant alone has one (its Query is "query"), side-by-side both. */
export type Arch1Paths<V extends Arch1Variant> = V extends 'store-only'
  ? { storeOnly: QueryPathHandle }
  : V extends 'store-and-sidecar'
    ? { storeAndSidecar: QueryPathHandle }
    : { storeOnly: QueryPathHandle; storeAndSidecar: QueryPathHandle };

export interface Arch1Preset<V extends Arch1Variant = Arch1Variant> {
  topology: Topology;
  /** The observee's HA pair, its sidecars and the observer's Store over their prefix. */
  prometheus: Handle<'prometheus'>;
  sidecar: Handle<'sidecar'>;
  store: Handle<'store'>;
  /** The bucket prefix the sidecars upload under and Store reads (the observee's cluster name, as in the note). */
  prefix: string;
  /** The label that tells the HA pair's replicas apart, a replica label of every Query. */
  replicaLabel: string;
  paths: Arch1Paths<V>;
  /** The two clusters, the ends of the link the sidecars are read across. */
  clusters: { observer: string; observee: string };
}

/** The Query of each query path in the side-by-side variant. */
const SIDE_BY_SIDE = { storeOnly: 'query-store-only', storeAndSidecar: 'query' } as const;

/**
 * "store-only" is the note's first attempt (the newest ~2h are missing), "store-and-sidecar" adds
 * the sidecars' gRPC to Query's endpoints (the note's fix), "side-by-side" has both query paths
 * over one HA pair and one bucket.
 */
export function arch1<V extends Arch1Variant>(variant: V): Arch1Preset<V> {
  const storeOnly = [`${OBSERVER}/store`];
  const storeAndSidecar = [`${OBSERVER}/store`, `${OBSERVEE}/sidecar`];
  const replicaLabels = [PROMETHEUS_REPLICA_LABEL];
  const queryPaths = {
    'store-only': queryPath('query', storeOnly, replicaLabels),
    'store-and-sidecar': queryPath('query', storeAndSidecar, replicaLabels),
    'side-by-side': [...queryPath(SIDE_BY_SIDE.storeOnly, storeOnly, replicaLabels), ...queryPath(SIDE_BY_SIDE.storeAndSidecar, storeAndSidecar, replicaLabels)],
  }[variant];
  const topology = validateTopology({
    name: `arch1-${variant}`,
    description: {
      'store-only': 'Arch 1, faulty: Query reads only Store, so data not yet in a shipped 2h block is invisible',
      'store-and-sidecar': 'Arch 1, fixed: Query reads Store and every observee sidecar',
      'side-by-side': 'Arch 1, faulty and fixed side by side: one Query reads only Store, another Store and every observee sidecar',
    }[variant],
    clusters: NOTE_CLUSTERS,
    components: [
      // Three scrapes per 15s slot: the live data catches up within seconds of a wait.
      { kind: 'prometheus', name: 'prometheus', cluster: OBSERVEE, replicas: 2, scrapeInterval: '5s' },
      { kind: 'sidecar', name: 'sidecar', cluster: OBSERVEE, prometheus: 'prometheus', prometheusRefreshInterval: TEST_SIDECAR_REFRESH },
      { kind: 'prometheus', name: 'prometheus', cluster: OBSERVER, scrapeWorkload: false, scrapeCluster: true, scrapeInterval: '5s' },
      { kind: 'store', name: 'store', cluster: OBSERVER, bucketPrefix: OBSERVEE, syncInterval: TEST_STORE_SYNC },
      ...queryPaths,
    ],
  });
  return arch1Handles(topology, variant);
}

/** The handles of an Arch 1 shaped topology (also what presets built on Arch 1 start from). */
export function arch1Handles<V extends Arch1Variant>(topology: Topology, variant: V): Arch1Preset<V> {
  const path = (query: string) => queryPathHandle(topology, `${OBSERVER}/${query}`);
  const paths = (
    variant === 'store-only'
      ? { storeOnly: path('query') }
      : variant === 'store-and-sidecar'
        ? { storeAndSidecar: path('query') }
        : { storeOnly: path(SIDE_BY_SIDE.storeOnly), storeAndSidecar: path(SIDE_BY_SIDE.storeAndSidecar) }
  ) as Arch1Paths<V>;
  return {
    topology,
    prometheus: handle(topology, 'prometheus', `${OBSERVEE}/prometheus`),
    sidecar: handle(topology, 'sidecar', `${OBSERVEE}/sidecar`),
    store: handle(topology, 'store', `${OBSERVER}/store`),
    prefix: OBSERVEE,
    replicaLabel: PROMETHEUS_REPLICA_LABEL,
    paths,
    clusters: { observer: OBSERVER, observee: OBSERVEE },
  };
}
