// Deploying a topology onto Kubernetes clusters: what every Kubernetes substrate shares once its
// cluster provider (provider.ts) has a KubeCluster per topology cluster. Each topology cluster gets
// its own namespace (two may live in one Kubernetes cluster), the infra release (workload relay,
// maybe S3), then the topology release of charts/thanos-ha-e2e with values from the plan. The test process reaches every pod through
// port-forward, so nothing depends on node addresses being reachable from it. Pods keep their data on
// a PersistentVolumeClaim where the Kubernetes cluster has a default StorageClass (storage.ts), so a
// stopped or killed instance restarts with it; on an emptyDir otherwise.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveBinary } from '../../binaries/provision.ts';
import { planTopology, type Plan, type PortName, type ProcessPlan, type S3Access } from '../../plan/index.ts';
import { Bucket, type S3Endpoint } from '../../s3/bucket.ts';
import type { Topology } from '../../topology/model.ts';
import { abortWaitsWhen, waitFor } from '../../wait.ts';
import { HarnessServers, type RemoteExporter } from '../../servers/index.ts';
import { workloadOf } from '../../workload/series.ts';
import { checkLink, type LinkCutOptions } from '../links.ts';
import { registerCleanup } from '../teardown.ts';
import type { KubernetesSubstrateName, RunningTopology, ServiceControls, Substrate, UpOptions } from '../types.ts';
import { clusterOf, kubeAddressing, localName, type Exposure } from './addressing.ts';
import { apiMessage, isReady, OWNER_LABEL, RUN_LABEL, type KubeCluster } from './cluster.ts';
import { infraS3Outage, infraValues, RELAY_NAME, S3_CREDENTIALS, S3_NAME, S3_PORT } from './infra.ts';
import { ownerLabel } from './janitor.ts';
import { forwardLocalPort, type LocalForward } from './port-forward.ts';
import type { LinkSwitch } from './link-cut.ts';
import type { ClusterProvider, ImageName, ProvidedClusters, S3Outage } from './provider.ts';
import { chooseStorage, STORAGE_CLASS_ENV } from './storage.ts';
import { chartValues, clustersOf, grownConfigMaps, LABEL_PREFIX, POD_LABEL, type Storage } from './values.ts';
import { RELAY_PUBLIC_PORT, RELAY_TUNNEL_PORT, WorkloadTunnel } from './workload-relay/tunnel.ts';

const READY_TIMEOUT_MS = 5 * 60_000;
const GONE_TIMEOUT_MS = 2 * 60_000;
const CLUSTER_DOMAIN = 'cluster.local';
/** Pod annotation growHashrings sets when it rewrites the pod's hashrings ConfigMap: its kubelet then projects it at once. */
export const HASHRINGS_CHANGED_ANNOTATION = `${LABEL_PREFIX}/hashrings-changed-at`;


export interface KubeDeployOptions extends UpOptions, ProvidedClusters {
  substrate: KubernetesSubstrateName;
  /** The provisioned helm binary. */
  helm: string;
  /** THANOS_HA_E2E_STORAGE_CLASS: empty for each cluster's default StorageClass, "emptyDir", or a class name (storage.ts). */
  storageClass?: string;
}

const fsName = (id: string) => id.replace('/', '_');
const podName = (p: ProcessPlan) => `${localName(p.pod)}-0`;

