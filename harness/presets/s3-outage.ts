// Finding G, "retention deleting a block before the sidecar shipped it (object storage down)":
// two Prometheus of one observee side by side, each with its uploading sidecar, that differ only
// in retention; one Store over the bucket and one Query over Store and both sidecars.
import { PROMETHEUS_REPLICA_LABEL } from '../plan/context.ts';
import { validateTopology, type Topology } from '../topology/model.ts';
import { NOTE_CLUSTERS, OBSERVEE, OBSERVER } from './conventions.ts';
import { handle, type Handle } from './handles.ts';

/** The two Prometheus components: the note's 4h retention (faulty) and one that covers the outage (fixed). */
const RETENTION = { faulty: '4h', fixed: '12h' } as const;
export type S3OutageSide = keyof typeof RETENTION;

/** How much history (in data time) the outage lasts: longer than the faulty retention, shorter than the fixed one. */
export const S3_OUTAGE_HISTORY = '8h';

export interface S3OutagePreset {
  topology: Topology;
  /** Each side: its Prometheus and the sidecar beside it. */
  sides: Record<S3OutageSide, { prometheus: Handle<'prometheus'>; sidecar: Handle<'sidecar'> }>;
  store: Handle<'store'>;
  /** Over Store and both sidecars. */
  query: Handle<'query'>;
  prefix: string;
  replicaLabel: string;
}

export function s3Outage(): S3OutagePreset {
  const name = (side: S3OutageSide) => `prometheus-retention-${RETENTION[side]}`;
  const sidecarOf = (side: S3OutageSide) => `sidecar-retention-${RETENTION[side]}`;
  const sides = Object.keys(RETENTION) as S3OutageSide[];
  const topology = validateTopology({
    name: 's3-outage',
    description: `S3 down while ${S3_OUTAGE_HISTORY} of blocks are cut: a Prometheus with ${RETENTION.faulty} retention (faulty) and one with ${RETENTION.fixed} (fixed), each with a sidecar`,
    clusters: NOTE_CLUSTERS,
    components: [
      // Only the backfilled history: nothing is scraped, so the blocks cut are exactly the history's.
      ...sides.flatMap((side) => [
        { kind: 'prometheus' as const, name: name(side), cluster: OBSERVEE, retention: RETENTION[side], scrapeWorkload: false },
        { kind: 'sidecar' as const, name: sidecarOf(side), cluster: OBSERVEE, prometheus: name(side) },
      ]),
      { kind: 'store', name: 'store', cluster: OBSERVER, bucketPrefix: OBSERVEE, syncInterval: '5s' },
      // No replica labels: the two Prometheus are not an HA pair, and each is read on its own
      // (deduplicating them would fill the faulty one's hole from the fixed one).
      { kind: 'query', name: 'query', cluster: OBSERVER, endpoints: [`${OBSERVER}/store`, ...sides.map((side) => `${OBSERVEE}/${sidecarOf(side)}`)] },
    ],
  });
  const side = (s: S3OutageSide) => ({ prometheus: handle(topology, 'prometheus', `${OBSERVEE}/${name(s)}`), sidecar: handle(topology, 'sidecar', `${OBSERVEE}/${sidecarOf(s)}`) });
  return {
    topology,
    sides: { faulty: side('faulty'), fixed: side('fixed') },
    store: handle(topology, 'store', `${OBSERVER}/store`),
    query: handle(topology, 'query', `${OBSERVER}/query`),
    prefix: OBSERVEE,
    replicaLabel: PROMETHEUS_REPLICA_LABEL,
  };
}
