// One Kubernetes cluster as the kube and k3s substrates use it: a KubeConfig, the namespaces the run
// created there, Helm releases of charts/thanos-ha-e2e, pod readiness, scaling and logs.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  PatchStrategy,
  setHeaderOptions,
  StorageV1Api,
  type KubeConfig,
  type V1ContainerStatus,
  type V1Pod,
  type V1StorageClass,
} from '@kubernetes/client-node';
import { execa } from 'execa';
import { waitFor } from '../../wait.ts';
import { CHART_DIR } from './render.ts';
import { chartValuesYaml, type ChartValues } from './values.ts';

export const RUN_LABEL = 'thanos-ha-e2e.io/run';
export const OWNER_LABEL = 'thanos-ha-e2e.io/owner';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export class KubeCluster {
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly discovery: DiscoveryV1Api;
  readonly storage: StorageV1Api;
  /** Namespaces this run created (and only those are deleted). */
  readonly created: string[] = [];

  /** The topology cluster(s) it hosts, for messages. */
  readonly name: string;
  readonly kubeConfig: KubeConfig;
  /** The kubeconfig as a file, for helm. */
  readonly kubeconfigFile: string;
  /**
   * kube-proxy's metrics URL when the test process can read it (a local cluster): Service changes
   * then wait until kube-proxy has programmed them, not only until the EndpointSlices show them.
   */
  kubeProxyMetricsUrl: string | undefined;

  constructor(name: string, kubeConfig: KubeConfig, kubeconfigFile: string) {
    this.name = name;
    this.kubeConfig = kubeConfig;
    this.kubeconfigFile = kubeconfigFile;
    this.kubeProxyMetricsUrl = undefined;
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.apps = kubeConfig.makeApiClient(AppsV1Api);
    this.discovery = kubeConfig.makeApiClient(DiscoveryV1Api);
    this.storage = kubeConfig.makeApiClient(StorageV1Api);
  }

  get context(): string {
    return this.kubeConfig.getCurrentContext();
  }

  /** Creates a namespace that must not exist yet; it is labelled with the run and owner (see janitor). */
  async createNamespace(name: string, labels: Record<string, string>): Promise<void> {
    try {
      await this.core.createNamespace({ body: { metadata: { name, labels } } });
    } catch (err) {
      throw new Error(`cannot create namespace ${name} in context ${this.context}: ${apiMessage(err)}`);
    }
    this.created.push(name);
  }

  async deleteNamespaces(): Promise<void> {
    await Promise.all(this.created.map((name) => this.core.deleteNamespace({ name }).catch(() => undefined)));
    this.created.length = 0;
  }

  /** helm install of charts/thanos-ha-e2e with these values; returns without waiting (readiness is ours). */
  async install(helm: string, release: string, values: ChartValues, dir: string): Promise<void> {
    const valuesFile = join(dir, `values-${release}.yaml`);
    await writeFile(valuesFile, chartValuesYaml(values));
    const result = await execa(
      helm,
      ['install', release, CHART_DIR, '--namespace', values.namespace, '--values', valuesFile, '--kubeconfig', this.kubeconfigFile, '--kube-context', this.context],
      { reject: false, all: true, stdin: 'ignore' },
    );
    if (result.exitCode !== 0) throw new Error(`helm install ${release} into ${this.context}/${values.namespace} failed: ${lastLine(result.all)}`);
  }

  /** The cluster's StorageClasses, or why they cannot be listed (a user without cluster-wide read, for one). */
  async storageClasses(): Promise<V1StorageClass[] | { error: string }> {
    try {
      return (await this.storage.listStorageClass()).items;
    } catch (err) {
      return { error: apiMessage(err) };
    }
  }

  /** The PersistentVolumes bound (or once bound: Released) to claims in these namespaces. */
  async volumesClaimedIn(namespaces: string[]): Promise<{ name: string; claim: string; reclaimPolicy: string; phase: string }[]> {
    const list = await this.core.listPersistentVolume();
    return list.items
      .filter((pv) => pv.spec?.claimRef?.namespace && namespaces.includes(pv.spec.claimRef.namespace))
      .map((pv) => ({
        name: pv.metadata!.name!,
        claim: `${pv.spec!.claimRef!.namespace}/${pv.spec!.claimRef!.name}`,
        reclaimPolicy: pv.spec!.persistentVolumeReclaimPolicy ?? 'Delete',
        phase: pv.status?.phase ?? 'unknown',
      }));
  }

  async pod(namespace: string, name: string): Promise<V1Pod | undefined> {
    return this.core.readNamespacedPod({ name, namespace }).catch(() => undefined);
  }

  /** Waits for Ready; gives up at once, naming the container and its last log line, if one cannot start. */
  async waitPodReady(namespace: string, name: string, timeoutMs: number, onProgress: (line: string) => void): Promise<void> {
    let fatal: string | undefined;
    await waitFor(
      `pod ${namespace}/${name} to be ready`,
      async (note) => {
        const pod = await this.pod(namespace, name);
        if (!pod) return note('not created yet'), undefined;
        if (isReady(pod)) return true;
        note(podStatusLine(pod));
        const broken = (pod.status?.containerStatuses ?? []).find((c) => cannotStart(c));
        if (broken) {
          const previous = await this.core.readNamespacedPodLog({ name, namespace, container: broken.name, previous: true, tailLines: 1 }).catch(() => '');
          fatal = `${broken.name} ${broken.state!.waiting!.reason}${broken.state!.waiting!.message ? ` (${broken.state!.waiting!.message})` : ''}${previous.trim() ? `; its last log line: ${previous.trim()}` : ''}`;
        }
        return undefined;
      },
      { timeoutMs, intervalMs: 500, onProgress, abort: () => fatal },
    );
  }

  async waitPodGone(namespace: string, name: string, timeoutMs: number, onProgress: (line: string) => void): Promise<void> {
    await waitFor(`pod ${namespace}/${name} to be gone`, async () => ((await this.pod(namespace, name)) ? undefined : true), { timeoutMs, intervalMs: 250, onProgress });
  }

  async scale(namespace: string, statefulSet: string, replicas: number): Promise<void> {
    await this.apps.patchNamespacedStatefulSetScale({ name: statefulSet, namespace, body: { spec: { replicas } } }, mergePatch);
  }

  /**
   * Deletes a pod with the shortest grace period that still waits for the kubelet: its object goes
   * only once the kubelet has stopped its containers (SIGTERM, SIGKILL after the kubelet's minimum
   * of 2 s). Grace period 0 would remove the object at once, while the containers may still run and
   * still hold the pod's volume.
   */
  async deletePodFast(namespace: string, name: string): Promise<void> {
    await this.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 1 }).catch(() => undefined);
  }

  /** Sets these keys of a ConfigMap's data (a merge patch: its other keys stay). */
  async patchConfigMapData(namespace: string, name: string, data: Record<string, string>): Promise<void> {
    await this.core.patchNamespacedConfigMap({ name, namespace, body: { data } }, mergePatch);
  }

  /** Sets annotations on a pod (a merge patch). Its kubelet syncs the pod on the change: see deploy.ts growHashrings. */
  async annotatePod(namespace: string, name: string, annotations: Record<string, string>): Promise<void> {
    await this.core.patchNamespacedPod({ name, namespace, body: { metadata: { annotations } } }, mergePatch);
  }

  async setServiceSelector(namespace: string, service: string, selector: Record<string, string | null>): Promise<void> {
    await this.core.patchNamespacedService({ name: service, namespace, body: { spec: { selector } } }, mergePatch);
  }

  /**
   * Waits until kube-proxy has synced every change queued since sinceMs (its rules then carry the
   * EndpointSlices as they were at sinceMs); returns false when its metrics cannot be read.
   */
  async waitKubeProxySynced(sinceMs: number, onProgress: (line: string) => void): Promise<boolean> {
    const url = this.kubeProxyMetricsUrl;
    if (!url) return false;
    await waitFor(
      `kube-proxy to program the change`,
      async (note) => {
        const text = await (await fetch(url, { signal: AbortSignal.timeout(2_000) })).text();
        const queued = gauge(text, 'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds') * 1000;
        const synced = gauge(text, 'kubeproxy_sync_proxy_rules_last_timestamp_seconds') * 1000;
        note(`queued ${new Date(queued).toISOString()}, synced ${new Date(synced).toISOString()}`);
        return queued >= sinceMs && synced >= queued ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100, onProgress },
    );
    return true;
  }

  /** Ready endpoint addresses of a Service, from its EndpointSlices. */
  async readyEndpoints(namespace: string, service: string): Promise<string[]> {
    const slices = await this.discovery.listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${service}` });
    return slices.items.flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).flatMap((e) => e.addresses));
  }

  async logs(namespace: string, pod: string, container: string): Promise<string> {
    return this.core.readNamespacedPodLog({ name: pod, namespace, container }).catch((err: unknown) => `(no log: ${apiMessage(err)})\n`);
  }

  async events(namespace: string): Promise<string> {
    const list = await this.core.listNamespacedEvent({ namespace }).catch(() => undefined);
    return (list?.items ?? [])
      .map((e) => `${e.lastTimestamp?.toISOString() ?? e.eventTime ?? ''} ${e.type} ${e.involvedObject.kind}/${e.involvedObject.name} ${e.reason}: ${e.message}`)
      .join('\n');
  }
}

/** Waiting reasons that no amount of waiting fixes (an image that may not be pulled, a crashing binary). */
const CANNOT_START = new Set(['CrashLoopBackOff', 'ErrImageNeverPull', 'ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError']);

/** Why a container will not start by waiting, or undefined. */
export function cannotStart(status: V1ContainerStatus): string | undefined {
  const reason = status.state?.waiting?.reason;
  return reason && CANNOT_START.has(reason) ? reason : undefined;
}

/** An IPv4 kube-proxy gauge ("name{ip_family="IPv4"} value"), or 0. */
function gauge(metrics: string, name: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name}{ip_family="IPv4"}`) || l.startsWith(`${name} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

export function isReady(pod: V1Pod): boolean {
  return !pod.metadata?.deletionTimestamp && (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** "Pending: prometheus ErrImageNeverPull" and the like, for progress lines and errors. */
export function podStatusLine(pod: V1Pod): string {
  const waiting = (pod.status?.containerStatuses ?? [])
    .filter((c) => !c.ready)
    .map((c) => `${c.name} ${c.state?.waiting?.reason ?? (c.state?.terminated ? `exited ${c.state.terminated.exitCode}` : 'not ready')}${c.restartCount ? ` (${c.restartCount} restarts)` : ''}`);
  const unscheduled = (pod.status?.conditions ?? []).find((c) => c.type === 'PodScheduled' && c.status === 'False');
  return [pod.status?.phase ?? 'unknown', ...waiting, ...(unscheduled ? [`unschedulable: ${unscheduled.message}`] : [])].join(', ');
}

/** One line from an API error: the server's Status message when there is one. */
export function apiMessage(err: unknown): string {
  if (err instanceof ApiException) {
    const body = err.body as unknown;
    let message: string | undefined;
    if (typeof body === 'string') {
      try {
        message = (JSON.parse(body) as { message?: string }).message;
      } catch {
        message = body;
      }
    } else if (body && typeof body === 'object') message = (body as { message?: string }).message;
    return `HTTP ${err.code}: ${(message ?? err.message).replace(/\s+/g, ' ').slice(0, 400)}`;
  }
  return (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').slice(0, 400);
}

function lastLine(text: string | undefined): string {
  return (text ?? '').trim().split('\n').at(-1) ?? '';
}
