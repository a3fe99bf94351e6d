// The typed topology model: what runs where, and who talks to whom.
// Everything else (flags, files, ports, chart values) is computed from this by harness/plan.
import { z } from 'zod';
import { durationMs } from '../time.ts';

// A DNS label (it names Kubernetes objects), short enough for the suffixes the substrates add.
const Name = z
  .string()
  .max(51, 'must be at most 51 characters')
  .regex(/^[a-z]([a-z0-9-]*[a-z0-9])?$/, 'must be lowercase letters, digits and dashes, starting with a letter and not ending with a dash');
// Kubernetes namespaces are thanos-ha-e2e-<run>-<cluster> (kube/index.ts: a 6-digit hex run; at
// most 63 characters, and kubernetes/deploy.ts cuts longer ones, which could merge two clusters).
const ClusterName = Name.refine((n) => n.length <= 42, 'must be at most 42 characters: the Kubernetes namespace thanos-ha-e2e-<run>-<cluster> has at most 63');
// What Prometheus accepts as a label name; Thanos refuses to start on others.
const LabelName = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'must be a Prometheus label name (letters, digits, underscores, not starting with a digit)');
const Duration = z.string().regex(/^(\d+(ms|s|m|h|d))+$/, 'must be a Prometheus duration such as 30s, 2h or 1h30m');
// What Thanos' --min-time/--max-time take: an RFC 3339 time, or a duration relative to now ("-6h";
// prometheus/common model.ParseDuration: each unit at most once, largest first).
const TimeOrDuration = z
  .string()
  .regex(/^(-?(?=\d)(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d))$/, 'must be an RFC 3339 time (2026-12-02T04:00:00Z) or a duration relative to now (-6h)');
// "cluster/name" of a component or a service in the same topology.
const Ref = z.string().regex(/^[a-z][a-z0-9-]*\/[a-z][a-z0-9-]*$/, 'must be "cluster/name"');

const Base = z.object({ name: Name, cluster: ClusterName });

export const PrometheusSpec = Base.extend({
  kind: z.literal('prometheus'),
  replicas: z.number().int().min(1).max(3).default(1),
  mode: z.enum(['server', 'agent']).default('server'),
  retention: Duration.default('4h'),
  // Named option: the default is Prometheus's (and the Thanos sidecar's required) 2h.
  blockDuration: Duration.default('2h'),
  // Each replica carries its own prometheus_replica external label (prometheus-operator's default).
  // false: the replicas carry identical external labels (the operator's replicaExternalLabelNameClear),
  // so their sidecars ship overlapping blocks of one label set, which halts a Compactor.
  replicaExternalLabel: z.boolean().default(true),
  // Unset: the topology's grid, one scrape per workload slot.
  scrapeInterval: Duration.optional(),
  // Scrape the deterministic workload (targets appear only once the harness arms it).
  scrapeWorkload: z.boolean().default(true),
  // Scrape every other component of its own cluster (the observer's self-monitoring).
  scrapeCluster: z.boolean().default(false),
  remoteWrite: z.array(Ref).default([]),
  // Fixed number of remote-write shards (parallel connections); unset: Prometheus' own default.
  remoteWriteShards: z.number().int().min(1).max(50).optional(),
  // Samples per remote-write request (Prometheus' max_samples_per_send, default 2000); unset: the default.
  remoteWriteMaxSamplesPerSend: z.number().int().min(1).optional(),
  // Longest a sample waits in a remote-write shard for its batch to fill (Prometheus'
  // batch_send_deadline, default 5s); unset: the default.
  remoteWriteBatchSendDeadline: Duration.optional(),
});

export const SidecarSpec = Base.extend({
  kind: z.literal('sidecar'),
  prometheus: Name, // the Prometheus component (same cluster) it runs beside, one sidecar per replica
  upload: z.boolean().default(true),
  // How often it re-reads its Prometheus' config and oldest sample time (upstream 30s): the minTime
  // Query's Stores page shows for it trails a deleted block by up to this long.
  prometheusRefreshInterval: Duration.default('30s'),
});

