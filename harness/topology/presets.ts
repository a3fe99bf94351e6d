// Ready-made topologies for the note's architectures, each with its faulty and fixed variants.
import { readFileSync } from 'node:fs';
import { validateTopology, type Topology, type TopologyInput } from './model.ts';
import { queryFrontendCache } from './presets-query-frontend.ts';
import { compactorDownsampling, compactorOverlap } from './presets-compactor.ts';
import { storePartitions } from './presets-store-partitions.ts';
import { s3Outage } from './presets-s3-outage.ts';
import { linkCut } from './presets-link.ts';
import { OBSERVER, OBSERVEE, TEST_STORE_SYNC, TEST_SIDECAR_REFRESH } from './preset-defaults.ts';

export const ARCH1_VARIANTS = ['store-only', 'store-and-sidecar', 'side-by-side'] as const;
export type Arch1Variant = (typeof ARCH1_VARIANTS)[number];

type ComponentInput = TopologyInput['components'][number];

/** A Query over `endpoints` and the Query Frontend in front of it, named `${name}` and `${name}-frontend`. */
function queryPath(name: string, endpoints: string[], replicaLabels: string[]): ComponentInput[] {
  return [
    { kind: 'query', name, cluster: OBSERVER, endpoints, replicaLabels },
    { kind: 'query-frontend', name: `${name}-frontend`, cluster: OBSERVER, downstream: `${OBSERVER}/${name}` },
  ];
}

/** The Query of each query path in Arch 1's side-by-side preset (a variant alone has one, "query"). */
export const ARCH1_SIDE_BY_SIDE = { storeOnly: 'query-store-only', storeAndSidecar: 'query' } as const;

/**
 * Arch 1 (sidecar): the observee's HA pair uploads blocks through sidecars; the observer queries S3
 * through Store. "store-only" is the note's first attempt (the newest ~2h are missing),
 * "store-and-sidecar" adds the sidecars' gRPC to Query's endpoints (the note's fix), "side-by-side"
 * has both query paths over one HA pair and one bucket.
 */
export function arch1(variant: Arch1Variant): Topology {
  const storeOnly = [`${OBSERVER}/store`];
  const storeAndSidecar = [`${OBSERVER}/store`, `${OBSERVEE}/sidecar`];
  const replicaLabels = ['prometheus_replica'];
  const queryPaths = {
    'store-only': queryPath('query', storeOnly, replicaLabels),
    'store-and-sidecar': queryPath('query', storeAndSidecar, replicaLabels),
    'side-by-side': [
      ...queryPath(ARCH1_SIDE_BY_SIDE.storeOnly, storeOnly, replicaLabels),
      ...queryPath(ARCH1_SIDE_BY_SIDE.storeAndSidecar, storeAndSidecar, replicaLabels),
    ],
  }[variant];
  const input: TopologyInput = {
    name: `arch1-${variant}`,
    description: {
      'store-only': 'Arch 1, faulty: Query reads only Store, so data not yet in a shipped 2h block is invisible',
      'store-and-sidecar': 'Arch 1, fixed: Query reads Store and every observee sidecar',
      'side-by-side': 'Arch 1, faulty and fixed side by side: one Query reads only Store, another Store and every observee sidecar',
    }[variant],
    clusters: [
      { name: OBSERVER, role: 'observer' },
      { name: OBSERVEE, role: 'observee' },
    ],
    components: [
      // Three scrapes per 15s slot: the live data catches up within seconds of a wait.
      { kind: 'prometheus', name: 'prometheus', cluster: OBSERVEE, replicas: 2, scrapeInterval: '5s' },
      { kind: 'sidecar', name: 'sidecar', cluster: OBSERVEE, prometheus: 'prometheus', prometheusRefreshInterval: TEST_SIDECAR_REFRESH },
      { kind: 'prometheus', name: 'prometheus', cluster: OBSERVER, scrapeWorkload: false, scrapeCluster: true, scrapeInterval: '5s' },
      { kind: 'store', name: 'store', cluster: OBSERVER, bucketPrefix: OBSERVEE, syncInterval: TEST_STORE_SYNC },
      ...queryPaths,
    ],
  };
  return validateTopology(input);
}

