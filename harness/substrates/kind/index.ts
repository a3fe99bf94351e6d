// The kind substrate's cluster provider: one kind cluster per topology cluster (observer, observee),
// each a single node container on a Docker network of the run's own, with S3 in a container on the
// same network; the component images loaded into every node; then the shared deploy path
// (../kubernetes) with one kubeconfig context per cluster.
//
//   THANOS_HA_E2E_S3                 versitygw | localstack (default: LocalStack where its image is in
//                                    the local engine, versitygw otherwise)
//   THANOS_HA_E2E_LOCALSTACK_IMAGE   default localstack/localstack:4.14.0 (LOCALSTACK_AUTH_TOKEN is
//                                    passed through for newer tags)
//   THANOS_HA_E2E_KIND_NODE_IMAGE    see node-image.ts
//   KIND_BIN                         a kind binary of your own (else provisioned like every binary)
//
// Pods dial the other cluster at its node container's address on the run's network plus a node port.
// The test process reaches pods through port-forward, and S3 on a port published on 127.0.0.1.
// Teardown: `kind delete cluster` for each, then every container on the network and the network.
// A runner killed with SIGKILL leaves it to the run's reaper (../reaper.ts); a reaper that is gone
// too leaves it to the next run's janitor (janitor.ts).
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { execa } from 'execa';
import type { Env } from '../../binaries/cache.ts';
import { resolveBinary } from '../../binaries/provision.ts';
import { dockerServerVersion } from '../../images/docker.ts';
import { imageExists, lastLine, savedImageTar } from '../../images/image.ts';
import { Bucket } from '../../s3/bucket.ts';
import { S3_CREDENTIALS } from '../../s3/versitygw.ts';
import type { Topology } from '../../topology/model.ts';
import { KubeCluster } from '../kubernetes/cluster.ts';
import { componentImages } from '../kubernetes/component-images.ts';
import { ownerLabel } from '../kubernetes/janitor.ts';
import type { ClusterProvider, ProvidedClusters, ProvisionOptions, UnavailableOptions } from '../kubernetes/provider.ts';
import { startReaper } from '../reaper.ts';
import { registerCleanup } from '../teardown.ts';
import { cleanAbandonedKindRuns } from './janitor.ts';
import { chooseNodeImage } from './node-image.ts';
import { addressOn, createRunNetwork, removeRun, removeRunCommand, removeRunNow, startS3Container, type S3Backend } from './run-resources.ts';

export const DEFAULT_LOCALSTACK_IMAGE = 'localstack/localstack:4.14.0';
const CREATE_TIMEOUT_MS = 5 * 60_000;
const LOAD_TIMEOUT_MS = 5 * 60_000;

const localstackImage = (env: Env) => env.THANOS_HA_E2E_LOCALSTACK_IMAGE || DEFAULT_LOCALSTACK_IMAGE;

/** The S3 backend: as THANOS_HA_E2E_S3 says, else LocalStack where its image is here, else versitygw. */
export async function s3Backend(env: Env): Promise<S3Backend> {
  const value = env.THANOS_HA_E2E_S3;
  if (value === 'localstack' || value === 'versitygw') return value;
  if (value) throw new Error(`THANOS_HA_E2E_S3="${value}" is not an S3 backend of the kind substrate: use localstack or versitygw`);
  return (await imageExists(localstackImage(env), env)) ? 'localstack' : 'versitygw';
}

/** The images pods run, loaded into every node (the node image has its own pause and control plane). */
function loadedImages(env: Env): string[] {
  return [...new Set(Object.values(componentImages(env)).filter((i): i is string => i !== undefined))];
}