export const StoreSpec = Base.extend({
  kind: z.literal('store'),
  bucketPrefix: Name, // the note: one bucket, prefix = cluster name
  // Upstream default is 15m; it only delays what a test waits for, so presets shorten it.
  syncInterval: Duration.default('15m'),
  // Time-partitioned Stores (--min-time/--max-time, both inclusive): load the blocks that overlap
  // [minTime, maxTime] and serve their whole chunks that do, untrimmed, so samples past a bound come
  // back up to their chunk's edge (models/store-partitions.ts). Unset: unbounded.
  minTime: TimeOrDuration.optional(),
  maxTime: TimeOrDuration.optional(),
});

export const CompactorSpec = Base.extend({
  kind: z.literal('compactor'),
  bucketPrefix: Name,
  // Labels that tell replicas of one source apart (--deduplication.replica-label): blocks that differ
  // only in them are merged vertically. Empty: overlapping blocks of one label set halt it.
  deduplicationReplicaLabels: z.array(LabelName).default([]),
  // Make 5m and 1h blocks from raw ones of at least 40h and 10d (Thanos' default); false: --downsampling.disable.
  downsampling: z.boolean().default(true),
  // Minimum age of a new block before it is compacted (upstream 30m: a block the harness just
  // uploaded waits that long). Counted from meta.json's upload_time (set by every Thanos uploader),
  // else from its ULID's time; blocks the Compactor made itself are exempt.
  consistencyDelay: Duration.default('30m'),
  // How long a compacted-away block stays in the bucket, marked for deletion (upstream 48h).
  // 0s: still marked, then deleted within the same iteration, once its replacement is uploaded.
  deleteDelay: Duration.default('48h'),
  // It never exits (--wait, which a halt needs to show as thanos_compact_halted = 1 rather than an
  // exit): it runs one iteration at start, then again this long after each (upstream 5m).
  waitInterval: Duration.default('5m'),
  // --compact.enable-vertical-compaction (hidden upstream): merge overlapping blocks of one label
  // set, such as those a Receive with an out-of-order window writes. Implied by replica labels.
  verticalCompaction: z.boolean().default(false),
});

export const ReceiveSpec = Base.extend({
  kind: z.literal('receive'),
  replicas: z.number().int().min(1).max(5).default(1),
  // standalone: each replica keeps what it is sent, no hashring (the note's "dedicated receive").
  // hashring:   the replicas form one hashring and forward to each other (router + ingester in one).
  // router:     stateless; forwards to the hashring formed by the `ingesters` component.
  // ingester:   stores what routers forward to it.
  mode: z.enum(['standalone', 'hashring', 'router', 'ingester']).default('standalone'),
  replicationFactor: z.number().int().min(1).max(5).default(1),
  ingesters: Name.optional(),
  // Upload blocks to S3 under this prefix; unset: no upload.
  bucketPrefix: Name.optional(),
  // External label naming the receive replica (its value is the instance name).
  replicaLabel: LabelName.default('receive_replica'),
  labels: z.record(LabelName, z.string()).default({}),
  tenantHeader: z.string().min(1).default('THANOS-TENANT'),
  defaultTenant: z.string().min(1).default('default-tenant'),
  retention: Duration.default('15d'),
  // --tsdb.too-far-in-future.time-window: samples stamped later than now + this are refused (409).
  // Unset: Thanos' default, 0s, which accepts any future sample (and lets it move the head).
  tooFarInFutureWindow: Duration.optional(),
  // --tsdb.out-of-order.time-window (experimental upstream): how far behind the head's newest sample
  // a sample may still be appended. Unset: 0s, out-of-order and out-of-bounds samples are refused.
  outOfOrderWindow: Duration.optional(),
  // The head's block length (the hidden --tsdb.min-block-duration and --tsdb.max-block-duration,
  // upstream 2h). A named option for scenarios that need the head's window (half of it) short;
  // unset: Thanos' 2h.
  blockDuration: Duration.optional(),
  // --receive.hashrings-algorithm (upstream hashmod); ketama is what upstream recommends for routers.
  hashringsAlgorithm: z.enum(['hashmod', 'ketama']).optional(),
  // A hashring that grows: the last `joining` replicas are neither started at bring-up nor named in
  // any hashrings file until the scenario starts them and grows the ring (RunningTopology.growHashrings).
  // Mode hashring (they join their own ring) or ingester (they join the ring of the routers in front).
  joining: z.number().int().min(0).default(0),
});

