// Ready-made topologies for the note's architectures, each with its faulty and fixed variants.
import { readFileSync } from 'node:fs';
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
      // Three scrapes per 15s slot: the live data catches up within seconds of a wait.
      { kind: 'prometheus', name: 'prometheus', cluster: OBSERVEE, replicas: 2, scrapeInterval: '5s' },
      { kind: 'sidecar', name: 'sidecar', cluster: OBSERVEE, prometheus: 'prometheus' },
      { kind: 'prometheus', name: 'prometheus', cluster: OBSERVER, scrapeWorkload: false, scrapeCluster: true, scrapeInterval: '5s' },
      { kind: 'store', name: 'store', cluster: OBSERVER, bucketPrefix: OBSERVEE, syncInterval: TEST_STORE_SYNC },
      { kind: 'query', name: 'query', cluster: OBSERVER, endpoints, replicaLabels: ['prometheus_replica'] },
      { kind: 'query-frontend', name: 'query-frontend', cluster: OBSERVER, downstream: `${OBSERVER}/query` },
    ],
  };
  return validateTopology(input);
}

// Replica labels: as in the note (prometheus-operator's and the Ruler's), and with the labels only
// the receive path adds (its replica label and the tenant), which finding D says must be declared.
export const NOTE_REPLICA_LABELS = ['prometheus_replica', 'rule_replica'];
export const ALL_REPLICA_LABELS = [...NOTE_REPLICA_LABELS, 'receive_replica', 'tenant_id'];

export const ARCH2_VARIANTS = ['note-replica-labels', 'all-replica-labels'] as const;
export type Arch2Variant = (typeof ARCH2_VARIANTS)[number];

/**
 * Arch 2 (sidecar + remote write): as Arch 1, and the observee's HA pair also remote-writes to a
 * dedicated Receive in the observer, which uploads under the same prefix. Query reads Store,
 * Sidecars and Receive. "note-replica-labels" double-counts (finding D), "all-replica-labels" not.
 */
export function arch2(variant: Arch2Variant): Topology {
  return validateTopology({
    name: `arch2-${variant}`,
    description:
      variant === 'note-replica-labels'
        ? 'Arch 2, faulty: replica labels as in the note, so sidecar and receive copies of a series both come back'
        : 'Arch 2, fixed: the receive replica label and tenant are replica labels too',
    clusters: [
      { name: OBSERVER, role: 'observer' },
      { name: OBSERVEE, role: 'observee' },
    ],
    components: [
      { kind: 'prometheus', name: 'prometheus', cluster: OBSERVEE, replicas: 2, remoteWrite: [`${OBSERVER}/receive`], scrapeInterval: '5s' },
      { kind: 'sidecar', name: 'sidecar', cluster: OBSERVEE, prometheus: 'prometheus' },
      { kind: 'prometheus', name: 'prometheus', cluster: OBSERVER, scrapeWorkload: false, scrapeCluster: true, scrapeInterval: '5s' },
      { kind: 'store', name: 'store', cluster: OBSERVER, bucketPrefix: OBSERVEE, syncInterval: TEST_STORE_SYNC },
      { kind: 'receive', name: 'receive', cluster: OBSERVER, bucketPrefix: OBSERVEE },
      {
        kind: 'query',
        name: 'query',
        cluster: OBSERVER,
        endpoints: [`${OBSERVER}/store`, `${OBSERVEE}/sidecar`, `${OBSERVER}/receive`],
        replicaLabels: variant === 'note-replica-labels' ? NOTE_REPLICA_LABELS : ALL_REPLICA_LABELS,
      },
      { kind: 'query-frontend', name: 'query-frontend', cluster: OBSERVER, downstream: `${OBSERVER}/query` },
    ],
  });
}

export const JITTER_VARIANTS = ['standalone-behind-service', 'fanout', 'hashring-rf2'] as const;
export type JitterVariant = (typeof JITTER_VARIANTS)[number];

/**
 * Finding B, the receive "jitter": two receives behind kube-proxy-like Services for remote write
 * and gRPC, two Query replicas behind a Service, Query Frontend in front.
 * - standalone-behind-service (faulty, the POC): no hashring, each Query pinned to one receive;
 * - fanout (fixed a): each Query dials both receives directly (headless Service), receive replica
 *   label declared, and chain deduplication: each receive holds an interleaved part of every
 *   series, which the default penalty deduplication does not merge completely ("query-penalty",
 *   outside the Query Frontend, shows that);
 * - hashring-rf2 (fixed b): a hashring over both with replication factor 2; Query still through the Service.
 */