// Replica labels: as in the note (prometheus-operator's and the Ruler's), and with the labels only
// the receive path adds (its replica label and the tenant), which finding D says must be declared.
export const NOTE_REPLICA_LABELS = ['prometheus_replica', 'rule_replica'];
export const ALL_REPLICA_LABELS = [...NOTE_REPLICA_LABELS, 'receive_replica', 'tenant_id'];

export const ARCH2_VARIANTS = ['note-replica-labels', 'all-replica-labels', 'side-by-side'] as const;
export type Arch2Variant = (typeof ARCH2_VARIANTS)[number];

/**
 * The Query of each query path in Arch 2's side-by-side preset (a variant alone has one, "query").
 * storeAndSidecar is Arch 1's fixed path inside Arch 2 (no Receive), for finding F's comparison;
 * storeAndReceive reads without touching the observee (no sidecar), for F's query load.
 */
export const ARCH2_SIDE_BY_SIDE = {
  noteReplicaLabels: 'query-note-replica-labels',
  allReplicaLabels: 'query',
  storeAndSidecar: 'query-store-and-sidecar',
  storeAndReceive: 'query-store-and-receive',
} as const;

/**
 * Arch 2 (sidecar + remote write): as Arch 1, and the observee's HA pair also remote-writes to a
 * dedicated Receive in the observer, which uploads under the same prefix. Query reads Store,
 * Sidecars and Receive. "note-replica-labels" double-counts (finding D), "all-replica-labels" not;
 * "side-by-side" has both of those Queries, Arch 1's (Store and sidecars only) and one over Store
 * and Receive only (finding F).
 */
export function arch2(variant: Arch2Variant): Topology {
  const all = [`${OBSERVER}/store`, `${OBSERVEE}/sidecar`, `${OBSERVER}/receive`];
  const queryPaths = {
    'note-replica-labels': queryPath('query', all, NOTE_REPLICA_LABELS),
    'all-replica-labels': queryPath('query', all, ALL_REPLICA_LABELS),
    'side-by-side': [
      ...queryPath(ARCH2_SIDE_BY_SIDE.noteReplicaLabels, all, NOTE_REPLICA_LABELS),
      ...queryPath(ARCH2_SIDE_BY_SIDE.allReplicaLabels, all, ALL_REPLICA_LABELS),
      // All replica labels here too: Store also serves the blocks Receive uploaded under the same prefix.
      ...queryPath(ARCH2_SIDE_BY_SIDE.storeAndSidecar, [`${OBSERVER}/store`, `${OBSERVEE}/sidecar`], ALL_REPLICA_LABELS),
      ...queryPath(ARCH2_SIDE_BY_SIDE.storeAndReceive, [`${OBSERVER}/store`, `${OBSERVER}/receive`], ALL_REPLICA_LABELS),
    ],
  }[variant];
  return validateTopology({
    name: `arch2-${variant}`,
    description: {
      'note-replica-labels': 'Arch 2, faulty: replica labels as in the note, so sidecar and receive copies of a series both come back',
      'all-replica-labels': 'Arch 2, fixed: the receive replica label and tenant are replica labels too',
      'side-by-side': "Arch 2 with four Queries: the note's replica labels, all replica labels, Arch 1's Store and sidecars only, and Store and Receive only",
    }[variant],
    clusters: [
      { name: OBSERVER, role: 'observer' },
      { name: OBSERVEE, role: 'observee' },
    ],
    components: [
      // A scrape a second and a 1s batch deadline: a live slot is stored and remote-written
      // within seconds of being due (a settled slot is what D waits for).
      {
        kind: 'prometheus',
        name: 'prometheus',
        cluster: OBSERVEE,
        replicas: 2,
        remoteWrite: [`${OBSERVER}/receive`],
        scrapeInterval: '1s',
        remoteWriteBatchSendDeadline: '1s',
      },
      { kind: 'sidecar', name: 'sidecar', cluster: OBSERVEE, prometheus: 'prometheus', prometheusRefreshInterval: TEST_SIDECAR_REFRESH },
      { kind: 'prometheus', name: 'prometheus', cluster: OBSERVER, scrapeWorkload: false, scrapeCluster: true, scrapeInterval: '5s' },
      { kind: 'store', name: 'store', cluster: OBSERVER, bucketPrefix: OBSERVEE, syncInterval: TEST_STORE_SYNC },
      { kind: 'receive', name: 'receive', cluster: OBSERVER, bucketPrefix: OBSERVEE },
      ...queryPaths,
    ],
  });
}