export const RulerSpec = Base.extend({
  kind: z.literal('ruler'),
  query: Ref,
  alertmanagers: z.array(Ref).default([]),
  // Rule groups, as the YAML of a Prometheus rule file.
  rules: z.string().min(1),
  evalInterval: Duration.default('5s'),
  replicaLabel: LabelName.default('rule_replica'),
  labels: z.record(LabelName, z.string()).default({}),
});

export const AlertmanagerSpec = Base.extend({
  kind: z.literal('alertmanager'),
  groupWait: Duration.default('1s'),
  groupInterval: Duration.default('1s'),
  repeatInterval: Duration.default('1h'),
});

export const QuerySpec = Base.extend({
  kind: z.literal('query'),
  replicas: z.number().int().min(1).max(4).default(1),
  endpoints: z.array(Ref).min(1, 'a query needs at least one endpoint'),
  replicaLabels: z.array(LabelName).default([]),
  // How replicas are merged. Unset: Thanos' default, "penalty" (follows one replica, switches on
  // gaps); "chain" merges every sample of every replica (for copies with the same timestamps).
  deduplicationFunc: z.enum(['penalty', 'chain']).optional(),
  // Endpoints (of `endpoints`) kept in every query even when their health check fails (`strict` in
  // the endpoint config): one that cannot be reached fails the query, or warns with partial
  // responses. Any other is left out once a check fails, silently.
  strictEndpoints: z.array(Ref).default([]),
  // Replica i dials only instance i of each endpoint (a component with as many instances as this
  // Query has replicas): the state a Query pair reaches behind one ClusterIP Service when each
  // replica's one gRPC connection went to a different backend, made certain instead of left to
  // kube-proxy's draw and to how soon it follows a selector change.
  pairedEndpoints: z.boolean().default(false),
  // --store.response-timeout: an endpoint that sends nothing for this long within a query is given
  // up (a warning with partial responses, an error without); unset: Thanos' default, 0s (never:
  // over a link that hangs, only gRPC's keepalive ends the wait).
  storeResponseTimeout: Duration.optional(),
  // --query.timeout: the longest a query may take; unset: Thanos' default, 2m.
  queryTimeout: Duration.optional(),
});

export const QueryFrontendSpec = Base.extend({
  kind: z.literal('query-frontend'),
  downstream: Ref,
  // --query-range.split-interval; one longer than any range asked sends each request to Query whole.
  splitInterval: Duration.default('1h'),
  labelsSplitInterval: Duration.default('1h'),
  // idle_conn_timeout of --query-frontend.downstream-tripper-config-file: how long a connection to
  // its downstream stays open unused for the next request; unset: Thanos' default, 90s.
  downstreamIdleConnTimeout: Duration.optional(),
  // --query-range.max-query-parallelism: split queries of one request sent to Query at once
  // (upstream 14: a 6h range split by 1h goes as 7 at once); unset: the default.
  maxQueryParallelism: z.number().int().min(1).optional(),
  // An in-memory results cache for range queries and label requests; unset: none (Thanos' default).
  // maxFreshness: results newer than now minus this are never cached (upstream 1m); it must cover
  // the ingestion lag, or a cached answer keeps a gap that has been filled since.
  resultsCache: z.object({ maxFreshness: Duration.default('1m'), maxSize: z.string().regex(/^\d+(B|KB|MB|GB)$/).default('64MB') }).optional(),
});

export const ComponentSpec = z.discriminatedUnion('kind', [
  PrometheusSpec,
  SidecarSpec,
  StoreSpec,
  CompactorSpec,
  QuerySpec,
  QueryFrontendSpec,
  ReceiveSpec,
  RulerSpec,
  AlertmanagerSpec,
]);

// A kube-proxy-like Service: one address in front of several instances, balancing per connection.
export const ServiceSpec = z.object({
  name: Name,
  cluster: ClusterName,
  targets: z.array(Ref).min(1),
  port: z.enum(['http', 'grpc', 'remote-write']),
  // Per TCP connection, as kube-proxy: round robin (deterministic) or random (iptables mode).
  balancing: z.enum(['round-robin', 'random']).default('round-robin'),
});