export function receiveJitter(variant: JitterVariant): Topology {
  const hashring = variant === 'hashring-rf2';
  const replicaLabels = ['prometheus_replica', 'receive_replica'];
  return validateTopology({
    name: `jitter-${variant}`,
    description: {
      'standalone-behind-service': 'B faulty: 2 standalone receives behind Services, each Query replica pinned to one',
      fanout: 'B fixed (a): every Query fans out to both receives, receive replica label declared, chain deduplication',
      'hashring-rf2': 'B fixed (b): a hashring over both receives with replication factor 2',
    }[variant],
    clusters: [
      { name: OBSERVER, role: 'observer' },
      { name: OBSERVEE, role: 'observee' },
    ],
    components: [
      // Several shards: several remote-write connections, spread over the receives like in a cluster.
      // A real Prometheus sends thousands of samples per scrape, in many requests at once over all
      // of them; with the workload's 10 series, one sample per request does the same (at the default
      // 2000 the shards flush one small request each, one after another, so the newest kept-alive
      // connection, one receive, carries nearly everything).
      // One scrape per workload grid slot, so each sample is remote-written once and what each
      // receive holds is a clean share (at 5s the exporter serves a slot three times).
      {
        kind: 'prometheus',
        name: 'prometheus',
        cluster: OBSERVEE,
        replicas: 2,
        scrapeInterval: '15s',
        remoteWrite: [`${OBSERVER}/receive-write`],
        remoteWriteShards: 4,
        remoteWriteMaxSamplesPerSend: 1,
      },
      { kind: 'receive', name: 'receive', cluster: OBSERVER, replicas: 2, mode: hashring ? 'hashring' : 'standalone', replicationFactor: hashring ? 2 : 1 },
      {
        kind: 'query',
        name: 'query',
        cluster: OBSERVER,
        replicas: 2,
        endpoints: [variant === 'fanout' ? `${OBSERVER}/receive` : `${OBSERVER}/receive-grpc`],
        replicaLabels,
        ...(variant === 'fanout' ? { deduplicationFunc: 'chain' as const } : {}),
      },
      ...(variant === 'fanout'
        ? [{ kind: 'query' as const, name: 'query-penalty', cluster: OBSERVER, endpoints: [`${OBSERVER}/receive`], replicaLabels }]
        : []),
      { kind: 'query-frontend', name: 'query-frontend', cluster: OBSERVER, downstream: `${OBSERVER}/query-http` },
    ],
    services: [
      { name: 'receive-write', cluster: OBSERVER, targets: [`${OBSERVER}/receive`], port: 'remote-write' },
      { name: 'receive-grpc', cluster: OBSERVER, targets: [`${OBSERVER}/receive`], port: 'grpc' },
      { name: 'query-http', cluster: OBSERVER, targets: [`${OBSERVER}/query`], port: 'http' },
    ],
  });
}

/**
 * Replication under node loss: a hashring of `receives` with replication factor `rf`, written
 * through a Service; Query fans out to every receive and deduplicates on the receive replica label.
 * The replicas hold identical samples, which chain deduplication merges exactly ("query"); the
 * default penalty deduplication ("query-penalty") may drop samples where it switches from a
 * replica with a gap (a receive that was down) to another.
 */
export function receiveReplication(receives: number, rf: number): Topology {
  return validateTopology({
    name: `replication-${receives}x-rf${rf}`,
    description: `${receives} receives in a hashring with replication factor ${rf}`,
    clusters: [
      { name: OBSERVER, role: 'observer' },
      { name: OBSERVEE, role: 'observee' },
    ],
    components: [
      { kind: 'prometheus', name: 'prometheus', cluster: OBSERVEE, remoteWrite: [`${OBSERVER}/receive-write`], scrapeInterval: '5s' },
      { kind: 'receive', name: 'receive', cluster: OBSERVER, replicas: receives, mode: 'hashring', replicationFactor: rf },
      { kind: 'query', name: 'query', cluster: OBSERVER, endpoints: [`${OBSERVER}/receive`], replicaLabels: ['receive_replica'], deduplicationFunc: 'chain' },
      { kind: 'query', name: 'query-penalty', cluster: OBSERVER, endpoints: [`${OBSERVER}/receive`], replicaLabels: ['receive_replica'] },
    ],
    services: [{ name: 'receive-write', cluster: OBSERVER, targets: [`${OBSERVER}/receive`], port: 'remote-write' }],
  });
}