export const JITTER_VARIANTS = ['standalone-behind-service', 'hashring-rf2'] as const;
export type JitterVariant = (typeof JITTER_VARIANTS)[number];

/**
 * How the observee's Prometheus remote-writes in receiveJitter():
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

/** The Query groups of receiveJitter(): Query replicas behind an HTTP Service ("<query>-http"), a Query Frontend in front. */
export const JITTER_QUERY_PATHS = {
  /** Through the gRPC Service, which the scenario pins so that replica i reads receive i. */
  pinned: { query: 'query', frontend: 'query-frontend' },
  /** Each replica dials every receive (standalone-behind-service only). */
  fanout: { query: 'query-fanout', frontend: 'query-fanout-frontend' },
} as const;

/**
 * Finding B, the receive "jitter": two receives behind kube-proxy-like Services for remote write
 * and gRPC, Query replicas behind a Service, Query Frontend in front. Live only, so on a 1s grid.
 * - standalone-behind-service: standalone receives (the POC, no hashring), read two ways. "query"
 *   (faulty) dials the gRPC Service, each replica pinned to one receive. "query-fanout" (fixed a)
 *   dials both receives directly (headless Service), with chain deduplication: each receive holds
 *   an interleaved part of every series, which the default penalty deduplication does not merge
 *   completely ("query-penalty", the same fan-out with it, outside any Query Frontend, shows that).
 * - hashring-rf2 (fixed b): a hashring over both with replication factor 2; "query" as the faulty one.
 */
export function receiveJitter(variant: JitterVariant, queue: JitterQueue = 'many-connections'): Topology {
  const standalone = variant === 'standalone-behind-service';
  const defaultQueue = queue === 'default';
  const replicaLabels = ['prometheus_replica', 'receive_replica'];
  const { pinned, fanout } = JITTER_QUERY_PATHS;
  const queryGroup = (path: { query: string; frontend: string }, endpoint: string, deduplicationFunc?: 'chain') => ({
    components: [
      { kind: 'query' as const, name: path.query, cluster: OBSERVER, replicas: 2, endpoints: [endpoint], replicaLabels, ...(deduplicationFunc ? { deduplicationFunc } : {}) },
      { kind: 'query-frontend' as const, name: path.frontend, cluster: OBSERVER, downstream: `${OBSERVER}/${path.query}-http` },
    ],
    service: { name: `${path.query}-http`, cluster: OBSERVER, targets: [`${OBSERVER}/${path.query}`], port: 'http' as const },
  });
  const groups = [queryGroup(pinned, `${OBSERVER}/receive-grpc`), ...(standalone ? [queryGroup(fanout, `${OBSERVER}/receive`, 'chain')] : [])];
  return validateTopology({
    name: defaultQueue ? `jitter-default-queue-${variant}` : `jitter-${variant}`,
    description:
      (standalone
        ? 'B faulty and fixed (a): 2 standalone receives behind Services; one Query pair pinned one replica per receive, another fanning out to both'
        : 'B fixed (b): a hashring over both receives with replication factor 2') +
      (defaultQueue ? `; ${JITTER_DEFAULT_QUEUE_SERIES.toLocaleString('en')} series, Prometheus' default remote-write queue` : ''),
    grid: '1s',
    ...(defaultQueue ? { workload: { series: JITTER_DEFAULT_QUEUE_SERIES } } : {}),
    clusters: [
      { name: OBSERVER, role: 'observer' },
      { name: OBSERVEE, role: 'observee' },
    ],
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
      { kind: 'receive', name: 'receive', cluster: OBSERVER, replicas: 2, mode: standalone ? 'standalone' : 'hashring', replicationFactor: standalone ? 1 : 2 },
      ...groups.flatMap((g) => g.components),
      ...(standalone ? [{ kind: 'query' as const, name: 'query-penalty', cluster: OBSERVER, endpoints: [`${OBSERVER}/receive`], replicaLabels }] : []),
    ],
    services: [
      { name: 'receive-write', cluster: OBSERVER, targets: [`${OBSERVER}/receive`], port: 'remote-write' },
      { name: 'receive-grpc', cluster: OBSERVER, targets: [`${OBSERVER}/receive`], port: 'grpc' },
      ...groups.map((g) => g.service),
    ],
  });
}

