// prometheus-operator installed into a fresh namespace of the observee cluster, for one scenario run:
//
//   CRDs                 the release's, server-side applied; only those that were missing, and only
//                        those are deleted again (a cluster that already has them keeps them)
//   namespace            thanos-ha-e2e-operator-<random>
//   RBAC                 ServiceAccount; the release's operator ClusterRole under a name of its own
//                        (thanos-ha-e2e-operator-<random>) and a ClusterRoleBinding to it
//   S3                   versitygw (POSIX backend, emptyDir) + Service, the bucket created through a
//                        port-forward, and the objstore Secret the Prometheus CRs point their sidecar at
//   operator             Deployment watching only that namespace (--namespaces), config-reloader image
//                        = ours, nothing pulled (imagePullPolicy Never)
//
// Configured, then started: `new OperatorEnvironment(cluster)` before `install()`, so that `close()`
// (in afterAll) removes whatever exists even when install() failed half-way. close() deletes the
// Prometheus resources first and waits for the operator to drop their finalizer, then the namespace,
// the cluster-scoped RBAC and the CRDs it created, and waits until they are gone.
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadAllYaml, PatchStrategy, type KubernetesObject, type V1ClusterRole, type V1CustomResourceDefinition, type V1Deployment } from '@kubernetes/client-node';
import type { Env } from '../binaries/cache.ts';
import { formatElapsed } from '../binaries/go-build.ts';
import { Bucket } from '../s3/bucket.ts';
import { S3_CREDENTIALS, versitygwArgs } from '../s3/versitygw.ts';
import { apiMessage, cannotStart } from '../substrates/kubernetes/cluster.ts';
import { S3_PORT } from '../substrates/kubernetes/infra.ts';
import { forwardLocalPort } from '../substrates/kubernetes/port-forward.ts';
import { waitFor } from '../wait.ts';
import { ensureOperatorBuild, type OperatorBuild } from './build.ts';
import { isNotFound, readOrUndefined, type OperatorCluster } from './cluster.ts';
import { ensureOperatorImages, OPERATOR_IMAGES } from './images.ts';

export const MONITORING = { group: 'monitoring.coreos.com', version: 'v1', plural: 'prometheuses' } as const;
export const OBJSTORE_SECRET = { name: 'thanos-objstore', key: 'objstore.yml' } as const;
const FIELD_MANAGER = 'thanos-ha-e2e';
const BUCKET = 'thanos';
/** On everything created here, CRDs included: what to select by when a killed run left something behind. */
export const LABELS = { 'app.kubernetes.io/part-of': 'thanos-ha-e2e', 'thanos-ha-e2e.io/scenario': 'operator-block-size' };

export interface InstallFigures {
  operatorVersion: string;
  namespace: string;
  crdsCreated: number;
  crdsPresent: number;
  imagesLoaded: string[];
  /** Operator Deployment created until its pod is Ready. */
  operatorReadyMs: number;
}

export class OperatorEnvironment {
  readonly cluster: OperatorCluster;
  readonly namespace: string;
  readonly clusterRoleName: string;
  private readonly progress: (line: string) => void;
  private readonly env: Env;
  private build: OperatorBuild | undefined;
  private createdCrds: string[] = [];
  private touched = false;

  constructor(cluster: OperatorCluster, opts: { env?: Env; onProgress?: (line: string) => void } = {}) {
    this.cluster = cluster;
    const suffix = randomBytes(3).toString('hex');
    this.namespace = `thanos-ha-e2e-operator-${suffix}`;
    this.clusterRoleName = `thanos-ha-e2e-operator-${suffix}`;
    this.progress = opts.onProgress ?? (() => {});
    this.env = opts.env ?? process.env;
  }

