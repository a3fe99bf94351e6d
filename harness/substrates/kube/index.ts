// The kube substrate's cluster provider: existing clusters from kubeconfig contexts (the note's two EKS
// clusters, or the local cluster of `node harness/cli.ts cluster up`), then the shared deploy path
// (../kubernetes). Everything a run creates lives in namespaces it creates
// (thanos-ha-e2e-<run>-<cluster>) and is deleted with them; nothing else is touched.
//
//   THANOS_HA_E2E_KUBE_CONTEXTS   observer=<context>,observee=<context> (one context for both is fine:
//                                 each topology cluster gets its own namespace)
//   KUBECONFIG                    where the contexts are (default ~/.kube/config)
//   THANOS_HA_E2E_S3_ENDPOINT     host:port of an S3 every cluster reaches, with THANOS_HA_E2E_S3_BUCKET,
//                                 AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION (and
//                                 THANOS_HA_E2E_S3_INSECURE=1 for plain http). Unset: versitygw in a
//                                 namespace of the run (only when both contexts are one cluster).
//                                 Before each bring-up a pod of every cluster lists the bucket
//                                 (s3-reach.ts): an endpoint one cannot reach fails it in one line.
//   THANOS_HA_E2E_S3_CREATE_BUCKET=1  the S3 is yours to create buckets in: each topology gets a fresh
//                                 one, <bucket>-<run>, so scenario files do not see each other's
//                                 blocks (npm run test:kube-two-clusters sets it; the buckets stay)
//   THANOS_HA_E2E_KUBE_NODE_<CLUSTER>  address pods of the other cluster dial this one's NodePorts at
//                                 (default: the first node's InternalIP), when the contexts differ
//   THANOS_HA_E2E_IMAGE_PREFIX    where the images are (default thanos-ha-e2e, i.e. loaded locally)
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { execa } from 'execa';
import type { Env } from '../../binaries/cache.ts';
import { resolveBinary } from '../../binaries/provision.ts';
import type { Topology } from '../../topology/model.ts';
import type { S3Access } from '../../plan/index.ts';
import { apiMessage, KubeCluster, OWNER_LABEL, RUN_LABEL } from '../kubernetes/cluster.ts';
import { componentImages } from '../kubernetes/component-images.ts';
import { cleanAbandonedNamespaces, ownerLabel } from '../kubernetes/janitor.ts';
import type { ClusterProvider, LentCluster, ProvidedClusters, ProvisionOptions } from '../kubernetes/provider.ts';
import { checkS3Reachable } from './s3-reach.ts';

export interface KubeSettings {
  contexts: Record<string, string>;
  s3?: { endpoint: string; bucket: string; accessKey: string; secretKey: string; region: string; insecure: boolean; createBucket?: true };
}

/** The longest THANOS_HA_E2E_S3_BUCKET with THANOS_HA_E2E_S3_CREATE_BUCKET=1: "-<6 hex>" must fit S3's 63. */
const MAX_BASE_BUCKET = 63 - 7;