/**
 * Replication under node loss: a hashring of `receives` with replication factor `rf`, written
 * through a Service; Query fans out to every receive and deduplicates on the receive replica label.
 * The replicas hold identical samples, which chain deduplication merges exactly ("query"); the
 * default penalty deduplication ("query-penalty") may drop samples where it switches from a
 * replica with a gap (a receive that was down) to another. Live only, so on a 1s grid.
 */
export function receiveReplication(receives: number, rf: number): Topology {
  return validateTopology({
    name: `replication-${receives}x-rf${rf}`,
    description: `${receives} receives in a hashring with replication factor ${rf}`,
    grid: '1s',
    clusters: [
      { name: OBSERVER, role: 'observer' },
      { name: OBSERVEE, role: 'observee' },
    ],
    components: [
      // One shard: one remote-write connection (the one whose receive is killed), sending in append
      // order. A 1s batch deadline sends each scrape before the next (the default, 5s, would hold five).
      {
        kind: 'prometheus',
        name: 'prometheus',
        cluster: OBSERVEE,
        remoteWrite: [`${OBSERVER}/receive-write`],
        remoteWriteShards: 1,
        remoteWriteBatchSendDeadline: '1s',
      },
      { kind: 'receive', name: 'receive', cluster: OBSERVER, replicas: receives, mode: 'hashring', replicationFactor: rf },
      { kind: 'query', name: 'query', cluster: OBSERVER, endpoints: [`${OBSERVER}/receive`], replicaLabels: ['receive_replica'], deduplicationFunc: 'chain' },
      { kind: 'query', name: 'query-penalty', cluster: OBSERVER, endpoints: [`${OBSERVER}/receive`], replicaLabels: ['receive_replica'] },
    ],
    services: [{ name: 'receive-write', cluster: OBSERVER, targets: [`${OBSERVER}/receive`], port: 'remote-write' }],
  });
}

const CENTRAL_ALERTING_RULES = readFileSync(new URL('../../fixtures/rules/central-alerting.yml', import.meta.url), 'utf8');

/** Arch 3's two alerting paths. They differ only in what the Ruler's Query reads. */
export const ARCH3_PATHS = ['faulty', 'fixed'] as const;
export type Arch3Path = (typeof ARCH3_PATHS)[number];
export type Arch3PathComponent = 'rule-query' | 'ruler' | 'alertmanager' | 'query' | 'query-frontend';
/** Name of one path's component in arch3(): "fixed-ruler", "faulty-query-frontend", ... */
export const arch3ComponentName = (path: Arch3Path, component: Arch3PathComponent): string => `${path}-${component}`;

/**
 * Arch 3 (agent): the observee runs Prometheus in agent mode, remote-writing to Receive; the
 * observer's Ruler evaluates rules through Query and sends alerts to its Alertmanager. Both paths
 * run over one agent, Receive and Store, each with its own Ruler, the Ruler's Query, Alertmanager
 * and users' Query + frontend: "faulty" gives the Ruler a Query that only reads Store, where the
 * agent's fresh data is not; "fixed" reads Receive too. Live only, so on a 1s grid.
 */
