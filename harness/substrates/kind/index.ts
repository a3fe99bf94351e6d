// The kind substrate's cluster provider: one kind cluster per topology cluster (observer, observee),
// each a single node container on a Docker network of the run's own, with S3 in a container on the
// same network; the component images loaded into every node; then the shared deploy path
// (../kubernetes) with one kubeconfig context per cluster.
//
//   THANOS_HA_E2E_S3                 versitygw | localstack (default: LocalStack where its upstream image
//                                    is in the local engine or can be pulled, versitygw otherwise);
//                                    localstack by name also takes the image built here from the pinned
//                                    localstack-core (node harness/cli.ts images localstack)
//   THANOS_HA_E2E_PULL_TIMEOUT       seconds one docker pull (LocalStack, kindest/node) may take (300)
//   THANOS_HA_E2E_LOCALSTACK_IMAGE   default localstack/localstack:4.14.0, else thanos-ha-e2e/localstack:<pin>
//                                    (images/localstack.ts; LOCALSTACK_AUTH_TOKEN is passed through for newer tags)
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
import { chooseLocalstackImage } from '../../images/localstack.ts';
import { localstackPin } from '../../binaries/localstack.ts';
import { PAUSE_IMAGE } from '../../images/pause.ts';
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
import { addressOn, createRunNetwork, docker, removeRun, removeRunCommand, removeRunNow, startS3Container, type S3Backend, type S3Container } from './run-resources.ts';
import { nodeLinkSwitch, type LinkNode } from '../kubernetes/link-cut.ts';

/** The pinned upstream LocalStack image (fixtures/versions.json "localstack".image). */
export const DEFAULT_LOCALSTACK_IMAGE = localstackPin().image;
const CREATE_TIMEOUT_MS = 5 * 60_000;
const LOAD_TIMEOUT_MS = 5 * 60_000;

export type S3Choice = { backend: 'versitygw'; image?: undefined } | { backend: 'localstack'; image: string; how: string };

/**
 * The S3 backend and its image: as THANOS_HA_E2E_S3 says; unset, LocalStack where its upstream image
 * (or THANOS_HA_E2E_LOCALSTACK_IMAGE) is in the local engine or can be pulled (opts.pull), else
 * versitygw. LocalStack asked for by name also takes the image built here from the pinned runtime
 * (images/localstack.ts); one that none of them gives is a one-line error.
 */
export async function s3Choice(env: Env, opts: { pull: boolean; onProgress?: (line: string) => void } = { pull: false }): Promise<S3Choice> {
  const value = env.THANOS_HA_E2E_S3;
  if (value && value !== 'localstack' && value !== 'versitygw') throw new Error(`THANOS_HA_E2E_S3="${value}" is not an S3 backend of the kind substrate: use localstack or versitygw`);
  if (value === 'versitygw') return { backend: 'versitygw' };
  const choice = await chooseLocalstackImage(env, opts);
  if (choice.image && (value === 'localstack' || !choice.image.startsWith('thanos-ha-e2e/'))) return { backend: 'localstack', image: choice.image, how: choice.how };
  if (value === 'localstack') throw new Error(`THANOS_HA_E2E_S3=localstack, but ${choice.why}`);
  return { backend: 'versitygw' };
}

export async function s3Backend(env: Env, opts: { pull: boolean; onProgress?: (line: string) => void } = { pull: false }): Promise<S3Backend> {
  return (await s3Choice(env, opts)).backend;
}

/** The images pods run, loaded into every node (the node image has its own pause and control plane). */
function loadedImages(env: Env): string[] {
  return [...new Set(Object.values(componentImages(env)).filter((i): i is string => i !== undefined))];
}

/**
 * Why kind clusters with the component images cannot be made here, in one line (Docker, the images,
 * the node image); undefined when they can. Also for the two-context command (kube-two-clusters.ts),
 * whose S3 is not a container.
 */
