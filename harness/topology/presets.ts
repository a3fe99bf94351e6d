// Ready-made topologies for the note's architectures, each with its faulty and fixed variants.
import { validateTopology, type Topology, type TopologyInput } from './model.ts';

const OBSERVER = 'observer';
const OBSERVEE = 'observee';

// Store's upstream sync interval (15m) only delays what a test waits for; finding A does not depend on it.
const TEST_STORE_SYNC = '10s';

export const ARCH1_VARIANTS = ['store-only', 'store-and-sidecar'] as const;
export type Arch1Variant = (typeof ARCH1_VARIANTS)[number];

/**
 * Arch 1 (sidecar): the observee's HA pair uploads blocks through sidecars; the observer queries S3
 * through Store. "store-only" is the note's first attempt (the newest ~2h are missing),
 * "store-and-sidecar" adds the sidecars' gRPC to Query's endpoints (the note's fix).
 */
export function arch1(variant: Arch1Variant): Topology {
  const endpoints = variant === 'store-only' ? [`${OBSERVER}/store`] : [`${OBSERVER}/store`, `${OBSERVEE}/sidecar`];
  const input: TopologyInput = {
    name: `arch1-${variant}`,
    description:
      variant === 'store-only'
        ? 'Arch 1, faulty: Query reads only Store, so data not yet in a shipped 2h block is invisible'
        : 'Arch 1, fixed: Query reads Store and every observee sidecar',
    clusters: [
      { name: OBSERVER, role: 'observer' },
      { name: OBSERVEE, role: 'observee' },
    ],
    components: [
      { kind: 'prometheus', name: 'prometheus', cluster: OBSERVEE, replicas: 2 },
      { kind: 'sidecar', name: 'sidecar', cluster: OBSERVEE, prometheus: 'prometheus' },
      { kind: 'prometheus', name: 'prometheus', cluster: OBSERVER, scrapeWorkload: false, scrapeCluster: true },
      { kind: 'store', name: 'store', cluster: OBSERVER, bucketPrefix: OBSERVEE, syncInterval: TEST_STORE_SYNC },
      { kind: 'query', name: 'query', cluster: OBSERVER, endpoints, replicaLabels: ['prometheus_replica'] },
      { kind: 'query-frontend', name: 'query-frontend', cluster: OBSERVER, downstream: `${OBSERVER}/query` },
    ],
  };
  return validateTopology(input);
}

export const PRESETS: Record<string, () => Topology> = Object.fromEntries(
  ARCH1_VARIANTS.map((v) => [`arch1-${v}`, () => arch1(v)]),
);

export function presetByName(name: string): Topology {
  const make = PRESETS[name];
  if (!make) throw new Error(`unknown topology "${name}": choose one of ${Object.keys(PRESETS).join(', ')}`);
  return make();
}