export function arch3(): Topology {
  const ruleQueryEndpoints: Record<Arch3Path, string[]> = { faulty: [`${OBSERVER}/store`], fixed: [`${OBSERVER}/store`, `${OBSERVER}/receive`] };
  const ref = (path: Arch3Path, component: Arch3PathComponent) => `${OBSERVER}/${arch3ComponentName(path, component)}`;
  const alertingPath = (path: Arch3Path) => [
    { kind: 'query', name: arch3ComponentName(path, 'rule-query'), cluster: OBSERVER, endpoints: ruleQueryEndpoints[path], replicaLabels: ALL_REPLICA_LABELS },
    {
      kind: 'ruler',
      name: arch3ComponentName(path, 'ruler'),
      cluster: OBSERVER,
      query: ref(path, 'rule-query'),
      alertmanagers: [ref(path, 'alertmanager')],
      rules: CENTRAL_ALERTING_RULES,
    },
    { kind: 'alertmanager', name: arch3ComponentName(path, 'alertmanager'), cluster: OBSERVER },
    // What users (Grafana) query: everything, this path's recording rules included, and only this
    // path's ("<path>-query" and its "<path>-query-frontend").
    ...queryPath(arch3ComponentName(path, 'query'), [`${OBSERVER}/store`, `${OBSERVER}/receive`, ref(path, 'ruler')], ALL_REPLICA_LABELS),
  ];
  return validateTopology({
    name: 'arch3-central-alerting',
    description: 'Arch 3: agent -> Receive; a Ruler whose Query reads Store + Receive (fixed) and one whose Query reads only Store (faulty), each with its Alertmanager',
    grid: '1s',
    clusters: [
      { name: OBSERVER, role: 'observer' },
      { name: OBSERVEE, role: 'observee' },
    ],
    components: [
      // Two scrapes per 1s slot: the exporter serves a scraper one slot per scrape, so only a scrape
      // faster than the grid catches up after a late one (the second of a slot repeats it, and the
      // agent drops that copy). A 1s batch deadline sends each slot before the next (the default, 5s, batches five).
      {
        kind: 'prometheus',
        name: 'prometheus',
        cluster: OBSERVEE,
        mode: 'agent',
        scrapeInterval: '500ms',
        remoteWrite: [`${OBSERVER}/receive`],
        remoteWriteBatchSendDeadline: '1s',
      },
      { kind: 'receive', name: 'receive', cluster: OBSERVER, bucketPrefix: OBSERVEE },
      { kind: 'store', name: 'store', cluster: OBSERVER, bucketPrefix: OBSERVEE, syncInterval: TEST_STORE_SYNC },
      ...ARCH3_PATHS.flatMap(alertingPath),
    ],
  });
}

export const PRESETS: Record<string, () => Topology> = Object.fromEntries([
  ...ARCH1_VARIANTS.map((v) => [`arch1-${v}`, () => arch1(v)] as const),
  ...ARCH2_VARIANTS.map((v) => [`arch2-${v}`, () => arch2(v)] as const),
  ...JITTER_VARIANTS.map((v) => [`jitter-${v}`, () => receiveJitter(v)] as const),
  ...JITTER_VARIANTS.map((v) => [`jitter-default-queue-${v}`, () => receiveJitter(v, 'default')] as const),
  ['replication-3x-rf3', () => receiveReplication(3, 3)] as const,
  ['replication-2x-rf2', () => receiveReplication(2, 2)] as const,
  ['arch3-central-alerting', () => arch3()] as const,
  ['query-frontend-cache', () => queryFrontendCache()] as const,
  ['store-partitions', () => storePartitions()] as const,
  ['compactor-overlap', () => compactorOverlap()] as const,
  ['compactor-downsampling', () => compactorDownsampling()] as const,
  ['s3-outage', () => s3Outage()] as const,
  ['link-cut', () => linkCut()] as const,
]);

export function presetByName(name: string): Topology {
  const make = PRESETS[name];
  if (!make) throw new Error(`unknown topology "${name}": choose one of ${Object.keys(PRESETS).join(', ')}`);
  return make();
}