const CENTRAL_ALERTING_RULES = readFileSync(new URL('../../fixtures/rules/central-alerting.yml', import.meta.url), 'utf8');

export const ARCH3_VARIANTS = ['ruler-without-receive', 'ruler-through-query'] as const;
export type Arch3Variant = (typeof ARCH3_VARIANTS)[number];

/**
 * Arch 3 (agent): the observee runs Prometheus in agent mode, remote-writing to Receive; the
 * observer's Ruler evaluates rules through Query and sends alerts to its Alertmanager.
 * "ruler-without-receive" (faulty) gives the Ruler a Query that only reads Store, where the
 * agent's fresh data is not; "ruler-through-query" reads Receive too.
 */
export function arch3(variant: Arch3Variant): Topology {
  const rulerQueryEndpoints = variant === 'ruler-without-receive' ? [`${OBSERVER}/store`] : [`${OBSERVER}/store`, `${OBSERVER}/receive`];
  return validateTopology({
    name: `arch3-${variant}`,
    description:
      variant === 'ruler-without-receive'
        ? 'Arch 3, faulty: the Ruler queries a Query that does not read Receive'
        : 'Arch 3, fixed: Ruler -> Query -> Receive -> Alertmanager',
    clusters: [
      { name: OBSERVER, role: 'observer' },
      { name: OBSERVEE, role: 'observee' },
    ],
    components: [
      { kind: 'prometheus', name: 'prometheus', cluster: OBSERVEE, mode: 'agent', remoteWrite: [`${OBSERVER}/receive`], scrapeInterval: '5s' },
      { kind: 'receive', name: 'receive', cluster: OBSERVER, bucketPrefix: OBSERVEE },
      { kind: 'store', name: 'store', cluster: OBSERVER, bucketPrefix: OBSERVEE, syncInterval: TEST_STORE_SYNC },
      { kind: 'query', name: 'rule-query', cluster: OBSERVER, endpoints: rulerQueryEndpoints, replicaLabels: ALL_REPLICA_LABELS },
      { kind: 'ruler', name: 'ruler', cluster: OBSERVER, query: `${OBSERVER}/rule-query`, alertmanagers: [`${OBSERVER}/alertmanager`], rules: CENTRAL_ALERTING_RULES },
      { kind: 'alertmanager', name: 'alertmanager', cluster: OBSERVER },
      // What users (Grafana) query: everything, the Ruler's recording rules included.
      {
        kind: 'query',
        name: 'query',
        cluster: OBSERVER,
        endpoints: [`${OBSERVER}/store`, `${OBSERVER}/receive`, `${OBSERVER}/ruler`],
        replicaLabels: ALL_REPLICA_LABELS,
      },
      { kind: 'query-frontend', name: 'query-frontend', cluster: OBSERVER, downstream: `${OBSERVER}/query` },
    ],
  });
}

export const PRESETS: Record<string, () => Topology> = Object.fromEntries([
  ...ARCH1_VARIANTS.map((v) => [`arch1-${v}`, () => arch1(v)] as const),
  ...ARCH2_VARIANTS.map((v) => [`arch2-${v}`, () => arch2(v)] as const),
  ...JITTER_VARIANTS.map((v) => [`jitter-${v}`, () => receiveJitter(v)] as const),
  ['replication-3x-rf3', () => receiveReplication(3, 3)] as const,
  ['replication-2x-rf2', () => receiveReplication(2, 2)] as const,
  ...ARCH3_VARIANTS.map((v) => [`arch3-${v}`, () => arch3(v)] as const),
]);

export function presetByName(name: string): Topology {
  const make = PRESETS[name];
  if (!make) throw new Error(`unknown topology "${name}": choose one of ${Object.keys(PRESETS).join(', ')}`);
  return make();
}
