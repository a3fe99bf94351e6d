// Issue 20, the Receive ingest path under load (FINDINGS.md G and H): #8727, an ingester lost
// during writes with routers in front.
import { validateTopology, type Topology } from '../topology/model.ts';
import { NOTE_CLUSTERS, OBSERVEE, OBSERVER } from './conventions.ts';
import { handle, type Handle } from './handles.ts';

/** Series the observee's Prometheus scrapes and remote-writes: the "10k or more". */
export const INGESTER_LOSS_SERIES = 10_000;
/** Ingesters behind the router. */
export const INGESTERS = 3;

export const INGESTER_LOSS_VARIANTS = ['faulty', 'fixed'] as const;
export type IngesterLossVariant = (typeof INGESTER_LOSS_VARIANTS)[number];

/**
 * How the ingester goes down: killed (SIGKILL on the process substrate: no flush, its WAL replayed
 * on start), or restarted gracefully as a rollout does (SIGTERM on every substrate: Receive cuts its
 * head into a block first). The topology is the same; its name says which experiment ran on it.
 */
export const INGESTER_OUTAGES = ['kill', 'restart'] as const;
export type IngesterOutage = (typeof INGESTER_OUTAGES)[number];

/**
 * The router's replication factor per variant. Faulty: Thanos' default, 1 (each series on one
 * ingester); fixed: 3, as in #8727 (write quorum 2 of 3).
 */
export const REPLICATION_FACTOR: Record<IngesterLossVariant, number> = { faulty: 1, fixed: 3 };

export interface IngesterLossPreset {
  topology: Topology;
  prometheus: Handle<'prometheus'>;
  /** The routing-only receive Prometheus writes to. */
  router: Handle<'receive'>;
  /** The ingesters it forwards to (one of them is killed). */
  ingesters: Handle<'receive'>;
  /** Query over every ingester, chain deduplication on the receive replica label (exact for identical copies). */
  query: Handle<'query'>;
  replicationFactor: number;
  /** The label each ingester stamps its copy with. */
  receiveLabel: string;
}

/**
 * The observee's Prometheus remote-writes 10k series to one routing-only receive
 * (--receive.hashrings-algorithm=ketama, as upstream recommends for routers), which forwards to 3
 * ingesters with the variant's replication factor. One ingester is killed, or restarted gracefully,
 * while writes go on.
 *
 * One remote-write shard (one connection, sending in append order: what was sent by a moment is a
 * prefix of what was scraped), a 5 s grid, scraped once a slot, with a 1 s batch deadline: both
 * sides' counters can be read with nothing in flight (steps/ingest.ts).
 */
export function receiveIngesterLoss(variant: IngesterLossVariant, outage: IngesterOutage = 'kill'): IngesterLossPreset {
  const rf = REPLICATION_FACTOR[variant];
  const receiveLabel = 'receive_replica';
  const topology = validateTopology({
    name: outage === 'kill' ? `ingester-loss-${variant}` : `ingester-restart-${variant}`,
    description: `A router (ketama) in front of ${INGESTERS} ingesters, replication factor ${rf}, ${INGESTER_LOSS_SERIES.toLocaleString('en')} series; one ingester ${outage === 'kill' ? 'killed' : 'restarted gracefully'} while writing (${variant})`,
    grid: '5s',
    workload: { series: INGESTER_LOSS_SERIES },
    clusters: NOTE_CLUSTERS,
    components: [
      { kind: 'prometheus', name: 'prometheus', cluster: OBSERVEE, remoteWrite: [`${OBSERVER}/router`], remoteWriteShards: 1, remoteWriteBatchSendDeadline: '1s' },
      { kind: 'receive', name: 'router', cluster: OBSERVER, mode: 'router', ingesters: 'ingester', replicationFactor: rf, hashringsAlgorithm: 'ketama' },
      { kind: 'receive', name: 'ingester', cluster: OBSERVER, mode: 'ingester', replicas: INGESTERS, replicaLabel: receiveLabel },
      { kind: 'query', name: 'query', cluster: OBSERVER, endpoints: [`${OBSERVER}/ingester`], replicaLabels: [receiveLabel], deduplicationFunc: 'chain' },
    ],
  });
  return {
    topology,
    prometheus: handle(topology, 'prometheus', `${OBSERVEE}/prometheus`),
    router: handle(topology, 'receive', `${OBSERVER}/router`),
    ingesters: handle(topology, 'receive', `${OBSERVER}/ingester`),
    query: handle(topology, 'query', `${OBSERVER}/query`),
    replicationFactor: rf,
    receiveLabel,
  };
}