export async function kindUnavailable(env: Env, opts: UnavailableOptions = {}): Promise<string | undefined> {
  if (!(await dockerServerVersion(env))) return 'no Docker engine answers (start dockerd, or set DOCKER_HOST)';
  const missing: string[] = [];
  for (const image of loadedImages(env)) if (!(await imageExists(image, env))) missing.push(image);
  if (missing.length) return `image(s) not in the local Docker engine: ${missing.join(', ')} (node harness/cli.ts images kind builds them)`;
  const backend = await s3Backend(env);
  if (backend === 'localstack' && !(await imageExists(localstackImage(env), env))) return `THANOS_HA_E2E_S3=localstack, but ${localstackImage(env)} is not in the local Docker engine (docker pull it, or use versitygw)`;
  const node = await chooseNodeImage(env, { pull: opts.pull ?? true, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
  return node.why;
}

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)}s`;

export const kindProvider: ClusterProvider = {
  name: 'kind',

  unavailable: (env, opts) => kindUnavailable(env, opts),

  async check(_topology: Topology, { env, onProgress }: ProvisionOptions): Promise<void> {
    const unavailable = await kindUnavailable(env, { onProgress });
    if (unavailable) throw new Error(`the kind substrate cannot start: ${unavailable}`);
  },

  async provision(topology: Topology, { env, onProgress: progress }: ProvisionOptions): Promise<ProvidedClusters> {
    const kind = env.KIND_BIN || (await resolveBinary('kind', { onProgress: progress })).path;
    const node = await chooseNodeImage(env, { pull: true, onProgress: progress });
    if (!node.image) throw new Error(`the kind substrate cannot start: ${node.why}`);
    const backend = await s3Backend(env);
    await cleanAbandonedKindRuns(env, progress);

    // Names unique per run: the network, the S3 container and the clusters (<run>-<cluster>).
    const runId = `thanos-ha-e2e-${randomBytes(3).toString('hex')}`;
    const owner = ownerLabel();
    const dir = await mkdtemp(join(tmpdir(), 'thanos-ha-e2e-kind-'));
    const clusterName = (c: string) => `${runId}-${c}`;
    // kind and the docker commands it runs carry the run's marker: a reaper kills them before it
    // removes the containers, so a cluster being created cannot appear after the cleanup.
    const kindEnv = { ...env, KIND_EXPERIMENTAL_DOCKER_NETWORK: runId, THANOS_HA_E2E_RUN: dir };
    const reaper = await startReaper(dir, false, removeRunCommand(runId));
    const release = registerCleanup(
      `kind run ${runId}`,
      async () => {
        const started = Date.now();
        await Promise.all(topology.clusters.map((c) => execa(kind, ['delete', 'cluster', '--name', clusterName(c.name), '--kubeconfig', join(dir, `kubeconfig-${c.name}`)], { env: kindEnv, reject: false, stdin: 'ignore', timeout: 120_000 })));
        await removeRun(runId, env);
        await rm(dir, { recursive: true, force: true });
        await reaper.release();
        progress(`  kind clusters, S3 and network ${runId} removed in ${seconds(started)}`);
      },
      () => removeRunNow(runId),
    );

    try {
      const started = Date.now();
      await createRunNetwork(runId, owner, env);
      progress(`kind run ${runId}: ${topology.clusters.length} clusters (node image ${node.image}, ${node.how}) and S3 (${backend}) on Docker network ${runId}`);
      const s3Container = startS3Container(backend, {
        name: `${runId}-s3`,
        network: runId,
        owner,
        versitygwImage: componentImages(env).versitygw!,
        localstackImage: localstackImage(env),
        env,
        onProgress: progress,
      });
      const tars = await Promise.all(loadedImages(env).map((image) => savedImageTar(image, env)));

      const clusters: Record<string, KubeCluster> = {};
      const nodeIp: Record<string, string> = {};
      const creationSeconds: Record<string, number> = {};
      await Promise.all(
        topology.clusters.map(async (c) => {
          const name = clusterName(c.name);
          const kubeconfig = join(dir, `kubeconfig-${c.name}`);
          const createStarted = Date.now();
          await runKind(kind, ['create', 'cluster', '--name', name, '--image', node.image, '--kubeconfig', kubeconfig, '--wait', '2m'], kindEnv, CREATE_TIMEOUT_MS, `creating kind cluster ${name}`);
          creationSeconds[c.name] = (Date.now() - createStarted) / 1000;
          progress(`  kind cluster ${name} created in ${creationSeconds[c.name]!.toFixed(1)}s`);
          const loadStarted = Date.now();
          for (const tar of tars) await runKind(kind, ['load', 'image-archive', tar, '--name', name], kindEnv, LOAD_TIMEOUT_MS, `loading ${tar} into ${name}`);
          progress(`  ${tars.length} images loaded into ${name} in ${seconds(loadStarted)}`);
          const kubeConfig = new KubeConfig();
          kubeConfig.loadFromString(await readFile(kubeconfig, 'utf8'));
          kubeConfig.setCurrentContext(`kind-${name}`);
          clusters[c.name] = new KubeCluster(c.name, kubeConfig, kubeconfig);
          nodeIp[c.name] = await addressOn(`${name}-control-plane`, runId, env);
        }),
      );
      const s3 = await s3Container;
      const bucket = new Bucket({ url: s3.testUrl, bucket: topology.bucket, ...S3_CREDENTIALS });
      await bucket.create();
      bucket.close();
      progress(`  kind clusters and S3 up in ${seconds(started)} (${Object.entries(creationSeconds).map(([c, s]) => `${c} ${s.toFixed(1)}s`).join(', ')})`);

      return {
        clusters,
        crossCluster: (e) => `${nodeIp[e.cluster]}:${e.nodePort}`,
        s3: {
          pods: { endpoint: s3.podEndpoint, bucket: topology.bucket, insecure: true, ...S3_CREDENTIALS },
          test: { url: s3.testUrl, bucket: topology.bucket, ...S3_CREDENTIALS },
        },
        images: componentImages(env),
        imagePullPolicy: 'Never',
        namespacePrefix: 'thanos-ha-e2e',
        disposableClusters: true,
        release,
      };
    } catch (err) {
      await release();
      throw err;
    }
  },
};

/** Runs kind; a failure is one line with kind's last error line. */
async function runKind(kind: string, args: string[], env: Env, timeoutMs: number, what: string): Promise<void> {
  const result = await execa(kind, args, { env, reject: false, all: true, stdin: 'ignore', timeout: timeoutMs });
  if (result.timedOut) throw new Error(`${what}: kind did not finish within ${timeoutMs / 1000}s`);
  if (result.exitCode !== 0) {
    const lines = (result.all ?? '').trim().split('\n');
    const error = lines.reverse().find((l) => /error|failed/i.test(l)) ?? lastLine(result.all);
    throw new Error(`${what}: kind exited ${result.exitCode}: ${error.trim()}`);
  }
}