/** Reads and checks the environment; a one-line error says what is missing and how to set it. */
export function kubeSettings(env: Env = process.env): KubeSettings {
  const spec = env.THANOS_HA_E2E_KUBE_CONTEXTS;
  if (!spec) throw new Error('the kube substrate needs THANOS_HA_E2E_KUBE_CONTEXTS, e.g. observer=eks-observer,observee=eks-observee (kubeconfig contexts)');
  const contexts: Record<string, string> = {};
  for (const pair of spec.split(',')) {
    const parts = pair.split('=').map((s) => s.trim());
    const [cluster, context] = parts;
    if (parts.length !== 2 || !cluster || !context) throw new Error(`THANOS_HA_E2E_KUBE_CONTEXTS: "${pair}" is not <cluster>=<context> (e.g. observer=eks-observer,observee=eks-observee)`);
    if (contexts[cluster]) throw new Error(`THANOS_HA_E2E_KUBE_CONTEXTS names cluster "${cluster}" twice: give each cluster one context`);
    contexts[cluster] = context;
  }
  if (!env.THANOS_HA_E2E_S3_ENDPOINT) return { contexts };
  const need = (name: string) => env[name] || failNow(`THANOS_HA_E2E_S3_ENDPOINT is set but ${name} is not: set it too (or unset THANOS_HA_E2E_S3_ENDPOINT for the run's own S3)`);
  const createBucket = env.THANOS_HA_E2E_S3_CREATE_BUCKET === '1';
  const bucket = need('THANOS_HA_E2E_S3_BUCKET');
  if (createBucket && bucket.length > MAX_BASE_BUCKET) throw new Error(`THANOS_HA_E2E_S3_BUCKET "${bucket}" is ${bucket.length} characters: with THANOS_HA_E2E_S3_CREATE_BUCKET=1 each topology's bucket is <bucket>-<6 hex>, so at most ${MAX_BASE_BUCKET}`);
  return {
    contexts,
    s3: {
      endpoint: env.THANOS_HA_E2E_S3_ENDPOINT.replace(/^https?:\/\//, ''),
      bucket,
      accessKey: need('AWS_ACCESS_KEY_ID'),
      secretKey: need('AWS_SECRET_ACCESS_KEY'),
      region: env.AWS_REGION || 'us-east-1',
      insecure: env.THANOS_HA_E2E_S3_INSECURE === '1' || env.THANOS_HA_E2E_S3_ENDPOINT.startsWith('http://'),
      ...(createBucket ? { createBucket: true as const } : {}),
    },
  };
}

export async function connectContexts(contexts: Record<string, string>, dir: string, env: Env = process.env): Promise<Record<string, KubeCluster>> {
  const byContext = new Map<string, KubeCluster>();
  const clusters: Record<string, KubeCluster> = {};
  // Every context named must exist before any API server is dialled: a typo is named as such, not
  // hidden behind another context's unreachable server.
  const known = new KubeConfig();
  known.loadFromDefault();
  for (const [cluster, context] of Object.entries(contexts)) {
    if (!known.getContextObject(context)) {
      const where = env.KUBECONFIG || '~/.kube/config';
      throw new Error(`no kubeconfig context "${context}" (for ${cluster}) in ${where}: have ${known.getContexts().map((c) => c.name).join(', ') || 'none'}`);
    }
  }
  for (const [cluster, context] of Object.entries(contexts)) {
    let kube = byContext.get(context);
    if (!kube) {
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromDefault();
      if (!kubeConfig.getContextObject(context)) {
        const where = env.KUBECONFIG || '~/.kube/config';
        throw new Error(`no kubeconfig context "${context}" (for ${cluster}) in ${where}: have ${kubeConfig.getContexts().map((c) => c.name).join(', ') || 'none'}`);
      }
      kubeConfig.setCurrentContext(context);
      const file = join(dir, `kubeconfig-${byContext.size}`);
      await writeFile(file, kubeConfig.exportConfig());
      await chmod(file, 0o600);
      kube = new KubeCluster(cluster, kubeConfig, file);
      try {
        await kube.core.listNamespace({ limit: 1 });
      } catch (err) {
        throw new Error(`cannot reach the API server of context "${context}" (${kubeConfig.getCurrentCluster()?.server}): ${apiMessage(err)}`);
      }
      kube.kubeProxyMetricsUrl = await localKubeProxyMetrics(kubeConfig, env);
      byContext.set(context, kube);
    }
    clusters[cluster] = kube;
  }
  return clusters;
}

export const kubeProvider: ClusterProvider = {
  name: 'kube',

  /** Reachable contexts: connected once, in a directory removed at once (the copies hold credentials). */
  async unavailable(env: Env): Promise<string | undefined> {
    const dir = await mkdtemp(join(tmpdir(), 'thanos-ha-e2e-check-'));
    try {
      await connectContexts(kubeSettings(env).contexts, dir, env);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    return undefined;
  },

  /**
   * The role's context of THANOS_HA_E2E_KUBE_CONTEXTS, connected as for a topology; the cluster was
   * there before and stays (no release). The local cluster (`cluster up`, API server at
   * 127.0.0.1:6443, harness/local-cluster/config.ts) can have images loaded onto its node.
   */
  async lendCluster(role, { env }) {
    const context = kubeSettings(env).contexts[role];
    if (!context) throw new Error(`THANOS_HA_E2E_KUBE_CONTEXTS has no context for "${role}": add ${role}=<context>`);
    // connectContexts leaves a kubeconfig copy (for helm) in the directory; nothing here runs helm,
    // and the copy holds credentials, so it goes at once.
    const dir = await mkdtemp(join(tmpdir(), 'thanos-ha-e2e-kubeconfig-'));
    let kc: KubeConfig;
    try {
      kc = (await connectContexts({ [role]: context }, dir, env))[role]!.kubeConfig;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const server = kc.getCurrentCluster()?.server ?? '';
    const local = server === 'https://127.0.0.1:6443';
    const loadImages = async (tars: string[], onProgress: (line: string) => void) => (await import('../../local-cluster/index.ts')).loadImages(tars, { env, onProgress });
    return { kubeConfig: kc, context, server, loadImages: local ? loadImages : await kindImageLoader(context, env), release: undefined };
  },

  async check(topology: Topology, { env }: ProvisionOptions): Promise<void> {
    const settings = kubeSettings(env);
    for (const c of topology.clusters) {
      if (!settings.contexts[c.name]) throw new Error(`THANOS_HA_E2E_KUBE_CONTEXTS has no context for cluster "${c.name}" of ${topology.name}: add ${c.name}=<context>`);
    }
  },

  async provision(_topology: Topology, { env, onProgress }: ProvisionOptions): Promise<ProvidedClusters> {
    const settings = kubeSettings(env);
    const run = randomBytes(3).toString('hex');
    const namespacePrefix = `thanos-ha-e2e-${run}`;
    // The kubeconfig copies hold credentials: removed with the run, or at once if it never starts.
    const dir = await mkdtemp(join(tmpdir(), 'thanos-ha-e2e-kubeconfig-'));
    const removeDir = () => rm(dir, { recursive: true, force: true });
    let clusters: Record<string, KubeCluster>;
    let nodes: Record<string, string> = {};
    try {
      clusters = await connectContexts(settings.contexts, dir, env);
      for (const kube of new Set(Object.values(clusters))) await cleanAbandonedNamespaces(kube, onProgress);
      if (new Set(Object.values(clusters)).size > 1) nodes = await nodeAddresses(clusters, env);
      // Before anything is deployed: can a pod of every cluster reach the S3 given?
      const s3 = settings.s3;
      if (s3) await Promise.all([...new Set(Object.values(clusters))].map((kube) => s3ReachableOnce(kube, s3, { namespacePrefix, image: componentImages(env).thanos!, onProgress })));
    } catch (err) {
      await removeDir();
      throw err;
    }
    // Different clusters: node address + NodePort. One cluster for both: the other namespace's DNS names.
    const separate = new Set(Object.values(clusters)).size > 1;
    const s3 = settings.s3 && s3ForTopology(settings.s3, run);
    return {
      clusters,
      ...(separate ? { crossCluster: (e) => `${nodes[e.cluster]}:${e.nodePort}` } : {}),
      ...(s3
        ? {
            s3: {
              pods: s3.pods,
              test: { url: `${s3.pods.insecure ? 'http' : 'https'}://${s3.pods.endpoint}`, bucket: s3.pods.bucket, accessKey: s3.pods.accessKey, secretKey: s3.pods.secretKey, region: s3.pods.region },
              ...(s3.create ? { createBucket: true } : {}),
            },
          }
        : {}),
      images: componentImages(env),
      imagePullPolicy: 'IfNotPresent',
      namespacePrefix,
      release: removeDir,
    };
  },
};

/**
 * kube-proxy's metrics, when the test process can read them: THANOS_HA_E2E_KUBE_PROXY_METRICS, or
 * 127.0.0.1:10249 (its default bind address) when the API server is on this machine too.
 */
async function localKubeProxyMetrics(kubeConfig: KubeConfig, env: Env): Promise<string | undefined> {
  if (env.THANOS_HA_E2E_KUBE_PROXY_METRICS) return env.THANOS_HA_E2E_KUBE_PROXY_METRICS;
  const server = new URL(kubeConfig.getCurrentCluster()?.server ?? 'https://unknown');
  if (!['127.0.0.1', 'localhost'].includes(server.hostname)) return undefined;
  const url = 'http://127.0.0.1:10249/metrics';
  const text = await fetch(url, { signal: AbortSignal.timeout(1_000) }).then((r) => r.text()).catch(() => '');
  return text.includes('kubeproxy_sync_proxy_rules_last_timestamp_seconds') ? url : undefined;
}

/** Where each cluster's NodePorts are dialled from the other clusters. */
async function nodeAddresses(clusters: Record<string, KubeCluster>, env: Env = process.env): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const [cluster, kube] of Object.entries(clusters)) {
    const configured = env[`THANOS_HA_E2E_KUBE_NODE_${cluster.toUpperCase().replace(/-/g, '_')}`];
    if (configured) {
      result[cluster] = configured;
      continue;
    }
    const nodes = await kube.core.listNode();
    const address = nodes.items[0]?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    if (!address) throw new Error(`no node InternalIP in context ${kube.context} for ${cluster}: set THANOS_HA_E2E_KUBE_NODE_${cluster.toUpperCase()}`);
    result[cluster] = address;
  }
  return result;
}

/** The S3 a topology's pods use: the given bucket, or with createBucket a fresh one of this run's (the deploy path creates it). */
export function s3ForTopology(s3: NonNullable<KubeSettings['s3']>, run: string): { pods: S3Access; create: boolean } {
  const { createBucket, ...access } = s3;
  return createBucket ? { pods: { ...access, bucket: `${access.bucket}-${run}` }, create: true } : { pods: access, create: false };
}

/** The reachability check once per cluster, endpoint and test process (a file with two bring-ups checks once). */
const s3Checked = new Map<string, Promise<void>>();
function s3ReachableOnce(kube: KubeCluster, s3: S3Access, opts: { namespacePrefix: string; image: string; onProgress: (line: string) => void }): Promise<void> {
  const key = `${kube.kubeConfig.getCurrentCluster()?.server}|${kube.context}|${s3.endpoint}|${s3.bucket}`;
  let checked = s3Checked.get(key);
  if (!checked) {
    checked = checkS3Reachable(kube, s3, {
      namespace: `${opts.namespacePrefix}-s3-check`,
      labels: { [RUN_LABEL]: opts.namespacePrefix, [OWNER_LABEL]: ownerLabel() },
      image: opts.image,
      imagePullPolicy: 'IfNotPresent',
      onProgress: opts.onProgress,
    });
    s3Checked.set(key, checked);
  }
  return checked;
}

/** The kind cluster a context names (kind calls its contexts kind-<cluster>), or undefined. */
export function kindClusterOfContext(context: string): string | undefined {
  return /^kind-([a-z0-9][a-z0-9.-]*)$/.exec(context)?.[1];
}

/**
 * A kind cluster of this machine given as a context (npm run test:kube-two-clusters gives two) can
 * have images loaded onto its nodes as the kind substrate does, with `kind load image-archive`.
 * Only where the context is named as kind names them and `kind get clusters` lists the cluster.
 */
async function kindImageLoader(context: string, env: Env): Promise<LentCluster['loadImages']> {
  const name = kindClusterOfContext(context);
  if (!name) return undefined;
  const kind = env.KIND_BIN || (await resolveBinary('kind', {}).catch(() => undefined))?.path;
  if (!kind) return undefined;
  const listed = await execa(kind, ['get', 'clusters'], { env, reject: false, stdin: 'ignore', timeout: 30_000 });
  if (listed.exitCode !== 0 || !listed.stdout.split('\n').includes(name)) return undefined;
  return async (tars, onProgress) => {
    for (const tar of tars) {
      const loaded = await execa(kind, ['load', 'image-archive', tar, '--name', name], { env, reject: false, all: true, stdin: 'ignore', timeout: 5 * 60_000 });
      if (loaded.exitCode !== 0) throw new Error(`kind load image-archive ${tar} --name ${name} exited ${loaded.exitCode}: ${(loaded.all ?? '').trim().split('\n').at(-1)}`);
    }
    onProgress(`  ${tars.length} image(s) loaded into kind cluster ${name}`);
  };
}

function failNow(message: string): never {
  throw new Error(message);
}