export async function kindClustersUnavailable(env: Env, opts: UnavailableOptions = {}): Promise<string | undefined> {
  if (!(await dockerServerVersion(env))) return 'no Docker engine answers (start dockerd, or set DOCKER_HOST)';
  const missing: string[] = [];
  for (const image of loadedImages(env)) if (!(await imageExists(image, env))) missing.push(image);
  if (missing.length) return `image(s) not in the local Docker engine: ${missing.join(', ')} (node harness/cli.ts images kind builds them)`;
  const node = await chooseNodeImage(env, { pull: opts.pull ?? true, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
  return node.why;
}

/** Why kind cannot run here, in one line; undefined when it can. Pulls LocalStack and the node image where they are missing, unless opts.pull is false. */
export async function kindUnavailable(env: Env, opts: UnavailableOptions = {}): Promise<string | undefined> {
  const clusters = await kindClustersUnavailable(env, opts);
  if (clusters) return clusters;
  const backend = await s3Backend(env, { pull: opts.pull ?? true, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
  // versitygw runs in a pause container's network namespace (run-resources.ts), on the host's engine.
  if (backend === 'versitygw' && !(await imageExists(PAUSE_IMAGE, env))) return `image(s) not in the local Docker engine: ${PAUSE_IMAGE} (node harness/cli.ts images kind builds it)`;
  return undefined;
}

/** Loads the component images (their saved tars) into every named cluster of the run, each cluster in parallel. */
export async function loadComponentImages(run: Pick<KindRun, 'loadImages'>, clusters: string[], env: Env): Promise<void> {
  const tars = await Promise.all(loadedImages(env).map((image) => savedImageTar(image, env)));
  await Promise.all(clusters.map((c) => run.loadImages(c, tars)));
}

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)}s`;

export const kindProvider: ClusterProvider = {
  name: 'kind',

  unavailable: (env, opts) => kindUnavailable(env, opts),

  /** A kind cluster of its own for the role, made for this run and deleted by release. */
  async lendCluster(role, { env, onProgress }) {
    const run = await startKindRun([role], { env, onProgress });
    const kc = run.clusters[role]!.kubeConfig;
    return { kubeConfig: kc, context: kc.getCurrentContext(), server: kc.getCurrentCluster()?.server ?? '', loadImages: (tars) => run.loadImages(role, tars), release: run.release };
  },

  async check(_topology: Topology, { env, onProgress }: ProvisionOptions): Promise<void> {
    const unavailable = await kindUnavailable(env, { onProgress });
    if (unavailable) throw new Error(`the kind substrate cannot start: ${unavailable}`);
  },

  async provision(topology: Topology, { env, onProgress: progress }: ProvisionOptions): Promise<ProvidedClusters> {
    const s3Chosen = await s3Choice(env);
    if (s3Chosen.image) progress(`S3: LocalStack ${s3Chosen.image} (${s3Chosen.how})`);
    const run = await startKindRun(topology.clusters.map((c) => c.name), { env, onProgress: progress, s3: s3Chosen.backend, localstackImage: s3Chosen.image });
    try {
      await loadComponentImages(run, topology.clusters.map((c) => c.name), env);
      const s3 = await run.s3!;
      const bucket = new Bucket({ url: s3.testUrl, bucket: topology.bucket, ...S3_CREDENTIALS });
      await bucket.create();
      bucket.close();
      return {
        clusters: run.clusters,
        crossCluster: (e) => `${run.nodeAddress[e.cluster]}:${e.nodePort}`,
        links: nodeLinkSwitch(topology, (c) => kindLinkNode(run, c, env)),
        s3: {
          pods: { endpoint: s3.podEndpoint, bucket: topology.bucket, insecure: true, ...S3_CREDENTIALS },
          test: { url: s3.testUrl, bucket: topology.bucket, ...S3_CREDENTIALS },
        },
        s3Outage: s3.outage,
        images: componentImages(env),
        imagePullPolicy: 'Never',
        namespacePrefix: 'thanos-ha-e2e',
        disposableClusters: true,
        runDir: run.dir,
        release: run.release,
      };
    } catch (err) {
      await run.release();
      throw err;
    }
  },
};

export interface KindRun {
  /** The network, and the prefix of every cluster's and container's name. */
  readonly id: string;
  /** The run's directory (kubeconfigs); removed by release, or by the reaper when the runner dies. */
  readonly dir: string;
  readonly clusters: Record<string, KubeCluster>;
  /** Each cluster's node address on the run's network (other clusters' pods dial its node ports there). */
  readonly nodeAddress: Record<string, string>;
  /** Each cluster's node container (`docker exec` runs a link cut's iptables there). */
  readonly nodeContainer: Record<string, string>;
  /** S3 on the network, when asked for; started while the clusters are created. */
  readonly s3: Promise<S3Container> | undefined;
  loadImages(cluster: string, tars: string[]): Promise<void>;
  /** Deletes the clusters, every container on the network and the network; once. */
  release(): Promise<void>;
}

/**
 * Creates one kind cluster per name (in parallel) on a network of the run's own, and S3 on it when
 * opts.s3 names a backend. Registered for teardown, and with a reaper, before anything is created;
 * on failure everything is removed before it throws.
 */
export async function startKindRun(names: string[], opts: { env: Env; onProgress: (line: string) => void; s3?: S3Backend; localstackImage?: string }): Promise<KindRun> {
  const { env, onProgress: progress } = opts;
  const kind = env.KIND_BIN || (await resolveBinary('kind', { onProgress: progress })).path;
  const node = await chooseNodeImage(env, { pull: true, onProgress: progress });
  if (!node.image) throw new Error(`the kind substrate cannot start: ${node.why}`);
  const nodeImage = node.image;
  await cleanAbandonedKindRuns(env, progress);

  // Names unique per run: the network, the S3 container and the clusters (<run>-<cluster>).
  const id = `thanos-ha-e2e-${randomBytes(3).toString('hex')}`;
  const owner = ownerLabel();
  const dir = await mkdtemp(join(tmpdir(), 'thanos-ha-e2e-kind-'));
  const clusterName = (c: string) => `${id}-${c}`;
  const kubeconfigOf = (c: string) => join(dir, `kubeconfig-${c}`);
  // kind and the docker commands it runs carry the run's marker: a reaper kills them before it
  // removes the containers, so a cluster being created cannot appear after the cleanup.
  const kindEnv = { ...env, KIND_EXPERIMENTAL_DOCKER_NETWORK: id, THANOS_HA_E2E_RUN: dir };
  const reaper = await startReaper(dir, false, removeRunCommand(id));
  const release = registerCleanup(
    `kind run ${id}`,
    async () => {
      const started = Date.now();
      await Promise.all(names.map((c) => execa(kind, ['delete', 'cluster', '--name', clusterName(c), '--kubeconfig', kubeconfigOf(c)], { env: kindEnv, reject: false, stdin: 'ignore', timeout: 120_000 })));
      await removeRun(id, env);
      await rm(dir, { recursive: true, force: true });
      await reaper.release();
      progress(`  kind clusters${opts.s3 ? ', S3' : ''} and network ${id} removed in ${seconds(started)}`);
    },
    () => removeRunNow(id),
  );

  try {
    const started = Date.now();
    await createRunNetwork(id, owner, env);
    progress(`kind run ${id}: ${names.length} cluster(s) (node image ${nodeImage}, ${node.how})${opts.s3 ? ` and S3 (${opts.s3})` : ''} on Docker network ${id}`);
    const s3 = opts.s3
      ? startS3Container(opts.s3, { name: `${id}-s3`, network: id, owner, versitygwImage: componentImages(env).versitygw!, localstackImage: opts.localstackImage ?? DEFAULT_LOCALSTACK_IMAGE, pauseImage: PAUSE_IMAGE, env, onProgress: progress })
      : undefined;
    s3?.catch(() => undefined); // awaited by the caller; a failure must not go unhandled meanwhile

    const clusters: Record<string, KubeCluster> = {};
    const nodeAddress: Record<string, string> = {};
    const nodeContainer = Object.fromEntries(names.map((c) => [c, `${clusterName(c)}-control-plane`]));
    const creationSeconds: Record<string, number> = {};
    await Promise.all(
      names.map(async (c) => {
        const createStarted = Date.now();
        await runKind(kind, ['create', 'cluster', '--name', clusterName(c), '--image', nodeImage, '--kubeconfig', kubeconfigOf(c), '--wait', '2m'], kindEnv, CREATE_TIMEOUT_MS, `creating kind cluster ${clusterName(c)}`);
        creationSeconds[c] = (Date.now() - createStarted) / 1000;
        progress(`  kind cluster ${clusterName(c)} created in ${creationSeconds[c]!.toFixed(1)}s`);
        const kubeConfig = new KubeConfig();
        kubeConfig.loadFromString(await readFile(kubeconfigOf(c), 'utf8'));
        kubeConfig.setCurrentContext(`kind-${clusterName(c)}`);
        clusters[c] = new KubeCluster(c, kubeConfig, kubeconfigOf(c));
        nodeAddress[c] = await addressOn(nodeContainer[c]!, id, env);
      }),
    );
    progress(`  kind clusters up in ${seconds(started)} (${Object.entries(creationSeconds).map(([c, s]) => `${c} ${s.toFixed(1)}s`).join(', ')})`);
    return {
      id,
      dir,
      clusters,
      nodeAddress,
      nodeContainer,
      s3,
      async loadImages(cluster: string, tars: string[]) {
        const loadStarted = Date.now();
        for (const tar of tars) await runKind(kind, ['load', 'image-archive', tar, '--name', clusterName(cluster)], kindEnv, LOAD_TIMEOUT_MS, `loading ${tar} into ${clusterName(cluster)}`);
        progress(`  ${tars.length} image(s) loaded into ${clusterName(cluster)} in ${seconds(loadStarted)}`);
      },
      release,
    };
  } catch (err) {
    await release();
    throw err;
  }
}

/** The `docker` arguments that run a command in a cluster's node container. */
export function nodeExecArgs(run: Pick<KindRun, 'nodeContainer'>, cluster: string, argv: string[]): string[] {
  const node = run.nodeContainer[cluster];
  if (!node) throw new Error(`no kind node for cluster "${cluster}" (have: ${Object.keys(run.nodeContainer).join(', ')})`);
  return ['exec', node, ...argv];
}

/** A cluster's node as a link cut sees it (kubernetes/link-cut.ts). */
function kindLinkNode(run: KindRun, cluster: string, env: Env): LinkNode {
  return { address: run.nodeAddress[cluster]!, exec: async (argv) => void (await docker(nodeExecArgs(run, cluster, argv), env, 30_000)) };
}

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