export const ClusterSpec = z.object({ name: ClusterName, role: z.enum(['observer', 'observee']) });

/** Most series a run can ask for: 10M is already more than one 24 GiB machine holds. */
export const MAX_SERIES = 10_000_000;

/**
 * Churn (issue 18, workload/series.ts): every `period`, `fraction` of the pods is replaced by new
 * ones (new pod names, the same slots). Cluster shape only; the period a multiple of the grid.
 */
export const ChurnSpec = z.object({
  fraction: z.number().gt(0).max(1),
  period: z.string().regex(/^[1-9]\d*[smh]$/, 'must be a whole number of seconds, minutes or hours, such as 10m or 1h'),
});

export const WorkloadSpec = z.object({
  series: z.number().int().min(1).max(MAX_SERIES).default(10),
  shape: z.enum(['flat', 'cluster']).default('flat'),
  namespaces: z.number().int().min(1).default(10),
  containersPerPod: z.number().int().min(1).default(2),
  churn: ChurnSpec.optional(),
});

export const TopologySpec = z.object({
  name: Name,
  description: z.string(),
  // The workload grid: one sample per series every `grid`, live and in the history. 15s where a
  // finding needs hours of history across 2h blocks; a short one (1s) where it needs live remote
  // write only. Whole seconds: a workload value encodes the second it belongs to.
  grid: z.string().regex(/^[1-9]\d*s$/, 'must be whole seconds, such as 1s or 15s').default('15s'),
  // The workload's size and label shape: `flat` (the findings' default: one metric, a `series` label
  // per series) or `cluster` (several counters and gauges with namespace, pod and container labels,
  // as in a Kubernetes cluster: what runs at scale, `--series N`).
  workload: WorkloadSpec.prefault({}),
  clusters: z.array(ClusterSpec).min(1),
  bucket: Name.refine((n) => n.length >= 3, 'must be at least 3 characters (an S3 bucket name)').default('thanos'),
  components: z.array(ComponentSpec).min(1),
  services: z.array(ServiceSpec).default([]),
});

export type Topology = z.output<typeof TopologySpec>;
export type WorkloadSize = z.output<typeof WorkloadSpec>;
export type TopologyInput = z.input<typeof TopologySpec>;
export type Component = z.output<typeof ComponentSpec>;
export type ComponentKind = Component['kind'];
export type Service = z.output<typeof ServiceSpec>;
export type Prometheus = z.output<typeof PrometheusSpec>;
export type Sidecar = z.output<typeof SidecarSpec>;
export type Store = z.output<typeof StoreSpec>;
export type Compactor = z.output<typeof CompactorSpec>;
export type Query = z.output<typeof QuerySpec>;
export type QueryFrontend = z.output<typeof QueryFrontendSpec>;
export type Receive = z.output<typeof ReceiveSpec>;
export type Ruler = z.output<typeof RulerSpec>;
export type Alertmanager = z.output<typeof AlertmanagerSpec>;

export class TopologyError extends Error {
  override name = 'TopologyError';
}

export const refOf = (c: { cluster: string; name: string }): string => `${c.cluster}/${c.name}`;

/** A Prometheus' scrape interval: its own, or one scrape per slot of the topology's grid. */
export const scrapeIntervalOf = (c: Prometheus, topology: { grid: string }): string => c.scrapeInterval ?? topology.grid;

