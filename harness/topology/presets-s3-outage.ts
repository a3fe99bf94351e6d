// Finding G, "retention deleting a block before the sidecar shipped it (object storage down)":
// two Prometheus of one observee side by side, each with its uploading sidecar, that differ only
// in retention; one Store over the bucket and one Query over Store and both sidecars.
import { validateTopology, type Topology } from './model.ts';
import { OBSERVER, OBSERVEE } from './preset-defaults.ts';

/** The two Prometheus components: the note's 4h retention (faulty) and one that covers the outage (fixed). */
export const S3_OUTAGE_PROMETHEUS = {
  faulty: { name: 'prometheus-retention-4h', retention: '4h' },
  fixed: { name: 'prometheus-retention-12h', retention: '12h' },
} as const;

/** How much history (in data time) the outage lasts: longer than the faulty retention, shorter than the fixed one. */
export const S3_OUTAGE_HISTORY = '8h';

export const S3_OUTAGE_STORE = `${OBSERVER}/store`;
export const S3_OUTAGE_QUERY = `${OBSERVER}/query`;

const sidecarOf = (prometheus: string) => prometheus.replace(/^prometheus/, 'sidecar');

export function s3Outage(): Topology {
  const { faulty, fixed } = S3_OUTAGE_PROMETHEUS;
  return validateTopology({
    name: 's3-outage',
    description: `S3 down while ${S3_OUTAGE_HISTORY} of blocks are cut: a Prometheus with ${faulty.retention} retention (faulty) and one with ${fixed.retention} (fixed), each with a sidecar`,
    clusters: [
      { name: OBSERVER, role: 'observer' },
      { name: OBSERVEE, role: 'observee' },
    ],
    components: [
      // Only the backfilled history: nothing is scraped, so the blocks cut are exactly the history's.
      ...[faulty, fixed].flatMap((p) => [
        { kind: 'prometheus' as const, name: p.name, cluster: OBSERVEE, retention: p.retention, scrapeWorkload: false },
        { kind: 'sidecar' as const, name: sidecarOf(p.name), cluster: OBSERVEE, prometheus: p.name },
      ]),
      { kind: 'store', name: 'store', cluster: OBSERVER, bucketPrefix: OBSERVEE, syncInterval: '5s' },
      // No replica labels: the two Prometheus are not an HA pair, and each is read on its own
      // (deduplicating them would fill the faulty one's hole from the fixed one).
      { kind: 'query', name: 'query', cluster: OBSERVER, endpoints: [S3_OUTAGE_STORE, `${OBSERVEE}/${sidecarOf(faulty.name)}`, `${OBSERVEE}/${sidecarOf(fixed.name)}`] },
    ],
  });
}
