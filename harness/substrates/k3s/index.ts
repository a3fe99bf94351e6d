// The k3s substrate's cluster provider: one K3sContainer per topology cluster (observer, observee) on
// one testcontainers Network, S3 in a container on the same network (LocalStack 4.14.0, or versitygw),
// the component images copied into k3s's airgap directory; then the shared deploy path (../kubernetes).
//
//   THANOS_HA_E2E_S3              localstack (default) | versitygw
//   THANOS_HA_E2E_LOCALSTACK_IMAGE  default localstack/localstack:4.14.0, the last that starts without
//                                 a token, where the engine has it or can pull it, else the image built
//                                 here from the pinned localstack-core (images/localstack.ts);
//                                 LOCALSTACK_AUTH_TOKEN is passed through for newer tags
//   THANOS_HA_E2E_K3S_IMAGE       default rancher/k3s:v1.33.5-k3s1 (harness/images/k3s.ts)
//   THANOS_HA_E2E_PULL_TIMEOUT    seconds one `docker pull` of the k3s or LocalStack image may take
//                                 (default 300), where it is not in the local engine
//
// Pods dial across clusters by container IP on the network plus node port (k3s's CoreDNS does not
// forward to Docker's embedded DNS, so network aliases are not resolvable from pods).
import { spawnSync } from 'node:child_process';
import { execa } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { K3sContainer, type StartedK3sContainer } from '@testcontainers/k3s';
import { LocalstackContainer } from '@testcontainers/localstack';
import { chooseLocalstackImage } from '../../images/localstack.ts';
import { localstackPin } from '../../binaries/localstack.ts';
import { GenericContainer, Network, Wait, type StartedNetwork, type StartedTestContainer } from 'testcontainers';
import type { Env } from '../../binaries/cache.ts';
import { dockerServerVersion } from '../../images/docker.ts';
import { imageExists, pullImage, pullTimeoutMs, savedImageTar } from '../../images/image.ts';
import { k3sImage } from '../../images/k3s.ts';
import { PAUSE_IMAGE } from '../../images/pause.ts';
import { Bucket } from '../../s3/bucket.ts';
import { S3_CREDENTIALS, versitygwArgs } from '../../s3/versitygw.ts';
import type { Topology } from '../../topology/model.ts';
import { KubeCluster } from '../kubernetes/cluster.ts';
import { componentImages } from '../kubernetes/component-images.ts';
import { S3_PORT } from '../kubernetes/infra.ts';
import { LOCALSTACK_NO_OUTAGE, type ClusterProvider, type ProvidedClusters, type ProvisionOptions, type S3Outage, type UnavailableOptions } from '../kubernetes/provider.ts';
import { nodeLinkSwitch } from '../kubernetes/link-cut.ts';
import { registerCleanup } from '../teardown.ts';
import { waitFor } from '../../wait.ts';

export const DEFAULT_LOCALSTACK_IMAGE = localstackPin().image;
const LOCALSTACK_PORT = 4566;
const AIRGAP_DIR = '/var/lib/rancher/k3s/agent/images';

export type S3Backend = 'localstack' | 'versitygw';

export function s3Backend(env: Env = process.env): S3Backend {
  const value = env.THANOS_HA_E2E_S3 || 'localstack';
  if (value !== 'localstack' && value !== 'versitygw') throw new Error(`THANOS_HA_E2E_S3="${value}" is not an S3 backend of the k3s substrate: use localstack or versitygw`);
  return value;
}

export function localstackImage(env: Env = process.env): string {
  return env.THANOS_HA_E2E_LOCALSTACK_IMAGE || DEFAULT_LOCALSTACK_IMAGE;
}

/** The images a k3s run needs in the local engine: the k3s image is run, the others are copied into k3s. */
export function requiredImages(env: Env = process.env): string[] {
  const components = componentImages(env);
  return [
    k3sImage(env),
    ...(s3Backend(env) === 'localstack' ? [localstackImage(env)] : []),
    PAUSE_IMAGE,
    components.thanos!,
    components.prometheus!,
    components.alertmanager!,
    components.versitygw!,
    components['workload-relay']!,
  ];
}