/** Parses and cross-checks a topology; throws a one-line TopologyError naming the field. */
export function validateTopology(input: unknown): Topology {
  const parsed = TopologySpec.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new TopologyError(`invalid topology: ${issue.path.join('.') || '(root)'} ${issue.message}`);
  }
  const topology = parsed.data;
  const fail = (field: string, message: string): never => {
    throw new TopologyError(`invalid topology "${topology.name}": ${field} ${message}`);
  };

  // The kube substrates install the topology as a Helm release named after it, beside their "infra" one.
  if (topology.name === 'infra') fail('name', '"infra" is the name of the Kubernetes substrates\' own Helm release');
  const clusters = new Set<string>();
  topology.clusters.forEach((c, i) => {
    if (clusters.has(c.name)) fail(`clusters.${i}.name`, `"${c.name}" is declared twice`);
    clusters.add(c.name);
  });
  const byRef = new Map<string, Component | Service>();
  const add = (where: string, item: Component | Service) => {
    if (!clusters.has(item.cluster)) fail(`${where}.cluster`, `"${item.cluster}" is not a declared cluster`);
    if (byRef.has(refOf(item))) fail(`${where}.name`, `"${refOf(item)}" is declared twice`);
    byRef.set(refOf(item), item);
  };
  topology.components.forEach((c, i) => add(`components.${i}`, c));
  topology.services.forEach((s, i) => add(`services.${i}`, s));
  validateNames(topology, fail);
  const churn = topology.workload.churn;
  if (churn && topology.workload.shape !== 'cluster') fail('workload.churn', 'replaces pods: it needs the cluster shape (workload.shape: cluster)');
  if (churn && durationMs(churn.period) % durationMs(topology.grid) !== 0) fail('workload.churn.period', `${churn.period} must be a multiple of the ${topology.grid} grid`);

  const kindOf = (ref: string) => {
    const item = byRef.get(ref);
    return item && 'kind' in item ? item.kind : item ? 'service' : undefined;
  };
  // port: what the referring component dials; a service must offer that one.
  const expect = (field: string, ref: string, kinds: string[], port?: ServicePort) => {
    const kind = kindOf(ref);
    if (!kind) fail(field, `refers to "${ref}", which does not exist`);
    if (!kinds.includes(kind!)) fail(field, `refers to "${ref}" (a ${kind}), expected one of: ${kinds.join(', ')}`);
    const service = byRef.get(ref) as Service;
    if (kind === 'service' && port && service.port !== port) fail(field, `refers to service "${ref}", whose port is ${service.port}, not ${port}`);
  };

  topology.components.forEach((c, i) => {
    const at = `components.${i}`;
    switch (c.kind) {
      case 'sidecar': {
        const prom = byRef.get(`${c.cluster}/${c.prometheus}`);
        if (!prom || !('kind' in prom) || prom.kind !== 'prometheus')
          fail(`${at}.prometheus`, `"${c.prometheus}" is not a Prometheus in cluster "${c.cluster}"`);
        if ((prom as Prometheus).mode === 'agent') fail(`${at}.prometheus`, 'a sidecar cannot run beside an agent-mode Prometheus');
        // On Kubernetes a sidecar is a container in its Prometheus' pod: two would want the same ports.
        const other = topology.components.findIndex((o) => o.kind === 'sidecar' && o.cluster === c.cluster && o.prometheus === c.prometheus);
        if (other < i) fail(`${at}.prometheus`, `"${c.prometheus}" already has a sidecar (components.${other})`);
        break;
      }
      case 'query':
        c.endpoints.forEach((e, j) => expect(`${at}.endpoints.${j}`, e, ['sidecar', 'store', 'query', 'receive', 'ruler', 'service'], 'grpc'));
        c.strictEndpoints.forEach((e, j) => c.endpoints.includes(e) || fail(`${at}.strictEndpoints.${j}`, `"${e}" is not one of its endpoints (${c.endpoints.join(', ')}): add it to endpoints too`));
        if (c.pairedEndpoints)
          c.endpoints.forEach((e, j) => {
            const target = byRef.get(e)!;
            if (!('kind' in target)) fail(`${at}.endpoints.${j}`, `"${e}" is a service: paired endpoints name components, whose instance i replica i dials`);
            const n = instanceNames(target as Component, topology).length;
            if (n !== c.replicas) fail(`${at}.endpoints.${j}`, `"${e}" has ${n} instances, not one per replica (${c.replicas}): pairedEndpoints needs as many`);
          });
        break;
      case 'query-frontend': {
        expect(`${at}.downstream`, c.downstream, ['query', 'service'], 'http');
        // Its downstream is one URL.
        const downstream = byRef.get(c.downstream)!;
        if ('kind' in downstream && instanceNames(downstream, topology).length > 1)
          fail(`${at}.downstream`, `"${c.downstream}" has ${instanceNames(downstream, topology).length} replicas: put a service in front`);
        // No split at all breaks answers: measured on 0.42.4, an empty range result came back as an
        // empty body under Query's Content-Length (the frontend re-encodes it longer).
        if (durationMs(c.splitInterval) === 0)
          fail(`${at}.splitInterval`, `"${c.splitInterval}": Thanos' frontend then answers an empty range result with an empty body; to send each request whole, give an interval longer than any range asked (365d, say)`);
        break;
      }
      case 'prometheus':
        c.remoteWrite.forEach((r, j) => {
          expect(`${at}.remoteWrite.${j}`, r, ['receive', 'service'], 'remote-write');
          const target = byRef.get(r);
          if (target && 'kind' in target && target.kind === 'receive' && target.replicas > 1)
            fail(`${at}.remoteWrite.${j}`, `"${r}" has ${target.replicas} replicas: write through a service (or to a router)`);
        });
        if (c.mode === 'agent' && c.scrapeCluster) fail(`${at}.scrapeCluster`, 'is not supported in agent mode');
        // The exporter serves a scraper one slot per scrape: scraping less often than the grid falls behind for good.
        if (c.scrapeWorkload && durationMs(scrapeIntervalOf(c, topology)) > durationMs(topology.grid))
          fail(`${at}.scrapeInterval`, `${c.scrapeInterval} is longer than the workload grid (${topology.grid}): the scrape would fall behind the workload`);
        break;
      case 'receive':
        validateReceive(c, at, byRef, fail, expect);
        break;
      case 'ruler':
        expect(`${at}.query`, c.query, ['query', 'service'], 'http');
        c.alertmanagers.forEach((a, j) => expect(`${at}.alertmanagers.${j}`, a, ['alertmanager', 'service'], 'http'));
        break;
      case 'store':
        // Thanos refuses to start on minTime > maxTime (equal is one instant).
        if (c.minTime && c.maxTime && isAbsolute(c.minTime) && isAbsolute(c.maxTime) && Date.parse(c.minTime) > Date.parse(c.maxTime))
          fail(`${at}.maxTime`, `${c.maxTime} is before minTime ${c.minTime}: swap them, or move one`);
        break;
      case 'compactor':
      case 'alertmanager':
        break;
    }
  });
  topology.services.forEach((s, i) =>
    s.targets.forEach((t, j) => {
      const field = `services.${i}.targets.${j}`;
      expect(field, t, ['prometheus', 'sidecar', 'store', 'query', 'receive', 'ruler', 'alertmanager']);
      const target = byRef.get(t) as Component;
      // On Kubernetes a Service selects pods of its own namespace, on one port number.
      if (target.cluster !== s.cluster) fail(field, `"${t}" is in cluster "${target.cluster}", the service in "${s.cluster}": a Kubernetes Service only selects pods of its own cluster`);
      if (!PORTS_OF[target.kind].includes(s.port)) fail(field, `"${t}" (a ${target.kind}) has no ${s.port} port`);
      const first = byRef.get(s.targets[0]!) as Component;
      if (target.kind !== first.kind) fail(field, `"${t}" is a ${target.kind}, "${s.targets[0]}" a ${first.kind}: a service balances over one kind`);
    }),
  );
  return topology;
}

