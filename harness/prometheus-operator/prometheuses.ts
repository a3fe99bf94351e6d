// Finding C (prometheus-operator #4414), the steps: Prometheus resources with a Thanos sidecar that
// uploads to S3, created in the namespace of an OperatorEnvironment, and what the operator makes of
// them, read back from the API (the resource's Reconciled condition, the StatefulSet, the pod).
// Every wait polls real state with a deadline.
import type { V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import { PatchStrategy } from '@kubernetes/client-node';
import { pinnedVersion } from '../binaries/versions.ts';
import { cannotStart } from '../substrates/kubernetes/cluster.ts';
import { readOrUndefined } from './cluster.ts';
import { OPERATOR_IMAGES } from './images.ts';
import { MONITORING, OBJSTORE_SECRET, type OperatorEnvironment } from './install.ts';
import { waitFor } from '../wait.ts';

export const MIN_BLOCK_DURATION = 'storage.tsdb.min-block-duration';
export const MAX_BLOCK_DURATION = 'storage.tsdb.max-block-duration';
/** What the note (and #4414) put into additionalArgs to get 2h blocks. */
export const BLOCK_DURATION_ARGS = [
  { name: MIN_BLOCK_DURATION, value: '2h' },
  { name: MAX_BLOCK_DURATION, value: '2h' },
];

export interface PrometheusVariant {
  /** spec.additionalArgs (the note's way, #4414). */
  additionalArgs?: { name: string; value?: string }[];
  /** spec.thanos.blockSize (the fix, operator >= 0.64). */
  blockSize?: string;
  /**
   * spec.disableCompaction. The operator disables local compaction itself, and then sets
   * --storage.tsdb.min/max-block-duration, whenever the sidecar uploads, except (from 0.93.0) with
   * Prometheus >= 3.9 and Thanos >= 0.41 where it keeps compaction on ("delayed compaction").
   * true reproduces what every operator < 0.93 does, and 0.93+ with older Prometheus or Thanos.
   */
  disableCompaction?: boolean;
}

export interface PrometheusResource {
  metadata: { name: string; namespace: string; generation?: number; uid?: string };
  spec: Record<string, unknown>;
  status?: { conditions?: Condition[] };
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
}

/** The Prometheus resource of the note's observee: HA-pair conventions, a sidecar uploading to the in-namespace S3. */
export function prometheusResource(name: string, namespace: string, variant: PrometheusVariant): PrometheusResource {
  const cluster = 'observee';
  return {
    metadata: { name, namespace },
    spec: {
      image: OPERATOR_IMAGES.prometheus,
      version: `v${pinnedVersion('prometheus').version}`,
      imagePullPolicy: 'Never', // prometheus, thanos-sidecar and config-reloader containers alike
      replicas: 1,
      retention: '4h',
      externalLabels: { cluster, cluster_name: cluster, origin_prometheus: cluster },
      ...(variant.disableCompaction === undefined ? {} : { disableCompaction: variant.disableCompaction }),
      ...(variant.additionalArgs ? { additionalArgs: variant.additionalArgs } : {}),
      thanos: {
        image: OPERATOR_IMAGES.thanos,
        version: `v${pinnedVersion('thanos').version}`,
        objectStorageConfig: { name: OBJSTORE_SECRET.name, key: OBJSTORE_SECRET.key },
        ...(variant.blockSize ? { blockSize: variant.blockSize } : {}),
      },
    },
  };
}

/** The StatefulSet the operator creates for shard 0 of a Prometheus resource. */
export const statefulSetName = (prometheus: string) => `prometheus-${prometheus}`;

export class OperatedPrometheuses {
  private readonly op: OperatorEnvironment;

  constructor(op: OperatorEnvironment) {
    this.op = op;
  }

  private get api() {
    return this.op.cluster;
  }

  async create(name: string, variant: PrometheusVariant): Promise<{ resource: PrometheusResource; createdAt: number }> {
    const body = { apiVersion: `${MONITORING.group}/${MONITORING.version}`, kind: 'Prometheus', ...prometheusResource(name, this.op.namespace, variant) };
    const resource = (await this.api.custom.createNamespacedCustomObject({ ...MONITORING, namespace: this.op.namespace, body })) as PrometheusResource;
    return { resource, createdAt: Date.now() };
  }

  async get(name: string): Promise<PrometheusResource> {
    return (await this.api.custom.getNamespacedCustomObject({ ...MONITORING, namespace: this.op.namespace, name })) as PrometheusResource;
  }

  /** JSON merge patch of spec; returns the resource as stored (its new generation). */
  async patchSpec(name: string, spec: Record<string, unknown>): Promise<PrometheusResource> {
    return (await this.api.objects.patch(
      { apiVersion: `${MONITORING.group}/${MONITORING.version}`, kind: 'Prometheus', metadata: { name, namespace: this.op.namespace }, spec } as never,
      undefined,
      undefined,
      'thanos-ha-e2e',
      undefined,
      PatchStrategy.MergePatch,
    )) as unknown as PrometheusResource;
  }

  async delete(name: string): Promise<void> {
    await readOrUndefined(() => this.api.custom.deleteNamespacedCustomObject({ ...MONITORING, namespace: this.op.namespace, name }));
  }

  /**
   * Polls the resource until `done` accepts its Reconciled condition (or something else it returns);
   * returns what `done` returned and the time since `since`.
   */
  async waitReconciled<T>(
    name: string,
    done: (condition: Condition | undefined, resource: PrometheusResource) => Promise<T | undefined> | T | undefined,
    opts: { since: number; timeoutMs: number; what: string; onProgress?: (line: string) => void },
  ): Promise<{ value: T; ms: number }> {
    const value = await waitFor(
      opts.what,
      async (note) => {
        const resource = await this.get(name);
        const condition = reconciledCondition(resource);
        note(condition ? `Reconciled=${condition.status} gen ${condition.observedGeneration}: ${condition.message ?? ''}` : 'no Reconciled condition yet');
        return done(condition, resource);
      },
      { timeoutMs: opts.timeoutMs, intervalMs: 200, onProgress: opts.onProgress },
    );
    return { value, ms: Date.now() - opts.since };
  }

  async statefulSet(name: string): Promise<V1StatefulSet | undefined> {
    return readOrUndefined(() => this.api.apps.readNamespacedStatefulSet({ name: statefulSetName(name), namespace: this.op.namespace }));
  }

  /** Every StatefulSet the operator made for this resource (by its operator.prometheus.io/name label). */
  async statefulSetsOf(name: string): Promise<V1StatefulSet[]> {
    const list = await this.api.apps.listNamespacedStatefulSet({ namespace: this.op.namespace, labelSelector: `operator.prometheus.io/name=${name}` });
    return list.items;
  }

  async waitStatefulSet(name: string, opts: { since: number; timeoutMs: number; onProgress?: (line: string) => void }): Promise<{ sts: V1StatefulSet; ms: number }> {
    const sts = await waitFor(`StatefulSet ${statefulSetName(name)} to be created`, () => this.statefulSet(name), {
      timeoutMs: opts.timeoutMs,
      intervalMs: 200,
      onProgress: opts.onProgress,
    });
    return { sts, ms: Date.now() - opts.since };
  }

  /** Waits until pod prometheus-<name>-0 is Ready with every container ready; gives up at once on one that cannot start. */
  async waitPodReady(name: string, opts: { since: number; timeoutMs: number; onProgress?: (line: string) => void }): Promise<{ pod: V1Pod; ms: number }> {
    const podName = `${statefulSetName(name)}-0`;
    let fatal: string | undefined;
    const pod = await waitFor(
      `pod ${podName} to be Ready`,
      async (note) => {
        const pod = await readOrUndefined(() => this.api.core.readNamespacedPod({ name: podName, namespace: this.op.namespace }));
        if (!pod) {
          note('no pod yet');
          return undefined;
        }
        const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
        for (const s of statuses) {
          const reason = cannotStart(s);
          if (reason) fatal = `container ${s.name} of ${podName} cannot start: ${reason} ${s.state?.waiting?.message ?? ''}`.trim();
        }
        const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
        note(`${pod.status?.phase}; ${(pod.status?.containerStatuses ?? []).map((s) => `${s.name} ready=${s.ready}`).join(', ')}`);
        return ready ? pod : undefined;
      },
      { timeoutMs: opts.timeoutMs, intervalMs: 250, onProgress: opts.onProgress, abort: () => fatal },
    );
    return { pod, ms: Date.now() - opts.since };
  }
}

export function reconciledCondition(resource: PrometheusResource): Condition | undefined {
  return resource.status?.conditions?.find((c) => c.type === 'Reconciled');
}

/** The args of one container of a pod template (the operator puts every flag there, no command). */
export function containerArgs(sts: V1StatefulSet, container: string): string[] {
  const found = sts.spec?.template.spec?.containers.find((c) => c.name === container);
  if (!found) throw new Error(`StatefulSet ${sts.metadata?.name} has no container ${container}`);
  return found.args ?? [];
}

/** How many args set this flag, in any form: --flag, --flag=value, --no-flag. */
export function flagCount(args: string[], flag: string): number {
  return args.filter((a) => a === `--${flag}` || a.startsWith(`--${flag}=`) || a === `--no-${flag}`).length;
}
