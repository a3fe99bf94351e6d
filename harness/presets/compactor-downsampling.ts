// The Compactor's downsampling (FINDINGS.md F "Compactor reduces storage cost"): a Compactor, Store
// and Query over one prefix, where the harness uploads days of history made by promtool.
import { validateTopology, type Topology } from '../topology/model.ts';
import { OBSERVEE, OBSERVER, TEST_STORE_SYNC } from './conventions.ts';
import { TEST_CONSISTENCY_DELAY } from './compactor-overlap.ts';
import { handle, type Handle } from './handles.ts';

export interface CompactorDownsamplingPreset {
  topology: Topology;
  /** The blocks are an observee's, uploaded by the harness under its prefix (no observee runs). */
  prefix: string;
  /** Whose blocks the uploaded ones are: an observee's Prometheus, replica 0 (its external labels). */
  uploadedAs: { cluster: string; replica: string };
  compactor: Handle<'compactor'>;
  store: Handle<'store'>;
  query: Handle<'query'>;
}

export function compactorDownsampling(): CompactorDownsamplingPreset {
  const topology = validateTopology({
    name: 'compactor-downsampling',
    description: 'A Compactor downsampling 2 days of promtool-made history to 5m, read through Store and Query',
    clusters: [{ name: OBSERVER, role: 'observer' }],
    components: [
      { kind: 'compactor', name: 'compactor', cluster: OBSERVER, bucketPrefix: OBSERVEE, consistencyDelay: TEST_CONSISTENCY_DELAY },
      { kind: 'store', name: 'store', cluster: OBSERVER, bucketPrefix: OBSERVEE, syncInterval: TEST_STORE_SYNC },
      { kind: 'query', name: 'query', cluster: OBSERVER, endpoints: [`${OBSERVER}/store`] },
    ],
  });
  return {
    topology,
    prefix: OBSERVEE,
    uploadedAs: { cluster: OBSERVEE, replica: 'prometheus-0' },
    compactor: handle(topology, 'compactor', `${OBSERVER}/compactor`),
    store: handle(topology, 'store', `${OBSERVER}/store`),
    query: handle(topology, 'query', `${OBSERVER}/query`),
  };
}
