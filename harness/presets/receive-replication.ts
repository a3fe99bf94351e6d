// Receive replication under node loss: a hashring of receives written through a Service, one of
// them killed and restarted. Live only, on a 1s grid.
import { validateTopology, type Topology } from '../topology/model.ts';
import { NOTE_CLUSTERS, OBSERVEE, OBSERVER } from './conventions.ts';
import { handle, serviceHandle, type Handle, type ServiceHandle } from './handles.ts';

export interface ReplicationPreset {
  topology: Topology;
  /** The one Prometheus, writing over one connection through `writeService` to the hashring `receive`. */
  prometheus: Handle<'prometheus'>;
  receive: Handle<'receive'>;
  writeService: ServiceHandle;
  /** Query over every receive with chain deduplication (exact for identical copies), and with Thanos' default, penalty. */
  query: Handle<'query'>;
  penaltyQuery: Handle<'query'>;
  /** The label each receive stamps its copy with (deduplicated by both Queries). */
  receiveLabel: string;
}

/**
 * A hashring of `receives` with replication factor `rf`, written through a Service; Query fans out
 * to every receive and deduplicates on the receive replica label. The replicas hold identical
 * samples, which chain deduplication merges exactly ("query"); the default penalty deduplication
 * ("query-penalty") may drop samples where it switches from a replica with a gap (a receive that
 * was down) to another.
 */
export function receiveReplication(receives: number, rf: number): ReplicationPreset {
  const receiveLabel = 'receive_replica';
  const topology = validateTopology({
    name: `replication-${receives}x-rf${rf}`,
    description: `${receives} receives in a hashring with replication factor ${rf}`,
    grid: '1s',
    clusters: NOTE_CLUSTERS,
    components: [
      // One shard: one remote-write connection (the one whose receive is killed), sending in append
      // order. A 1s batch deadline sends each scrape before the next (the default, 5s, would hold five).
      { kind: 'prometheus', name: 'prometheus', cluster: OBSERVEE, remoteWrite: [`${OBSERVER}/receive-write`], remoteWriteShards: 1, remoteWriteBatchSendDeadline: '1s' },
      { kind: 'receive', name: 'receive', cluster: OBSERVER, replicas: receives, mode: 'hashring', replicationFactor: rf, replicaLabel: receiveLabel },
      { kind: 'query', name: 'query', cluster: OBSERVER, endpoints: [`${OBSERVER}/receive`], replicaLabels: [receiveLabel], deduplicationFunc: 'chain' },
      { kind: 'query', name: 'query-penalty', cluster: OBSERVER, endpoints: [`${OBSERVER}/receive`], replicaLabels: [receiveLabel] },
    ],
    services: [{ name: 'receive-write', cluster: OBSERVER, targets: [`${OBSERVER}/receive`], port: 'remote-write' }],
  });
  return {
    topology,
    prometheus: handle(topology, 'prometheus', `${OBSERVEE}/prometheus`),
    receive: handle(topology, 'receive', `${OBSERVER}/receive`),
    writeService: serviceHandle(topology, `${OBSERVER}/receive-write`),
    query: handle(topology, 'query', `${OBSERVER}/query`),
    penaltyQuery: handle(topology, 'query', `${OBSERVER}/query-penalty`),
    receiveLabel,
  };
}
