// What every preset shares: the note's two cluster roles, its replica labels, and the upstream
// intervals presets shorten because they only delay what a test waits for (never what a finding
// depends on).
import { PROMETHEUS_REPLICA_LABEL } from '../plan/context.ts';
import type { TopologyInput } from '../topology/model.ts';

export const OBSERVER = 'observer';
export const OBSERVEE = 'observee';
/** Both, as the note names them: the two ends of the link between the clusters. */
export const NOTE_CLUSTERS: TopologyInput['clusters'] = [
  { name: OBSERVER, role: 'observer' },
  { name: OBSERVEE, role: 'observee' },
];

/** Store's bucket sync (upstream 15m). */
export const TEST_STORE_SYNC = '10s';
/** The sidecar's re-read of its Prometheus' oldest sample (upstream 30s), which the Stores page shows. */
export const TEST_SIDECAR_REFRESH = '5s';

// Replica labels: as in the note (prometheus-operator's and the Ruler's), and with the labels only
// the receive path adds (its replica label and the tenant), which finding D says must be declared.
export const NOTE_REPLICA_LABELS = [PROMETHEUS_REPLICA_LABEL, 'rule_replica'];
export const ALL_REPLICA_LABELS = [...NOTE_REPLICA_LABELS, 'receive_replica', 'tenant_id'];

type ComponentInput = TopologyInput['components'][number];

/** A Query over `endpoints` and the Query Frontend in front of it, named `${name}` and `${name}-frontend`. */
export function queryPath(name: string, endpoints: string[], replicaLabels: string[]): ComponentInput[] {
  return [
    { kind: 'query', name, cluster: OBSERVER, endpoints, replicaLabels },
    { kind: 'query-frontend', name: `${name}-frontend`, cluster: OBSERVER, downstream: `${OBSERVER}/${name}` },
  ];
}