/** The images a registry serves, pulled where the local engine lacks them (as testcontainers does); the others are built here. */
export function pulledImages(env: Env = process.env): string[] {
  return [k3sImage(env), ...(s3Backend(env) === 'localstack' ? [localstackImage(env)] : [])];
}

/**
 * Why the k3s substrate cannot run here, in one line, or undefined when it can. An image missing from
 * the local engine that a registry serves (k3s, LocalStack) is pulled first, unless opts.pull is
 * false; it is named in the reason only when the pull failed too. The images built here are checked
 * before anything is pulled: without them the run skips anyway, and nothing is pulled in vain.
 */
export async function k3sUnavailable(given: Env = process.env, opts: UnavailableOptions = {}): Promise<string | undefined> {
  if (!(await dockerServerVersion(given))) return 'no Docker engine answers (start dockerd, or set DOCKER_HOST)';
  const env = await withLocalstackImage(given);
  const pulled = new Set(pulledImages(env));
  const missing: string[] = [];
  for (const image of requiredImages(env)) if (!(await imageExists(image, env))) missing.push(image);
  if (missing.length === 0) return undefined;
  const built = missing.filter((image) => !pulled.has(image));
  const toPull = missing.filter((image) => pulled.has(image));
  if (built.length > 0) {
    const later = toPull.length ? `; ${toPull.join(', ')} will be pulled` : '';
    return `image(s) not in the local Docker engine: ${built.join(', ')} (node harness/cli.ts images builds them${later})`;
  }
  if (opts.pull === false) return `image(s) not in the local Docker engine: ${toPull.join(', ')} (not pulled by this check; a k3s run pulls them)`;
  const timeoutMs = pullTimeoutMs(env);
  const failed = await Promise.all(
    toPull.map(async (image) => {
      opts.onProgress?.(`pulling ${image} (at most ${Math.round(timeoutMs / 1000)}s)`);
      const why = await pullImage(image, { env, timeoutMs });
      return why ? `${image} (${why})` : undefined;
    }),
  );
  const unobtainable = failed.filter((f) => f !== undefined);
  if (unobtainable.length === 0) return undefined;
  return `image(s) neither in the local Docker engine nor pullable: ${unobtainable.join(', ')} (docker pull or docker load them, or set THANOS_HA_E2E_K3S_IMAGE / THANOS_HA_E2E_LOCALSTACK_IMAGE to images you have)`;
}

/**
 * The environment with THANOS_HA_E2E_LOCALSTACK_IMAGE set to the LocalStack image a run would use when
 * it is not set: the pinned upstream image where the engine has it, else the one built here from the
 * pinned runtime (images/localstack.ts). Unchanged where neither is local (the checks then pull the
 * upstream image, and name it if that fails) or where LocalStack is not the S3.
 */
async function withLocalstackImage(env: Env): Promise<Env> {
  if (env.THANOS_HA_E2E_LOCALSTACK_IMAGE || s3Backend(env) !== 'localstack') return env;
  // Only looks: where neither image is local, the checks below pull the upstream one as before.
  const choice = await chooseLocalstackImage(env, { pull: false });
  return choice.image ? { ...env, THANOS_HA_E2E_LOCALSTACK_IMAGE: choice.image } : env;
}