type ServicePort = Service['port'];

const isAbsolute = (t: string) => /^\d{4}-/.test(t);

/** The ports each kind serves (the plan's ProcessPlan.ports, of those a service can have). */
export const PORTS_OF: Record<ComponentKind, ServicePort[]> = {
  prometheus: ['http'],
  sidecar: ['http', 'grpc'],
  store: ['http', 'grpc'],
  compactor: ['http'],
  query: ['http', 'grpc'],
  'query-frontend': ['http'],
  receive: ['http', 'grpc', 'remote-write'],
  ruler: ['http', 'grpc'],
  alertmanager: ['http'],
};

/** Local names of a component's instances, as plan/index.ts instanceIds() names them: "name", or "name-<i>" with replicas. */
export function instanceNames(c: Component, topology: Topology): string[] {
  const prometheus = c.kind === 'sidecar' ? topology.components.find((p) => p.kind === 'prometheus' && p.cluster === c.cluster && p.name === c.prometheus) : c;
  const n = prometheus && 'replicas' in prometheus ? prometheus.replicas : 1;
  return n === 1 ? [c.name] : Array.from({ length: n }, (_, i) => `${c.name}-${i}`);
}

/** Objects the Kubernetes substrates' infra release creates in every namespace (kubernetes/infra.ts RELAY_NAME, S3_NAME). */
export const RESERVED_NAMES = ['workload-relay', 's3'];
// A StatefulSet's pods carry the label controller-revision-hash=<name>-<hash of up to 10>, at most 63 characters.
const MAX_INSTANCE_NAME = 52;

