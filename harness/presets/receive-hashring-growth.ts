// Issue 20, the Receive ingest path under load (FINDINGS.md G and H): #3141, #5905, #5639, a
// hashring that grows under load.
import { validateTopology, type Topology } from '../topology/model.ts';
import { NOTE_CLUSTERS, OBSERVEE, OBSERVER } from './conventions.ts';
import { handle, serviceHandle, type Handle, type ServiceHandle } from './handles.ts';

export const GROWTH_VARIANTS = ['faulty', 'fixed'] as const;
export type GrowthVariant = (typeof GROWTH_VARIANTS)[number];

/** Series the observee's Prometheus scrapes and remote-writes: the "10k or more". */
export const GROWTH_SERIES = 10_000;
/** Receives in the ring at bring-up, and the one that joins while writes go on. */
export const RING_AT_START = 3;
export const REPLICATION_FACTOR = 3;

export interface GrowthPreset {
  topology: Topology;
  prometheus: Handle<'prometheus'>;
  /** The receives that store (ingest): the first RING_AT_START are in the ring at bring-up, the last joins later. */
  members: Handle<'receive'>;
  /**
   * Fixed: the router, which Prometheus' remote write reaches first-hand. Faulty: undefined: the
   * member its one connection through `writeService` reached at bring-up (the scenario finds it).
   */
  front: string | undefined;
  /** Faulty only: the Service over the members that Prometheus writes through (Receive in one role needs one), pinned by the scenario to the member its connection reached. */
  writeService: ServiceHandle | undefined;
  /** Query over every member, chain deduplication on the receive replica label. */
  query: Handle<'query'>;
  receiveLabel: string;
  /** How the variant's receives place series ('hashmod': Thanos' default). */
  algorithm: 'hashmod' | 'ketama';
}

/**
 * The observee's Prometheus remote-writes 10k series; three receives hold them with replication
 * factor 3, and a fourth joins the hashring while the writes go on.
 * - faulty: the receives route and ingest in one (mode hashring) with Thanos' default hashmod
 *   algorithm; Prometheus writes through a Service over them (its one connection reaches one member);
 * - fixed: what upstream recommends: a routing-only receive with --receive.hashrings-algorithm=ketama
 *   in front of ingesters.
 * One remote-write shard (the backlog after a refusal reaches Receive in time order), a 5 s grid
 * and a 1 s batch deadline, so that both sides can be read with nothing in flight (steps/ingest.ts).
 */
export function receiveHashringGrowth(variant: GrowthVariant): GrowthPreset {
  const receiveLabel = 'receive_replica';
  const replicas = RING_AT_START + 1;
  const prometheus = { kind: 'prometheus', name: 'prometheus', cluster: OBSERVEE, remoteWriteShards: 1, remoteWriteBatchSendDeadline: '1s' } as const;
  const query = { kind: 'query', name: 'query', cluster: OBSERVER, endpoints: [`${OBSERVER}/receive`], replicaLabels: [receiveLabel], deduplicationFunc: 'chain' } as const;
  const topology = validateTopology({
    name: `hashring-growth-${variant}`,
    description: `${RING_AT_START} receives, replication factor ${REPLICATION_FACTOR}, ${GROWTH_SERIES.toLocaleString('en')} series; a fourth joins the hashring under load: ${variant === 'fixed' ? 'a ketama router in front of ingesters (fixed)' : 'receives that route and ingest, hashmod (faulty)'}`,
    grid: '5s',
    workload: { series: GROWTH_SERIES },
    clusters: NOTE_CLUSTERS,
    ...(variant === 'faulty'
      ? {
          components: [
            { ...prometheus, remoteWrite: [`${OBSERVER}/receive-write`] },
            { kind: 'receive', name: 'receive', cluster: OBSERVER, mode: 'hashring', replicas, joining: 1, replicationFactor: REPLICATION_FACTOR, replicaLabel: receiveLabel },
            query,
          ],
          services: [{ name: 'receive-write', cluster: OBSERVER, targets: [`${OBSERVER}/receive`], port: 'remote-write' }],
        }
      : {
          components: [
            { ...prometheus, remoteWrite: [`${OBSERVER}/router`] },
            { kind: 'receive', name: 'router', cluster: OBSERVER, mode: 'router', ingesters: 'receive', replicationFactor: REPLICATION_FACTOR, hashringsAlgorithm: 'ketama' },
            { kind: 'receive', name: 'receive', cluster: OBSERVER, mode: 'ingester', replicas, joining: 1, replicaLabel: receiveLabel },
            query,
          ],
        }),
  });
  const members = handle(topology, 'receive', `${OBSERVER}/receive`);
  return {
    topology,
    prometheus: handle(topology, 'prometheus', `${OBSERVEE}/prometheus`),
    members,
    front: variant === 'fixed' ? handle(topology, 'receive', `${OBSERVER}/router`).ref : undefined,
    writeService: variant === 'faulty' ? serviceHandle(topology, `${OBSERVER}/receive-write`) : undefined,
    query: handle(topology, 'query', `${OBSERVER}/query`),
    receiveLabel,
    algorithm: variant === 'fixed' ? 'ketama' : 'hashmod',
  };
}
