// Finding B, the receive "jitter" (#4450): two receives behind a kube-proxy-like Service for remote
// write, Query replicas behind a Service, a Query Frontend in front. Live only, on a 1s grid.
import { PROMETHEUS_REPLICA_LABEL } from '../plan/context.ts';
import { validateTopology, type Topology } from '../topology/model.ts';
import { NOTE_CLUSTERS, OBSERVEE, OBSERVER } from './conventions.ts';
import { handle, serviceHandle, type Handle, type QueryPathHandle, type ServiceHandle } from './handles.ts';

export const JITTER_VARIANTS = ['standalone-behind-service', 'hashring-rf2'] as const;
export type JitterVariant = (typeof JITTER_VARIANTS)[number];

/**
 * How the observee's Prometheus remote-writes:
 * - many-connections: 10 series, 4 shards, one sample per request. Every shard has requests in
 *   flight at once, so each replica writes over 4 connections and each receive holds an interleaved
 *   part of every series (as a Prometheus catching up with many shards, or behind a per-request
 *   load balancer, spreads its samples).
 * - default: JITTER_DEFAULT_QUEUE_SERIES series, Prometheus' default queue configuration. One shard
 *   keeps up (1 of 50 allowed; measured: 10k samples/s per replica, 33 ms per 2000-sample request),
 *   so each replica writes over one kept-alive connection and each receive holds whole replicas.
 */
export const JITTER_QUEUES = ['many-connections', 'default'] as const;
export type JitterQueue = (typeof JITTER_QUEUES)[number];
/** Series per Prometheus replica with the default queue: a small cluster's worth, 5 full 2000-sample requests per scrape. */
export const JITTER_DEFAULT_QUEUE_SERIES = 10_000;

/**
 * How each path's Query Frontend forwards a try: whole, over a connection of its own.
 * - No idle connection kept (1ms): Thanos keeps a downstream connection 90s for the next request,
 *   so tries seconds apart would all ride the few it opened first, to whichever replica the Service
 *   gave them (on kind, every try once went to one replica). A dashboard refreshed minutes apart,
 *   or by several people, finds none left and dials the Service anew each time; so does each try
 *   here, and the Service spreads the tries over both replicas (kube-proxy: at random per
 *   connection; the process substrate: in turn).
 * - Split by 365d: the window is seconds long, and a try crossing a split boundary (every hour at
 *   the default 1h) would be two requests, possibly to two replicas; whole, each try is exactly one
 *   replica's answer. (Not 0s, no split: see the topology's refusal of it.)
 */
const FRONTEND_AS_BETWEEN_REFRESHES = { splitInterval: '365d', downstreamIdleConnTimeout: '1ms' } as const;

/** A Query group: replicas behind an HTTP Service, a Query Frontend in front of that Service. */
export interface JitterQueryPath extends QueryPathHandle {
  http: ServiceHandle;
}

export interface JitterPreset {
  topology: Topology;
  /** The observee's HA pair, and the two receives it writes to through `writeService`. */
  prometheus: Handle<'prometheus'>;
  receive: Handle<'receive'>;
  writeService: ServiceHandle;
  /**
   * Replica i reads receive i only (faulty; fixed (b) reads this way too): what two Query replicas
   * behind one ClusterIP gRPC Service end up with when each one's single connection went to a
   * different receive, paired in the topology (`pairedEndpoints`) rather than left to kube-proxy.
   */
  pinned: JitterQueryPath;
  /** standalone-behind-service only: each replica dials every receive, chain deduplication (fixed (a)). */
  fanout: JitterQueryPath | undefined;
  /** standalone-behind-service only: the same fan-out with Thanos' default penalty deduplication, no frontend. */
  penalty: Handle<'query'> | undefined;
  /** The labels that tell the copies apart: the Prometheus replica and the receive replica. */
  replicaLabels: { prometheus: string; receive: string };
}

/**
 * - standalone-behind-service: standalone receives (the POC, no hashring), read two ways. The
 *   pinned pair (faulty) reads replica i from receive i (as behind one ClusterIP gRPC Service once
 *   each replica's connection went to a different receive). The fan-out
 *   (fixed a) dials both receives directly (headless Service), with chain deduplication: each
 *   receive holds an interleaved part of every series, which the default penalty deduplication does
 *   not merge completely (the penalty Query, the same fan-out with it, shows that).
 * - hashring-rf2 (fixed b): a hashring over both with replication factor 2, read as the faulty one.
 */