  async install(): Promise<InstallFigures> {
    const { cluster, namespace, progress } = this;
    const build = (this.build = await ensureOperatorBuild({ env: this.env, onProgress: progress }));
    const { loaded } = await ensureOperatorImages(cluster, build, { env: this.env, onProgress: progress });
    this.touched = true;

    const crds = await this.applyCrds(build);
    progress(`  CRDs: ${crds.created} created (server-side apply), ${crds.present} already there`);

    await cluster.core.createNamespace({ body: { metadata: { name: namespace, labels: LABELS } } });
    await cluster.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'prometheus-operator', labels: LABELS } } });
    const role = (loadAllYaml(await readFile(build.clusterRole, 'utf8')) as V1ClusterRole[])[0] ?? {};
    await cluster.rbac.createClusterRole({ body: { ...role, metadata: { name: this.clusterRoleName, labels: { ...role.metadata?.labels, ...LABELS } } } });
    await cluster.rbac.createClusterRoleBinding({
      body: {
        metadata: { name: this.clusterRoleName, labels: LABELS },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: this.clusterRoleName },
        subjects: [{ kind: 'ServiceAccount', name: 'prometheus-operator', namespace }],
      },
    });

    await this.startS3();

    const started = Date.now();
    await cluster.apps.createNamespacedDeployment({ namespace, body: operatorDeployment(namespace) });
    await this.waitDeploymentReady('prometheus-operator', 120_000);
    const operatorReadyMs = Date.now() - started;
    progress(`  prometheus-operator ${build.version} Ready in ${formatElapsed(operatorReadyMs)} (namespace ${namespace})`);
    return { operatorVersion: build.version, namespace, crdsCreated: crds.created, crdsPresent: crds.present, imagesLoaded: loaded, operatorReadyMs };
  }

  /** The operator pod's log (all of it; the operator logs little at info level). */
  async operatorLog(): Promise<string> {
    const pods = await this.cluster.core.listNamespacedPod({ namespace: this.namespace, labelSelector: 'app.kubernetes.io/name=prometheus-operator' });
    const pod = pods.items[0]?.metadata?.name;
    if (!pod) return '';
    return this.cluster.core.readNamespacedPodLog({ name: pod, namespace: this.namespace, container: 'prometheus-operator' });
  }

  /** Removes everything install() created, whatever state it got to; throws one error listing what failed. */
  async close(): Promise<void> {
    if (!this.touched) return;
    const { cluster, namespace, progress } = this;
    const failures: string[] = [];
    const step = async (what: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (err) {
        if (!isNotFound(err)) failures.push(`${what}: ${apiMessage(err)}`);
      }
    };
    const started = Date.now();

    // 1. Prometheus resources, while the operator still runs to remove its status-cleanup finalizer.
    await step('delete the Prometheus resources', async () => {
      const list = (await cluster.custom.listNamespacedCustomObject({ ...MONITORING, namespace })) as { items: KubernetesObject[] };
      for (const item of list.items) await step(`delete Prometheus ${item.metadata?.name}`, () => cluster.custom.deleteNamespacedCustomObject({ ...MONITORING, namespace, name: item.metadata!.name! }));
      const gone = await waitFor(
        'the Prometheus resources to be deleted',
        async () => (((await cluster.custom.listNamespacedCustomObject({ ...MONITORING, namespace })) as { items: unknown[] }).items.length === 0 ? true : undefined),
        { timeoutMs: 60_000, intervalMs: 500 },
      ).catch(() => false);
      if (!gone) {
        // The operator is gone or stuck: drop the finalizers ourselves so the namespace can go.
        const left = (await cluster.custom.listNamespacedCustomObject({ ...MONITORING, namespace })) as { items: KubernetesObject[] };
        for (const item of left.items) {
          await cluster.objects.patch({ ...item, metadata: { name: item.metadata!.name!, namespace, finalizers: null as unknown as string[] } }, undefined, undefined, FIELD_MANAGER, undefined, PatchStrategy.MergePatch);
        }
        progress(`  removed the finalizers of ${left.items.length} Prometheus resource(s) the operator did not release within 60s`);
      }
    });
    // 2. The namespace (operator, S3, Secrets, StatefulSets), then the cluster-scoped RBAC.
    await step(`delete namespace ${namespace}`, () => cluster.core.deleteNamespace({ name: namespace, propagationPolicy: 'Background' }));
    await step(`delete ClusterRoleBinding ${this.clusterRoleName}`, () => cluster.rbac.deleteClusterRoleBinding({ name: this.clusterRoleName }));
    await step(`delete ClusterRole ${this.clusterRoleName}`, () => cluster.rbac.deleteClusterRole({ name: this.clusterRoleName }));
    await step(`wait for namespace ${namespace} to be gone`, () =>
      waitFor('the namespace to be deleted', async () => ((await readOrUndefined(() => cluster.core.readNamespace({ name: namespace }))) ? undefined : true), {
        timeoutMs: 180_000,
        intervalMs: 500,
      }),
    );
    // 3. The CRDs this run created (no custom resources of them are left: the namespace held them all).
    for (const name of this.createdCrds) await step(`delete CRD ${name}`, () => cluster.crds.deleteCustomResourceDefinition({ name }));
    await step('wait for the CRDs to be gone', () =>
      waitFor(
        'the CRDs to be deleted',
        async () => {
          for (const name of this.createdCrds) if (await readOrUndefined(() => cluster.crds.readCustomResourceDefinition({ name }))) return undefined;
          return true;
        },
        { timeoutMs: 120_000, intervalMs: 500 },
      ),
    );
    progress(`  removed namespace ${namespace}, ClusterRole/Binding ${this.clusterRoleName} and ${this.createdCrds.length} CRDs in ${formatElapsed(Date.now() - started)}`);
    if (failures.length > 0) throw new Error(`teardown left something behind: ${failures.join('; ')}`);
  }

  private async applyCrds(build: OperatorBuild): Promise<{ created: number; present: number }> {
    const { cluster, progress } = this;
    const files = (await readdir(build.crdDir)).filter((f) => f.endsWith('.yaml')).sort();
    const names: string[] = [];
    let present = 0;
    for (const file of files) {
      // loadAllYaml, not a plain YAML parser: client-node serializes known kinds through its models, which
      // know x-kubernetes-int-or-string only as xKubernetesIntOrString and would drop the raw key.
      for (const crd of loadAllYaml(await readFile(join(build.crdDir, file), 'utf8')) as (V1CustomResourceDefinition | null)[]) {
        const name = crd?.metadata?.name;
        if (!crd || !name) continue;
        names.push(name);
        const existing = await readOrUndefined(() => cluster.crds.readCustomResourceDefinition({ name }));
        if (existing) {
          present++;
          const version = existing.metadata?.annotations?.['operator.prometheus.io/version'];
          if (version !== build.version) progress(`  CRD ${name} is already there at operator version ${version ?? '?'} (not ${build.version}): left as it is`);
          continue;
        }
        // Server-side apply: these CRDs are too large for client-side apply's last-applied annotation.
        this.createdCrds.push(name);
        crd.metadata = { ...crd.metadata, labels: { ...crd.metadata?.labels, ...LABELS } };
        await cluster.objects.patch(crd as KubernetesObject, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
      }
    }
    await waitFor(
      'the CRDs to be Established',
      async (note) => {
        for (const name of names) {
          const crd = await cluster.crds.readCustomResourceDefinition({ name });
          if (!crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) {
            note(`${name} not Established`);
            return undefined;
          }
        }
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 250, onProgress: progress },
    );
    return { created: this.createdCrds.length, present };
  }

  private async startS3(): Promise<void> {
    const { cluster, namespace, progress } = this;
    await cluster.apps.createNamespacedDeployment({ namespace, body: s3Deployment(namespace) });
    const service = await cluster.core.createNamespacedService({
      namespace,
      body: {
        metadata: { name: 's3', labels: LABELS },
        spec: { selector: { 'app.kubernetes.io/name': 's3' }, ports: [{ name: 's3', port: S3_PORT, targetPort: S3_PORT }] },
      },
    });
    const pod = await this.waitDeploymentReady('s3', 120_000);
    // Thanos never creates its bucket: create it through the S3 API, port-forwarded to the pod.
    const forward = await forwardLocalPort(cluster.kc, async () => ({ namespace, pod, port: S3_PORT }));
    const bucket = new Bucket({ url: `http://127.0.0.1:${forward.port}`, bucket: BUCKET, ...S3_CREDENTIALS });
    try {
      await bucket.create();
    } finally {
      bucket.client.destroy();
      await forward.close();
    }
    // The Service's ClusterIP, not its DNS name: the sidecar then does not depend on cluster DNS.
    const endpoint = `${service.spec?.clusterIP}:${S3_PORT}`;
    const objstore = [
      'type: S3',
      'config:',
      `  bucket: ${BUCKET}`,
      `  endpoint: ${endpoint}`,
      `  access_key: ${S3_CREDENTIALS.accessKey}`,
      `  secret_key: ${S3_CREDENTIALS.secretKey}`,
      `  region: ${S3_CREDENTIALS.region}`,
      '  insecure: true',
      'prefix: observee',
      '',
    ].join('\n');
    await cluster.core.createNamespacedSecret({ namespace, body: { metadata: { name: OBJSTORE_SECRET.name, labels: LABELS }, stringData: { [OBJSTORE_SECRET.key]: objstore } } });
    progress(`  S3 (versitygw) at ${endpoint}, bucket "${BUCKET}" created`);
  }

  /** Waits until the Deployment's pod is Ready; returns the pod's name. Gives up at once on a pod that cannot start. */
  private async waitDeploymentReady(name: string, timeoutMs: number): Promise<string> {
    const { cluster, namespace } = this;
    let fatal: string | undefined;
    return waitFor(
      `Deployment ${name} to have a Ready pod`,
      async (note) => {
        const pods = await cluster.core.listNamespacedPod({ namespace, labelSelector: `app.kubernetes.io/name=${name}` });
        for (const pod of pods.items) {
          if (pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return pod.metadata!.name!;
          const reason = pod.status?.containerStatuses?.map((s) => s.state?.waiting?.reason ?? s.state?.terminated?.reason).find(Boolean);
          const fatalReason = pod.status?.containerStatuses?.map(cannotStart).find(Boolean);
          if (fatalReason) fatal = `pod ${pod.metadata?.name} cannot start: ${fatalReason}`;
          note(`pod ${pod.metadata?.name} ${pod.status?.phase}${reason ? ` (${reason})` : ''}`);
        }
        return undefined;
      },
      { timeoutMs, intervalMs: 250, onProgress: this.progress, abort: () => fatal },
    );
  }
}

function operatorDeployment(namespace: string): V1Deployment {
  const labels = { ...LABELS, 'app.kubernetes.io/name': 'prometheus-operator' };
  return {
    metadata: { name: 'prometheus-operator', labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus-operator' } },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: 'prometheus-operator',
          securityContext: { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'prometheus-operator',
              image: OPERATOR_IMAGES.operator,
              imagePullPolicy: 'Never',
              args: [
                `--namespaces=${namespace}`,
                `--prometheus-config-reloader=${OPERATOR_IMAGES.configReloader}`,
                // As upstream's example Deployment: a Prometheus without selectors still gets a generated config.
                '--disable-unmanaged-prometheus-configuration=true',
              ],
              ports: [{ name: 'http', containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 2 },
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true },
            },
          ],
        },
      },
    },
  };
}

function s3Deployment(namespace: string): V1Deployment {
  const labels = { ...LABELS, 'app.kubernetes.io/name': 's3' };
  return {
    metadata: { name: 's3', namespace, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: { 'app.kubernetes.io/name': 's3' } },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: 'versitygw',
              image: OPERATOR_IMAGES.versitygw,
              imagePullPolicy: 'Never',
              args: versitygwArgs(`:${S3_PORT}`, '/data', '/meta'),
              ports: [{ name: 's3', containerPort: S3_PORT }],
              readinessProbe: { tcpSocket: { port: S3_PORT }, periodSeconds: 1 },
              volumeMounts: [
                { name: 'data', mountPath: '/data' },
                { name: 'meta', mountPath: '/meta' },
              ],
            },
          ],
          volumes: [
            { name: 'data', emptyDir: {} },
            { name: 'meta', emptyDir: {} },
          ],
        },
      },
    },
  };
}