export const k3sProvider: ClusterProvider = {
  name: 'k3s',

  unavailable: (env, opts) => k3sUnavailable(env, opts),

  async check(_topology: Topology, { env, onProgress }: ProvisionOptions): Promise<void> {
    const unavailable = await k3sUnavailable(env, { onProgress });
    if (unavailable) throw new Error(`the k3s substrate cannot start: ${unavailable}`);
  },

  async provision(topology: Topology, { env: given, onProgress: progress }: ProvisionOptions): Promise<ProvidedClusters> {
    const env = await withLocalstackImage(given);
    // testcontainers reports a container's host as the Docker gateway when it runs in a container
    // itself; mapped ports are published on 127.0.0.1 too, and tests talk only to this machine.
    if (!env.DOCKER_HOST && !env.TESTCONTAINERS_HOST_OVERRIDE) env.TESTCONTAINERS_HOST_OVERRIDE = 'localhost';
    const dir = await mkdtemp(join(tmpdir(), 'thanos-ha-e2e-k3s-'));

    const containers: StartedTestContainer[] = [];
    let network: StartedNetwork | undefined;
    const removeAll = async () => {
      for (const c of containers.reverse()) await c.stop({ remove: true, removeVolumes: true }).catch(() => undefined);
      await network?.stop().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    };
    // Registered before the first container starts: Ctrl-C while k3s boots removes it too. On a hard
    // exit there is only time for `docker rm -f` (ryuk, where it runs, is the second net).
    const release = registerCleanup('k3s containers', removeAll, () => {
      const ids = containers.map((c) => c.getId());
      if (ids.length) spawnSync('docker', ['rm', '-f', '-v', ...ids], { stdio: 'ignore' });
      if (network) spawnSync('docker', ['network', 'rm', network.getId()], { stdio: 'ignore' });
    });
    try {
      network = await new Network().start();
      const backend = s3Backend(env);
      const started = Date.now();
      progress(`starting S3 (${backend}) and ${topology.clusters.length} k3s clusters on network ${network.getName()}`);
      const s3Server = await startS3(backend, network, env, (c) => containers.push(c));
      const s3Container = s3Server.reachable;
      const s3Port = backend === 'localstack' ? LOCALSTACK_PORT : S3_PORT;
      const s3 = {
        pods: { endpoint: `${s3Container.getIpAddress(network.getName())}:${s3Port}`, bucket: topology.bucket, insecure: true, ...S3_CREDENTIALS },
        test: { url: `http://127.0.0.1:${s3Container.getMappedPort(s3Port)}`, bucket: topology.bucket, ...S3_CREDENTIALS },
      };
      const bucket = new Bucket(s3.test);
      await bucket.create();
      bucket.close();

      const tars = await imageTars(env);
      const k3s: Record<string, StartedK3sContainer> = {};
      await Promise.all(
        topology.clusters.map(async (c) => {
          const clusterStarted = Date.now();
          const container = await new K3sContainer(k3sImage(env))
            .withNetwork(network!)
            .withNetworkAliases(`${c.name}-k3s`)
            // No NetworkPolicy is used, and kube-router's policy controller would put its FORWARD jump back ahead of a link cut's rules.
            .withCommand(['server', '--disable=traefik,metrics-server,servicelb,local-storage', '--disable-network-policy', `--pause-image=${PAUSE_IMAGE}`])
            .withCopyFilesToContainer(tars.map((source, i) => ({ source, target: `${AIRGAP_DIR}/image-${i}.tar` })))
            .start();
          containers.push(container);
          k3s[c.name] = container;
          progress(`  k3s ${c.name} started in ${((Date.now() - clusterStarted) / 1000).toFixed(1)}s`);
        }),
      );
      progress(`  S3 and k3s clusters up in ${((Date.now() - started) / 1000).toFixed(1)}s`);

      const clusters: Record<string, KubeCluster> = {};
      for (const [name, container] of Object.entries(k3s)) {
        const kubeConfig = new KubeConfig();
        kubeConfig.loadFromString(container.getKubeConfig());
        const file = join(dir, `kubeconfig-${name}`);
        await writeFile(file, kubeConfig.exportConfig(), { mode: 0o600 });
        clusters[name] = new KubeCluster(name, kubeConfig, file);
      }
      // One k3s per topology cluster: pods reach another cluster at its container's IP and a node port.
      const nodeIp = Object.fromEntries(Object.entries(k3s).map(([name, c]) => [name, c.getIpAddress(network!.getName())]));
      return {
        clusters,
        crossCluster: (e) => `${nodeIp[e.cluster]}:${e.nodePort}`,
        // The image has iptables (k3s' own, on PATH through /bin/aux).
        links: nodeLinkSwitch(topology, (c) => ({
          address: nodeIp[c]!,
          exec: async (argv) => {
            const result = await k3s[c]!.exec(argv);
            if (result.exitCode !== 0) throw new Error(`exit ${result.exitCode}: ${result.output.trim().split('\n').pop()}`);
          },
        })),
        s3,
        s3Outage: s3Server.outage,
        images: componentImages(env),
        imagePullPolicy: 'Never',
        namespacePrefix: 'thanos-ha-e2e',
        release,
      };
    } catch (err) {
      await release();
      throw err;
    }
  },
};