/**
 * Names that share a namespace: an instance id on the process substrate; on Kubernetes each instance
 * is a StatefulSet and a Service, each service a Service, and an instance or service dialled from
 * another cluster also a "<name>-nodeport" Service (kubernetes/addressing.ts, values.ts).
 */
function validateNames(topology: Topology, fail: (field: string, message: string) => never): void {
  const taken = new Map<string, string>(); // "cluster/name" -> what it names
  const claim = (field: string, key: string, what: string) => {
    const holder = taken.get(key);
    if (holder) fail(field, `makes "${key}" (${what}), already the name of ${holder}`);
    taken.set(key, what);
  };
  // Either may be dialled from another cluster.
  const claimDialled = (field: string, cluster: string, name: string, what: string) => {
    claim(field, `${cluster}/${name}`, what);
    claim(field, `${cluster}/${name}-nodeport`, `the NodePort Service of ${what}`);
  };
  for (const cluster of topology.clusters) for (const name of RESERVED_NAMES) taken.set(`${cluster.name}/${name}`, "an object of the Kubernetes substrates' infra release");
  topology.components.forEach((c, i) => {
    for (const name of instanceNames(c, topology)) {
      if (name.length > MAX_INSTANCE_NAME)
        fail(`components.${i}.name`, `makes the instance name "${name}" (${name.length} characters): at most ${MAX_INSTANCE_NAME}, the longest StatefulSet name Kubernetes can run`);
      claimDialled(`components.${i}.name`, c.cluster, name, `an instance of components.${i}`);
    }
  });
  topology.services.forEach((s, i) => claimDialled(`services.${i}.name`, s.cluster, s.name, `services.${i}`));
}

function validateReceive(
  c: Receive,
  at: string,
  byRef: Map<string, Component | Service>,
  fail: (field: string, message: string) => never,
  expect: (field: string, ref: string, kinds: string[]) => void,
): void {
  const ingesterRef = `${c.cluster}/${c.ingesters}`;
  if (c.mode === 'router') {
    if (!c.ingesters) fail(`${at}.ingesters`, 'is required for a router');
    expect(`${at}.ingesters`, ingesterRef, ['receive']);
    if ((byRef.get(ingesterRef) as Receive).mode !== 'ingester') fail(`${at}.ingesters`, `"${c.ingesters}" must have mode "ingester"`);
  } else if (c.ingesters) {
    fail(`${at}.ingesters`, 'is only for mode "router"');
  }
  if (c.joining > 0) {
    if (c.mode !== 'hashring' && c.mode !== 'ingester') fail(`${at}.joining`, `needs a hashring to join (mode "hashring" or "ingester"), not "${c.mode}"`);
    if (c.joining >= c.replicas) fail(`${at}.joining`, `${c.joining} of ${c.replicas} replicas: at least one must be in the ring from the start`);
  }
  if (c.mode === 'standalone' || c.mode === 'ingester') {
    if (c.replicationFactor !== 1) fail(`${at}.replicationFactor`, `needs a hashring (mode "hashring" or "router"), not "${c.mode}"`);
    if (c.hashringsAlgorithm) fail(`${at}.hashringsAlgorithm`, `needs a hashring (mode "hashring" or "router"), not "${c.mode}"`);
    return;
  }
  // The ring at bring-up: without the replicas that join later.
  const members = c.mode === 'router' ? (byRef.get(ingesterRef) as Receive) : c;
  const ring = members.replicas - members.joining;
  if (c.replicationFactor > ring) fail(`${at}.replicationFactor`, `${c.replicationFactor} exceeds the ${ring} receives of the hashring${members.joining ? ` at bring-up (${members.joining} join later)` : ''}`);
}