export function receiveJitter(variant: JitterVariant, queue: JitterQueue = 'many-connections'): JitterPreset {
  const standalone = variant === 'standalone-behind-service';
  const defaultQueue = queue === 'default';
  const receiveLabel = 'receive_replica';
  const replicaLabels = [PROMETHEUS_REPLICA_LABEL, receiveLabel];
  const pinned = { query: 'query', frontend: 'query-frontend' };
  const fanout = { query: 'query-fanout', frontend: 'query-fanout-frontend' };
  const queryGroup = (path: { query: string; frontend: string }, paired: boolean, deduplicationFunc?: 'chain') => ({
    components: [
      { kind: 'query' as const, name: path.query, cluster: OBSERVER, replicas: 2, endpoints: [`${OBSERVER}/receive`], pairedEndpoints: paired, replicaLabels, ...(deduplicationFunc ? { deduplicationFunc } : {}) },
      { kind: 'query-frontend' as const, name: path.frontend, cluster: OBSERVER, downstream: `${OBSERVER}/${path.query}-http`, ...FRONTEND_AS_BETWEEN_REFRESHES },
    ],
    service: { name: `${path.query}-http`, cluster: OBSERVER, targets: [`${OBSERVER}/${path.query}`], port: 'http' as const },
  });
  const groups = [queryGroup(pinned, true), ...(standalone ? [queryGroup(fanout, false, 'chain')] : [])];
  const topology = validateTopology({
    name: defaultQueue ? `jitter-default-queue-${variant}` : `jitter-${variant}`,
    description:
      (standalone
        ? 'B faulty and fixed (a): 2 standalone receives behind a Service; one Query pair reading one receive per replica, another fanning out to both'
        : 'B fixed (b): a hashring over both receives with replication factor 2') +
      (defaultQueue ? `; ${JITTER_DEFAULT_QUEUE_SERIES.toLocaleString('en')} series, Prometheus' default remote-write queue` : ''),
    grid: '1s',
    ...(defaultQueue ? { workload: { series: JITTER_DEFAULT_QUEUE_SERIES } } : {}),
    clusters: NOTE_CLUSTERS,
    components: [
      // many-connections: several shards, one sample per request, so that all of them have requests
      // in flight at once over connections of their own (at the default 2000 the 10 series' shards
      // would flush one small request each, one after another, over the newest kept-alive connection).
      // One scrape per workload grid slot (the default), so each sample is remote-written once and
      // what each receive holds is a clean share.
      {
        kind: 'prometheus',
        name: 'prometheus',
        cluster: OBSERVEE,
        replicas: 2,
        remoteWrite: [`${OBSERVER}/receive-write`],
        ...(defaultQueue ? {} : { remoteWriteShards: 4, remoteWriteMaxSamplesPerSend: 1 }),
      },
      { kind: 'receive', name: 'receive', cluster: OBSERVER, replicas: 2, mode: standalone ? 'standalone' : 'hashring', replicationFactor: standalone ? 1 : 2, replicaLabel: receiveLabel },
      ...groups.flatMap((g) => g.components),
      ...(standalone ? [{ kind: 'query' as const, name: 'query-penalty', cluster: OBSERVER, endpoints: [`${OBSERVER}/receive`], replicaLabels }] : []),
    ],
    services: [
      { name: 'receive-write', cluster: OBSERVER, targets: [`${OBSERVER}/receive`], port: 'remote-write' },
      ...groups.map((g) => g.service),
    ],
  });
  const path = (p: { query: string; frontend: string }): JitterQueryPath => ({
    query: handle(topology, 'query', `${OBSERVER}/${p.query}`),
    frontend: handle(topology, 'query-frontend', `${OBSERVER}/${p.frontend}`),
    http: serviceHandle(topology, `${OBSERVER}/${p.query}-http`),
  });
  return {
    topology,
    prometheus: handle(topology, 'prometheus', `${OBSERVEE}/prometheus`),
    receive: handle(topology, 'receive', `${OBSERVER}/receive`),
    writeService: serviceHandle(topology, `${OBSERVER}/receive-write`),
    pinned: path(pinned),
    fanout: standalone ? path(fanout) : undefined,
    penalty: standalone ? handle(topology, 'query', `${OBSERVER}/query-penalty`) : undefined,
    replicaLabels: { prometheus: PROMETHEUS_REPLICA_LABEL, receive: receiveLabel },
  };
}