/**
 * S3 on the network. versitygw runs in the network namespace of a pause container, which holds the
 * address, the alias and the published port: Docker gives a restarted container new ones
 * (moby/moby#2801), so only this way does an outage (docker stop, docker start) leave versitygw where
 * the pods' configuration has it; its directories live in its writable layer, kept across a stop.
 * Each container is handed to `started` as soon as it runs, for teardown.
 */
async function startS3(
  backend: S3Backend,
  network: StartedNetwork,
  env: Env,
  started: (c: StartedTestContainer) => void,
): Promise<{ reachable: StartedTestContainer; outage: S3Outage | string }> {
  if (backend === 'localstack') {
    const container = await new LocalstackContainer(localstackImage(env)).withNetwork(network).withNetworkAliases('s3').withEnvironment({
      SERVICES: 's3',
      AWS_ACCESS_KEY_ID: S3_CREDENTIALS.accessKey,
      AWS_SECRET_ACCESS_KEY: S3_CREDENTIALS.secretKey,
      ...(env.LOCALSTACK_AUTH_TOKEN ? { LOCALSTACK_AUTH_TOKEN: env.LOCALSTACK_AUTH_TOKEN } : {}),
    }).start();
    started(container);
    return { reachable: container, outage: LOCALSTACK_NO_OUTAGE };
  }
  const holder = await new GenericContainer(PAUSE_IMAGE)
    .withNetwork(network)
    .withNetworkAliases('s3')
    .withExposedPorts(S3_PORT)
    // Nothing listens in it until versitygw joins: no wait here, versitygw's is below.
    .withWaitStrategy(Wait.forAll([]))
    .start();
  started(holder);
  const s3 = await new GenericContainer(componentImages(env).versitygw!)
    .withNetworkMode(`container:${holder.getId()}`)
    // A scratch image has no directories to write to: these files make them.
    .withCopyContentToContainer([
      { content: '', target: '/data/.keep' },
      { content: '', target: '/meta/.keep' },
    ])
    .withCommand(versitygwArgs(`:${S3_PORT}`, '/data', '/meta'))
    .withWaitStrategy(Wait.forAll([]))
    .start();
  started(s3);
  const url = `http://127.0.0.1:${holder.getMappedPort(S3_PORT)}`;
  const answers = () => waitVersitygw(s3.getId(), url, env);
  await answers();
  const docker = async (args: string[]) => {
    const result = await execa('docker', args, { env, reject: false, all: true, stdin: 'ignore', timeout: 60_000 });
    if (result.exitCode !== 0) throw new Error(`docker ${args.join(' ')} failed: ${(result.all ?? '').trim().split('\n').pop()}`);
  };
  return {
    reachable: holder,
    outage: {
      stop: () => docker(['stop', '--time', '5', s3.getId()]),
      start: async () => {
        await docker(['start', s3.getId()]);
        await answers();
      },
    },
  };
}

/** Waits until versitygw answers at url (any HTTP answer: it refuses anonymous requests); gives up once its container is not running. */
async function waitVersitygw(id: string, url: string, env: Env): Promise<void> {
  let exited: string | undefined;
  await waitFor(
    `S3 (versitygw) in container ${id.slice(0, 12)}`,
    async () => {
      const state = await execa('docker', ['inspect', '--format', '{{.State.Status}}', id], { env, reject: false, stdin: 'ignore' });
      if (state.stdout.trim() !== 'running') {
        exited = `S3 container ${id.slice(0, 12)} is ${state.stdout.trim() || 'gone'}`;
        return undefined;
      }
      await fetch(`${url}/`, { signal: AbortSignal.timeout(2_000) });
      return true;
    },
    { timeoutMs: 60_000, intervalMs: 200, abort: () => exited },
  );
}

/** The saved tars of the images pods run (what `node harness/cli.ts images` wrote). */
async function imageTars(env: Env): Promise<string[]> {
  const tags = new Set([PAUSE_IMAGE, ...Object.values(componentImages(env))]);
  return Promise.all([...tags].map((tag) => savedImageTar(tag, env)));
}