export async function deployTopology(topology: Topology, opts: KubeDeployOptions): Promise<RunningTopology> {
  const onProgress = opts.onProgress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const runId = opts.namespacePrefix;
  const namespaceOf = (cluster: string) => `${opts.namespacePrefix}-${cluster}`.slice(0, 63);
  const clusterFor = (cluster: string): KubeCluster => {
    const c = opts.clusters[cluster];
    if (!c) throw new Error(`no Kubernetes cluster for topology cluster "${cluster}" (have: ${Object.keys(opts.clusters).join(', ')})`);
    return c;
  };
  const image = (name: ImageName) => opts.images[name] ?? failNow(`no image for ${name}`);
  const runDir = opts.runDir ? join(opts.runDir, 'deploy') : await mkdtemp(join(tmpdir(), `thanos-ha-e2e-${opts.substrate}-`));
  await mkdir(runDir, { recursive: true });

  let servers: HarnessServers | undefined;
  let exporter: RemoteExporter | undefined;
  let bucket: Bucket | undefined;
  const tunnels: WorkloadTunnel[] = [];
  const forwards: LocalForward[] = [];
  const kubeClusters = () => [...new Set(Object.values(opts.clusters))];
  /** The data volumes of each Kubernetes cluster's pods; those with claims have volumes to wait for at teardown. */
  const storageOf = new Map<KubeCluster, Storage>();
  let running: KubeTopology | undefined;
  const unwatch = abortWaitsWhen(() => running?.failure());
  const stopEverything = async () => {
    unwatch();
    running?.stopWatching();
    const steps: [string, () => Promise<unknown> | unknown][] = [
      ['workload tunnels', () => tunnels.forEach((t) => t.close())],
      ['port-forwards', () => Promise.all(forwards.map((f) => f.close()))],
      ['workload exporter', () => exporter?.close()],
      ['harness servers', () => servers?.close()],
      ['S3 client', () => bucket?.close()],
      ['namespaces', () => opts.disposableClusters || deleteNamespaces(kubeClusters(), new Set([...storageOf].filter(([, s]) => s.type === 'persistentVolumeClaim').map(([c]) => c)), onProgress)],
      ['substrate', () => opts.release()],
      ['values files', () => (opts.keep ? undefined : rm(runDir, { recursive: true, force: true }))],
    ];
    for (const [what, step] of steps) {
      try {
        await step();
      } catch (err) {
        onProgress(`teardown of ${what} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  };
  // On a hard exit there is no time for API calls: the next run's janitor deletes namespaces whose
  // owner is gone. The harness servers' worker thread ends with this process.
  const teardown = registerCleanup(`${opts.substrate} run ${runId}`, stopEverything, () => undefined);

  try {
    const used = clustersOf(planTopology(topology, kubeAddressing(topology, placeholder(namespaceOf))));
    // Before anything is created: a StorageClass asked for that a cluster lacks fails here.
    for (const cluster of new Set(used.map(clusterFor))) {
      const choice = chooseStorage(await cluster.storageClasses(), cluster.context, opts.storageClass);
      storageOf.set(cluster, choice.storage);
      onProgress(choice.line);
    }
    const labels = { [RUN_LABEL]: runId, [OWNER_LABEL]: ownerLabel() };
    for (const cluster of used) await clusterFor(cluster).createNamespace(namespaceOf(cluster), labels);
    onProgress(`namespaces ${used.map((c) => `${clusterFor(c).context}/${namespaceOf(c)}`).join(', ')}`);

    // Infra first: the topology's pods dial the relay and S3 as soon as they start.
    const s3Cluster = opts.s3 ? undefined : used[0]!;
    if (s3Cluster && new Set(used.map(clusterFor)).size > 1) {
      throw new Error('the run\'s own S3 only serves clusters that share one Kubernetes cluster: set THANOS_HA_E2E_S3_ENDPOINT (and bucket, keys) to an S3 every cluster reaches');
    }
    for (const cluster of used) {
      const values = infraValues({
        topology: topology.name,
        cluster,
        namespace: namespaceOf(cluster),
        relayImage: image('workload-relay'),
        ...(cluster === s3Cluster ? { s3Image: image('versitygw'), s3Storage: storageOf.get(clusterFor(cluster))! } : {}),
        imagePullPolicy: opts.imagePullPolicy,
      });
      await clusterFor(cluster).install(opts.helm, 'infra', values, runDir);
    }
    await Promise.all(
      used.flatMap((cluster) =>
        [RELAY_NAME, ...(cluster === s3Cluster ? [S3_NAME] : [])].map((name) => clusterFor(cluster).waitPodReady(namespaceOf(cluster), `${name}-0`, READY_TIMEOUT_MS, onProgress)),
      ),
    );

    // The exporter serves from a worker thread, apart from the test's event loop; the tunnels to the
    // relay pods stay in this thread and reach it on 127.0.0.1.
    servers = await HarnessServers.start({ onFailure: (reason) => onProgress(`[${topology.name}] component failed: ${reason}`) });
    exporter = await servers.startExporter({ host: '127.0.0.1', port: 0, workload: workloadOf(topology) });
    for (const cluster of used) {
      const tunnel = new WorkloadTunnel(clusterFor(cluster).kubeConfig, { namespace: namespaceOf(cluster), pod: `${RELAY_NAME}-0`, port: RELAY_TUNNEL_PORT }, exporter.port, onProgress);
      tunnels.push(tunnel);
      await tunnel.start();
    }

    let s3: { pods: S3Access; test: S3Endpoint };
    if (opts.s3) s3 = opts.s3;
    else {
      const s3Forward = await forwardLocalPort(clusterFor(s3Cluster!).kubeConfig, async () => ({ namespace: namespaceOf(s3Cluster!), pod: `${S3_NAME}-0`, port: S3_PORT }), onProgress);
      forwards.push(s3Forward);
      s3 = {
        pods: { endpoint: `${S3_NAME}.${namespaceOf(s3Cluster!)}.svc.${CLUSTER_DOMAIN}:${S3_PORT}`, bucket: topology.bucket, insecure: true, ...S3_CREDENTIALS },
        test: { url: `http://127.0.0.1:${s3Forward.port}`, bucket: topology.bucket, ...S3_CREDENTIALS },
      };
    }
    bucket = new Bucket(s3.test);
    if (!opts.s3 || opts.s3.createBucket) await bucket.create();

    const addressing = kubeAddressing(topology, {
      namespace: namespaceOf,
      clusterDomain: CLUSTER_DOMAIN,
      s3: s3.pods,
      workloadSdUrl: (from) => `http://${RELAY_NAME}.${namespaceOf(clusterOf(from))}.svc.${CLUSTER_DOMAIN}:${RELAY_PUBLIC_PORT}/sd?scraper=${encodeURIComponent(from)}`,
      ...(opts.crossCluster ? { crossCluster: opts.crossCluster } : {}),
    });
    const plan = planTopology(topology, addressing);

    // Local ports for every instance port and Service, resolved to a pod at each connection.
    const ports = new Map<string, number>();
    for (const p of plan.processes) {
      const cluster = clusterFor(p.cluster);
      for (const port of p.ports) {
        const target = { namespace: namespaceOf(p.cluster), pod: podName(p), port: addressing.portOf(p.id, port) };
        const forward = await forwardLocalPort(cluster.kubeConfig, async () => target, onProgress);
        forwards.push(forward);
        ports.set(`${p.id}:${port}`, forward.port);
      }
    }
    const byId = new Map(plan.processes.map((p) => [p.id, p]));
    for (const s of plan.services) {
      const cluster = clusterFor(s.cluster);
      const namespace = namespaceOf(s.cluster);
      const port = addressing.portOf(s.id, s.port);
      // Like `kubectl port-forward svc/...`: the first ready backend at the time of each connection.
      const forward = await forwardLocalPort(
        cluster.kubeConfig,
        async () => {
          for (const backend of s.backends) {
            const pod = await cluster.pod(namespace, podName(byId.get(backend)!));
            if (pod && isReady(pod)) return { namespace, pod: pod.metadata!.name!, port };
          }
          throw new Error(`no ready backend behind ${s.id}`);
        },
        onProgress,
      );
      forwards.push(forward);
      ports.set(`${s.id}:${s.port}`, forward.port);
    }

    const started = Date.now();
    for (const cluster of clustersOf(plan)) {
      const storage = storageOf.get(clusterFor(cluster))!;
      const values = chartValues(plan, cluster, { addressing, images: opts.images, imagePullPolicy: opts.imagePullPolicy, storage, startStopped: true });
      await writeFile(join(runDir, `plan-${cluster}.json`), JSON.stringify(plan.processes.filter((p) => p.cluster === cluster), null, 2));
      await clusterFor(cluster).install(opts.helm, topology.name, values, runDir);
    }
    const deferred = plan.processes.filter((p) => p.deferred).length;
    onProgress(`installed ${topology.name}: ${plan.processes.length} instances in ${new Set(plan.processes.map((p) => p.pod)).size} pods, starting them in the plan's order${deferred ? ` (${deferred} left for the scenario to start)` : ''}`);
    const s3Outage = s3Cluster
      ? infraS3Outage(clusterFor(s3Cluster), namespaceOf(s3Cluster), storageOf.get(clusterFor(s3Cluster))!, onProgress)
      : (opts.s3Outage ?? `the run's S3 (${s3.pods.endpoint}) is not run by the harness (THANOS_HA_E2E_S3_ENDPOINT), which cannot stop it: unset THANOS_HA_E2E_S3_ENDPOINT for the run's own S3`);
    running = new KubeTopology({ substrate: opts.substrate, topology, plan, runDir, bucket, exporter, servers, ports, namespaceOf, clusterFor, teardown, onProgress, links: opts.links, s3Outage, exposures: addressing.exposures() });
    const topologyRunning = running;
    await startInWaves(plan, (id) => topologyRunning.start(id), onProgress);
    running.watchForFailures();
    onProgress(`  all ${plan.processes.length - deferred} instances started at bring-up ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    return running;
  } catch (err) {
    if (opts.logsOnFailure) {
      const files = await collectNamespaceLogs(kubeClusters(), opts.logsOnFailure).catch(() => []);
      onProgress(`bring-up failed: ${files.length} pod logs copied to ${opts.logsOnFailure}`);
    }
    await teardown();
    throw err;
  }
}

class KubeTopology implements RunningTopology {
  readonly substrate: KubernetesSubstrateName;
  readonly topology: Topology;
  readonly plan: Plan;
  readonly runDir: string;
  readonly bucket: Bucket;
  readonly workload: RemoteExporter;
  readonly #servers: HarnessServers;
  readonly #ports: Map<string, number>;
  readonly #namespaceOf: (cluster: string) => string;
  readonly #clusterFor: (cluster: string) => KubeCluster;
  readonly #teardown: () => Promise<void>;
  readonly #onProgress: (line: string) => void;
  readonly #links: LinkSwitch | undefined;
  /** The NodePort Services through which the other clusters dial a target (addressing.ts). */
  readonly #exposures: Exposure[];
  /** How stopS3/startS3 cause the outage, or why they cannot. */
  readonly #s3Outage: S3Outage | string;
  readonly #services = new Map<string, ServiceControls>();
  /** Pods the harness stopped or killed: their going away is no failure. */
  readonly #expectedDown = new Set<string>();
  #failure: string | undefined;
  /** Restarts of each container (namespace/pod/container) that were the runtime failing to start it. */
  readonly #startErrors = new Map<string, number>();
  #watcher: ReturnType<typeof setInterval> | undefined;

  constructor(init: {
    substrate: KubernetesSubstrateName;
    topology: Topology;
    plan: Plan;
    runDir: string;
    bucket: Bucket;
    exporter: RemoteExporter;
    servers: HarnessServers;
    ports: Map<string, number>;
    namespaceOf: (cluster: string) => string;
    clusterFor: (cluster: string) => KubeCluster;
    teardown: () => Promise<void>;
    onProgress: (line: string) => void;
    links: LinkSwitch | undefined;
    s3Outage: S3Outage | string;
    exposures: Exposure[];
  }) {
    this.substrate = init.substrate;
    this.topology = init.topology;
    this.plan = init.plan;
    this.runDir = init.runDir;
    this.bucket = init.bucket;
    this.workload = init.exporter;
    this.#servers = init.servers;
    this.#ports = init.ports;
    this.#namespaceOf = init.namespaceOf;
    this.#clusterFor = init.clusterFor;
    this.#teardown = init.teardown;
    this.#onProgress = init.onProgress;
    this.#links = init.links;
    this.#exposures = init.exposures;
    this.#s3Outage = init.s3Outage;
    // A pod of an instance that joins later does not exist until the scenario starts it.
    for (const p of this.plan.processes) if (p.deferred) this.#expectedDown.add(podName(p));
  }

  url(target: string, port: PortName = 'http'): string {
    const p = this.#ports.get(`${target}:${port}`);
    if (p === undefined) throw new Error(`no ${port} port for "${target}" in topology ${this.topology.name}`);
    return `http://127.0.0.1:${p}`;
  }

  #instance(id: string): ProcessPlan {
    return this.plan.processes.find((p) => p.id === id) ?? failNow(`no instance "${id}" in topology ${this.topology.name}: ${this.plan.processes.map((p) => p.id).join(', ')}`);
  }

  /** Ready as the process substrate means it: the pod is Ready (every container's probe passes). */
  async waitReady(id: string): Promise<void> {
    const p = this.#instance(id);
    await this.#clusterFor(p.cluster).waitPodReady(this.#namespaceOf(p.cluster), podName(p), READY_TIMEOUT_MS, this.#onProgress);
  }

  // An instance is stopped with its pod: a sidecar goes with its Prometheus, as on Kubernetes.
  async stop(id: string): Promise<void> {
    await this.#takeDown(id, false);
  }

  // Kubernetes cannot SIGKILL a container: the fastest is a 1 s grace period, which the kubelet turns into
  // SIGTERM and SIGKILL 2 s later. Returns once the pod is gone, which it is only when its containers are.
  async kill(id: string): Promise<void> {
    await this.#takeDown(id, true);
  }

  /** Scales the instance's StatefulSet to 0 (and, to kill, deletes its pod at once); waits until the pod is gone. */
  async #takeDown(id: string, kill: boolean): Promise<void> {
    const p = this.#instance(id);
    this.#expectedDown.add(podName(p));
    const cluster = this.#clusterFor(p.cluster);
    const namespace = this.#namespaceOf(p.cluster);
    await cluster.scale(namespace, localName(p.pod), 0);
    if (kill) await cluster.deletePodFast(namespace, podName(p));
    await cluster.waitPodGone(namespace, podName(p), GONE_TIMEOUT_MS, this.#onProgress);
  }

  /**
   * Rewrites the hashrings ConfigMap of every instance whose ring grows, then annotates its pod.
   * Receive watches its file with fsnotify on the path (pkg/receive/config.go ConfigWatcher), which
   * follows the ConfigMap volume's symlinks to the file in the kubelet's timestamped directory. The
   * kubelet projects a changed ConfigMap by writing a new directory, swapping the ..data symlink and
   * then deleting the old directory (pkg/volume/util/atomic_writer.go): deleting the watched file
   * sends IN_ATTRIB and IN_DELETE_SELF, and Receive rereads on any event but Chmod|Remove together, so
   * it reads the new ring at once. (The watch is gone afterwards: a second change would wait for
   * --receive.hashrings-file-refresh-interval, 5m; the ring grows once.) What takes long is the
   * projection: the kubelet projects a changed ConfigMap at its next sync of the pod, every 60-90 s
   * (syncFrequency 1m, jittered). A change of the pod's annotations makes it sync the pod, which
   * remounts ConfigMap volumes (volumemanager WaitForAttachAndMount, ReprocessPod): what
   * thanos-receive-controller does with --annotate-pods-on-change, and what a ring change on
   * Kubernetes looks like when it is prompt. Every ConfigMap is written before any pod is annotated:
   * the kubelet projects what its watch of the ConfigMap holds when the pod's update reaches it, and
   * the API server has the ConfigMap's change first (two watches, so ordered in practice, not by
   * contract; a pod synced before its ConfigMap's change arrived gets it at the next periodic sync).
   * The joining instances start with the grown ring: start() them first, as on the process substrate.
   */
  async growHashrings(): Promise<string[]> {
    const grown = grownConfigMaps(this.plan);
    await Promise.all(grown.map((g) => this.#clusterFor(g.cluster).patchConfigMapData(this.#namespaceOf(g.cluster), g.configMap, g.data)));
    const at = new Date().toISOString();
    await Promise.all(grown.map((g) => this.#clusterFor(g.cluster).annotatePod(this.#namespaceOf(g.cluster), `${g.pod}-0`, { [HASHRINGS_CHANGED_ANNOTATION]: at })));
    this.#onProgress(`[${this.topology.name}] hashrings grown: ${grown.map((g) => `${g.instance} (ConfigMap ${g.configMap}, pod annotated)`).join(', ') || 'none had replicas joining'}`);
    return grown.map((g) => g.instance);
  }

  async cutLink(a: string, b: string, options: LinkCutOptions = {}): Promise<void> {
    const mode = options.mode ?? 'reset';
    await this.#link(`cut (${mode})`, a, b, (links) => links.cut(a, b, mode));
  }

  async restoreLink(a: string, b: string): Promise<void> {
    await this.#link('restore', a, b, (links) => links.restore(a, b));
  }

  async #link(action: string, a: string, b: string, run: (links: LinkSwitch) => Promise<void>): Promise<void> {
    checkLink(this.topology, a, b);
    if (!this.#links) throw new Error(`the ${this.substrate} substrate cannot ${action} the link ${a} <-> ${b}: it runs on clusters whose network it does not own (cut links on process, kind or k3s)`);
    await run(this.#links);
    this.#onProgress(`[${this.topology.name}] link ${a} <-> ${b} ${action === 'restore' ? 'restored' : action}`);
  }

  async stopS3(): Promise<void> {
    await this.#outage().stop();
    this.#onProgress(`[${this.topology.name}] S3 stopped`);
  }

  async startS3(): Promise<void> {
    await this.#outage().start();
    this.#onProgress(`[${this.topology.name}] S3 started again`);
  }

  #outage(): S3Outage {
    if (typeof this.#s3Outage === 'string') throw new Error(`the ${this.substrate} substrate cannot stop S3: ${this.#s3Outage}`);
    return this.#s3Outage;
  }

  async start(id: string): Promise<void> {
    const p = this.#instance(id);
    await this.#clusterFor(p.cluster).scale(this.#namespaceOf(p.cluster), localName(p.pod), 1);
    await this.waitReady(id);
    this.#expectedDown.delete(podName(p));
  }

  failure(): string | undefined {
    return this.#failure ?? this.#servers.failure();
  }

  /** Polls the pods every 2 s: a container that restarted, or a pod gone that nobody stopped, is a failure. */
  watchForFailures(): void {
    const pods = [...new Map(this.plan.processes.map((p) => [podName(p), p])).values()];
    let busy = false;
    this.#watcher = setInterval(() => {
      if (busy || this.#failure) return;
      busy = true;
      void (async () => {
        for (const p of pods) {
          const name = podName(p);
          if (this.#expectedDown.has(name)) continue;
          const pod = await this.#clusterFor(p.cluster).pod(this.#namespaceOf(p.cluster), name);
          if (this.#expectedDown.has(name)) continue; // stopped while we asked
          if (!pod) this.#failure = `${p.id}: pod ${name} is gone, and the harness did not stop it`;
          else {
            const judged = judgeRestarts(pod.status?.containerStatuses ?? [], this.#startErrors, `${this.#namespaceOf(p.cluster)}/${name}`);
            if (judged.failure) this.#failure = `${p.id}: ${judged.failure}; its log is collected on failure`;
            for (const line of judged.tolerated) this.#onProgress(`[${this.topology.name}] ${p.id}: ${line}`);
          }
          if (this.#failure) return this.#onProgress(`[${this.topology.name}] component failed: ${this.#failure}`);
        }
      })().finally(() => (busy = false));
    }, 2_000);
    this.#watcher.unref();
  }

  stopWatching(): void {
    clearInterval(this.#watcher);
  }

  service(id: string): ServiceControls {
    const existing = this.#services.get(id);
    if (existing) return existing;
    const s = this.plan.services.find((x) => x.id === id) ?? failNow(`no service "${id}" in topology ${this.topology.name}: ${this.plan.services.map((x) => x.id).join(', ') || 'none'}`);
    const cluster = this.#clusterFor(s.cluster);
    const namespace = this.#namespaceOf(s.cluster);
    // The Service, and the NodePort Service through which the other clusters dial it (values.ts
    // gives both the same selector): a client in another cluster goes where one in this cluster goes.
    const names = [localName(s.id), ...new Set(this.#exposures.filter((e) => e.target === s.id).map((e) => e.service))];
    const podOf = (backend: string) => localName(this.#instance(backend).pod);
    // Selector changes take effect for new connections once the EndpointSlices (and kube-proxy) follow.
    const select = async (pod: string | null, expect: (addresses: string[], podIps: Map<string, string>) => boolean, what: string) => {
      const changedAt = Date.now();
      for (const name of names) await cluster.setServiceSelector(namespace, name, { [POD_LABEL]: pod });
      await waitFor(
        `${id} to ${what}`,
        async (note) => {
          const podIps = new Map<string, string>();
          for (const b of s.backends) {
            const found = await cluster.pod(namespace, podName(this.#instance(b)));
            if (found?.status?.podIP && isReady(found)) podIps.set(podOf(b), found.status.podIP);
          }
          let done = true;
          const seen: string[] = [];
          for (const name of names) {
            const addresses = await cluster.readyEndpoints(namespace, name);
            seen.push(`${name}: ${addresses.join(', ') || 'none'}`);
            done &&= expect(addresses, podIps);
          }
          note(`endpoints ${seen.join('; ')}`);
          return done ? true : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 250, onProgress: this.#onProgress },
      );
      // Where kube-proxy's metrics are out of reach (EKS), new connections may follow a moment later.
      await cluster.waitKubeProxySynced(changedAt, this.#onProgress);
    };
    const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));
    const controls: ServiceControls = {
      cut: () => select('none', (addresses) => addresses.length === 0, 'have no endpoints'),
      restore: () => select(null, (addresses, ips) => sameSet(addresses, [...ips.values()]), 'select all its ready backends'),
      pin: (backend) =>
        backend === undefined
          ? controls.restore()
          : select(podOf(s.backends[backend] ?? failNow(`${id} has no backend ${backend}`)), (addresses, ips) => sameSet(addresses, [ips.get(podOf(s.backends[backend]!))!].filter(Boolean)), `send to ${s.backends[backend]} only`),
      // kube-proxy does not count connections; the process substrate's proxy does.
      connections: [],
    };
    this.#services.set(id, controls);
    return controls;
  }

  async collectLogs(dir: string): Promise<string[]> {
    await mkdir(dir, { recursive: true });
    const files: string[] = [];
    for (const p of this.plan.processes) {
      const file = join(dir, `${fsName(p.id)}.log`);
      await writeFile(file, await this.#clusterFor(p.cluster).logs(this.#namespaceOf(p.cluster), podName(p), localName(p.component)));
      files.push(file);
    }
    for (const cluster of new Set(this.plan.processes.map((p) => p.cluster))) {
      const file = join(dir, `${cluster}.events.txt`);
      await writeFile(file, await this.#clusterFor(cluster).events(this.#namespaceOf(cluster)));
      files.push(file);
    }
    return files;
  }

  async close(): Promise<void> {
    await this.#teardown();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Starts pods in waves, as the process substrate starts processes: a pod starts once every instance
 * its processes dial first (`after`) is ready. A Ruler that evaluated before its Query answered would
 * count failed evaluations the scenario did not cause.
 */
export async function startInWaves(plan: Plan, start: (instance: string) => Promise<void>, onProgress: (line: string) => void): Promise<void> {
  const pods = new Map<string, ProcessPlan[]>();
  for (const p of plan.processes) pods.set(p.pod, [...(pods.get(p.pod) ?? []), p]);
  // A receive that joins a hashring later is started by its scenario (RunningTopology.start): its
  // pod stays at 0, and nothing waits for it (a Prometheus writing through a Service over its ring does not).
  const deferred = new Set(plan.processes.filter((p) => p.deferred).map((p) => p.id));
  const ready = new Set<string>();
  let remaining = [...pods.keys()].filter((pod) => !pods.get(pod)!.some((p) => deferred.has(p.id)));
  while (remaining.length) {
    const wave = remaining.filter((pod) => pods.get(pod)!.every((p) => p.after.every((a) => ready.has(a) || deferred.has(a) || pods.get(pod)!.some((q) => q.id === a))));
    if (!wave.length) throw new Error(`circular start order among pods ${remaining.join(', ')}`);
    await Promise.all(wave.map((pod) => start(pods.get(pod)![0]!.id)));
    for (const pod of wave) for (const p of pods.get(pod)!) ready.add(p.id);
    onProgress(`  ready: ${wave.map((pod) => localName(pod)).join(', ')}`);
    remaining = remaining.filter((pod) => !wave.includes(pod));
  }
}

/**
 * Deletes the run's namespaces and waits until they are gone. Their claims go with them (and with
 * their StatefulSets: whenDeleted Delete); the volumes bound to those claims are cluster-scoped and
 * deleted after them by the class's provisioner (reclaim policy Delete): waited for too, in the
 * clusters in `withClaims`. Volumes of a class that retains them are named, not deleted.
 */
export async function deleteNamespaces(clusters: KubeCluster[], withClaims: Set<KubeCluster>, onProgress: (line: string) => void): Promise<void> {
  const deleted = clusters.flatMap((c) => c.created.map((ns) => ({ c, ns })));
  await Promise.all(clusters.map((c) => c.deleteNamespaces()));
  // Wait until they are gone, so that "nothing left behind" is checked, not assumed.
  await Promise.all(
    deleted.map(({ c, ns }) =>
      waitFor(`namespace ${ns} to be deleted`, async () => ((await c.core.readNamespace({ name: ns }).catch(() => undefined)) ? undefined : true), {
        timeoutMs: GONE_TIMEOUT_MS,
        intervalMs: 500,
        onProgress,
      }),
    ),
  );
  await Promise.all([...withClaims].map((c) => waitVolumesDeleted(c, deleted.filter((d) => d.c === c).map((d) => d.ns), onProgress)));
}

async function waitVolumesDeleted(c: KubeCluster, namespaces: string[], onProgress: (line: string) => void): Promise<void> {
  if (namespaces.length === 0) return;
  try {
    await c.volumesClaimedIn(namespaces);
  } catch (err) {
    return onProgress(`the PersistentVolumes of ${namespaces.join(', ')} in ${c.context} cannot be listed (${apiMessage(err)}): their StorageClass's reclaim policy decides whether they go`);
  }
  const left = await waitFor(
    `the PersistentVolumes of ${namespaces.join(', ')} to be deleted`,
    async (note) => {
      const volumes = await c.volumesClaimedIn(namespaces);
      const going = volumes.filter((v) => v.reclaimPolicy === 'Delete');
      note(going.map((v) => `${v.name} (${v.claim}) ${v.phase}`).join(', '));
      return going.length === 0 ? volumes : undefined;
    },
    { timeoutMs: GONE_TIMEOUT_MS, intervalMs: 500, onProgress },
  );
  if (left.length) {
    onProgress(`kept by reclaim policy ${[...new Set(left.map((v) => v.reclaimPolicy))].join('/')}, not deleted by the harness: PersistentVolumes ${left.map((v) => `${v.name} (${v.claim})`).join(', ')} in ${c.context}`);
  }
}

/** Every container log of every namespace the run created, for a failed bring-up. */
async function collectNamespaceLogs(clusters: KubeCluster[], dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (const c of clusters) {
    for (const namespace of c.created) {
      const pods = await c.core.listNamespacedPod({ namespace });
      for (const pod of pods.items) {
        for (const container of pod.spec?.containers ?? []) {
          const file = join(dir, `${namespace}_${pod.metadata!.name}_${container.name}.log`);
          await writeFile(file, await c.logs(namespace, pod.metadata!.name!, container.name));
          files.push(file);
        }
      }
      const events = join(dir, `${namespace}.events.txt`);
      await writeFile(events, await c.events(namespace));
      files.push(events);
    }
  }
  return files;
}

function placeholder(namespaceOf: (cluster: string) => string) {
  return {
    namespace: namespaceOf,
    s3: { endpoint: 's3:0', bucket: 'b', accessKey: 'a', secretKey: 's', region: 'r', insecure: true },
    workloadSdUrl: () => 'http://relay/sd',
  };
}

/** Restarts after which a container counts as failed even if each was a StartError. */
const MAX_START_ERRORS = 2;

/**
 * Whether a pod's containers restarted on their own. A restart whose last termination is a
 * StartError (exit 128) is the container runtime failing to create the process, which then never
 * ran: on cgroup v1 runc sometimes cannot freeze the cgroup in time ("unable to freeze",
 * kubernetes/kubernetes#131087), and the kubelet simply tries again. Up to MAX_START_ERRORS of those
 * per container are reported and tolerated (counted in `seen`); any other restart is a failure.
 */
export function judgeRestarts(
  statuses: readonly { name: string; restartCount: number; lastState?: { terminated?: { reason?: string; exitCode: number } } }[],
  seen: Map<string, number>,
  pod: string,
): { failure?: string; tolerated: string[] } {
  const tolerated: string[] = [];
  for (const c of statuses) {
    const key = `${pod}/${c.name}`;
    const known = seen.get(key) ?? 0;
    if (c.restartCount <= known) continue;
    const last = c.lastState?.terminated;
    const why = last ? `${last.reason ?? 'terminated'}, exit code ${last.exitCode}` : 'unknown reason';
    if (last?.reason === 'StartError' && c.restartCount <= MAX_START_ERRORS) {
      seen.set(key, c.restartCount);
      tolerated.push(`the container runtime failed to start container ${c.name} (${why}); the kubelet started it again (${c.restartCount} of at most ${MAX_START_ERRORS} tolerated)`);
      continue;
    }
    return { failure: `container ${c.name} restarted (${why})`, tolerated };
  }
  return { tolerated };
}

function failNow(message: string): never {
  throw new Error(message);
}

/** A substrate from a provider: check its settings, resolve helm, provision, then the shared deploy path. */
export function kubernetesSubstrate(provider: ClusterProvider): Substrate {
  return {
    name: provider.name,
    async up(topology: Topology, opts: UpOptions = {}): Promise<RunningTopology> {
      const env = process.env;
      const onProgress = opts.onProgress ?? ((line: string) => process.stderr.write(`${line}\n`));
      await provider.check(topology, { env, onProgress });
      const helm = (await resolveBinary('helm', { onProgress })).path;
      const provided = await provider.provision(topology, { env, onProgress });
      // deployTopology tears down (provided.release included) when it fails.
      return deployTopology(topology, { ...opts, ...provided, substrate: provider.name, helm, storageClass: env[STORAGE_CLASS_ENV] ?? '' });
    },
  };
}
