// What one kind run creates in Docker besides its clusters: a network of its own (which kind puts
// its nodes on, through KIND_EXPERIMENTAL_DOCKER_NETWORK) and the S3 container on it. The network is
// the run's anchor: it carries the owner label, and removing "every container on the network, then
// the network" removes the whole run, clusters included (what the reaper and the janitor do).
import { spawnSync } from 'node:child_process';
import { execa } from 'execa';
import type { Env } from '../../binaries/cache.ts';
import { lastLine } from '../../images/image.ts';
import { S3_CREDENTIALS, versitygwArgs } from '../../s3/versitygw.ts';
import { waitFor } from '../../wait.ts';
import { OWNER_LABEL } from '../kubernetes/cluster.ts';
import { LOCALSTACK_NO_OUTAGE, type S3Outage } from '../kubernetes/provider.ts';
import { tokenDemand, tokenDemandMessage } from '../../s3/localstack.ts';

/** Docker labels take the same key as the namespaces' owner label (kubernetes/janitor.ts). */
export const RUN_OWNER_LABEL = OWNER_LABEL;
/** Marks a container that shares another's network namespace (so is not "on" the run's network): the run it belongs to. */
export const RUN_NETWORK_LABEL = 'thanos-ha-e2e.io/run-network';
const S3_READY_TIMEOUT_MS = 120_000;

export async function docker(args: string[], env: Env, timeoutMs = 120_000): Promise<string> {
  const result = await execa('docker', args, { env, reject: false, all: true, stdin: 'ignore', timeout: timeoutMs });
  if (result.exitCode !== 0 || result.timedOut) throw new Error(`docker ${args.slice(0, 2).join(' ')} failed: ${lastLine(result.all) || `exit ${result.exitCode}`}`);
  return result.stdout.trim();
}

export async function createRunNetwork(name: string, owner: string, env: Env): Promise<void> {
  await docker(['network', 'create', '--driver', 'bridge', '--label', `${RUN_OWNER_LABEL}=${owner}`, name], env);
}

/**
 * A shell command that removes every container of the run and the network (reaper, exit path): those
 * in another's network namespace first (the S3 in its holder's), then those on the network.
 */
export function removeRunCommand(network: string): string {
  const name = network.replace(/'/g, '');
  const q = `'${name}'`;
  const remove = (filter: string) => `ids=$(docker ps -aq --filter ${filter}); [ -n "$ids" ] && docker rm -f -v $ids >/dev/null;`;
  return `${remove(`'label=${RUN_NETWORK_LABEL}=${name}'`)} ${remove(`network=${q}`)} docker network rm ${q} >/dev/null 2>&1; true`;
}

export async function removeRun(network: string, env: Env): Promise<void> {
  await execa('sh', ['-c', removeRunCommand(network)], { env, reject: false, stdin: 'ignore', timeout: 120_000 });
}

/** The same, synchronously: for process exit, where nothing asynchronous runs any more. */
export function removeRunNow(network: string): void {
  spawnSync('sh', ['-c', removeRunCommand(network)], { stdio: 'ignore', timeout: 30_000 });
}

/** The gateway of a network: the host's own address on it (what the network's containers reach the host at). */
export async function gatewayOf(network: string, env: Env): Promise<string> {
  const ip = await docker(['network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Gateway}} {{end}}', network], env);
  const v4 = ip.split(/\s+/).find((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a));
  if (!v4) throw new Error(`Docker network ${network} has no IPv4 gateway (got "${ip}")`);
  return v4;
}

/** A container's address on a network. */
export async function addressOn(container: string, network: string, env: Env): Promise<string> {
  const ip = await docker(['inspect', '--format', `{{ (index .NetworkSettings.Networks ${JSON.stringify(network)}).IPAddress }}`, container], env);
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip)) throw new Error(`container ${container} has no IPv4 address on network ${network} (got "${ip}")`);
  return ip;
}

export type S3Backend = 'localstack' | 'versitygw';

export interface S3Container {
  /** host:port on the run's network, for pods (through their node). */
  podEndpoint: string;
  /** http://127.0.0.1:<published port>, for the test process. */
  testUrl: string;
  /** RunningTopology.stopS3/startS3 on this container, or why its backend cannot have an outage. */
  outage: S3Outage | string;
}

const LOCALSTACK_PORT = 4566;
const VERSITYGW_PORT = 7070;

/** The `docker run` arguments of the S3 containers: LocalStack on the run's network, or versitygw in a holder's network namespace. */
export function s3ContainerArgs(
  backend: S3Backend,
  opts: { name: string; network: string; owner: string; versitygwImage: string; localstackImage: string; pauseImage: string; env: Env },
): { holder?: string[]; s3: string[] } {
  const labels = ['--label', `${RUN_OWNER_LABEL}=${opts.owner}`];
  if (backend === 'localstack') {
    return {
      s3: [
        'run', '-d', '--name', opts.name, '--network', opts.network, ...labels, '-p', `127.0.0.1::${LOCALSTACK_PORT}`,
        '-e', 'SERVICES=s3',
        // Nothing reaching out of the machine: no DNS server, certificate download or analytics.
        '-e', 'DNS_ADDRESS=0',
        '-e', 'SKIP_SSL_CERT_DOWNLOAD=1',
        '-e', 'DISABLE_EVENTS=1',
        '-e', `AWS_ACCESS_KEY_ID=${S3_CREDENTIALS.accessKey}`,
        '-e', `AWS_SECRET_ACCESS_KEY=${S3_CREDENTIALS.secretKey}`,
        ...(opts.env.LOCALSTACK_AUTH_TOKEN ? ['-e', 'LOCALSTACK_AUTH_TOKEN'] : []),
        opts.localstackImage,
      ],
    };
  }
  // Docker gives a restarted container a new address (and a new published port): a pause container
  // holds the network namespace, address and port (moby/moby#2801), and versitygw runs in it, so
  // stopping and starting versitygw (an outage) leaves both as the pods' configuration has them.
  // Anonymous volumes (a scratch image has no directories) keep the bucket across a stop; the run's
  // removal (docker rm -v) removes them.
  return {
    holder: ['run', '-d', '--name', s3HolderName(opts.name), '--network', opts.network, ...labels, '-p', `127.0.0.1::${VERSITYGW_PORT}`, opts.pauseImage],
    s3: [
      'run', '-d', '--name', opts.name, '--network', `container:${s3HolderName(opts.name)}`, ...labels, '--label', `${RUN_NETWORK_LABEL}=${opts.network}`,
      '-v', '/data', '-v', '/meta', opts.versitygwImage, ...versitygwArgs(`:${VERSITYGW_PORT}`, '/data', '/meta'),
    ],
  };
}

/** The container that holds versitygw's network namespace. */
export const s3HolderName = (name: string) => `${name}-net`;

/**
 * Starts S3 on the run's network, its port published on 127.0.0.1 only, and waits until it answers:
 * versitygw (the harness's own image), or LocalStack (its health endpoint says s3 is up).
 */
export async function startS3Container(
  backend: S3Backend,
  opts: { name: string; network: string; owner: string; versitygwImage: string; localstackImage: string; pauseImage: string; env: Env; onProgress: (line: string) => void },
): Promise<S3Container> {
  const port = backend === 'localstack' ? LOCALSTACK_PORT : VERSITYGW_PORT;
  const args = s3ContainerArgs(backend, opts);
  if (args.holder) await docker(args.holder, opts.env);
  await docker(args.s3, opts.env);
  const reachable = args.holder ? s3HolderName(opts.name) : opts.name;
  const published = await docker(['port', reachable, `${port}/tcp`], opts.env);
  const hostPort = /:(\d+)$/m.exec(published)?.[1];
  if (!hostPort) throw new Error(`S3 container ${reachable} published no port for ${port} (docker port: "${published}")`);
  const testUrl = `http://127.0.0.1:${hostPort}`;
  const answers = () => waitS3Answers(backend, opts.name, testUrl, opts.env, opts.onProgress);
  await answers();
  const outage: S3Outage | string =
    backend === 'localstack'
      ? LOCALSTACK_NO_OUTAGE
      : {
          stop: async () => void (await docker(['stop', '--time', '5', opts.name], opts.env)),
          start: async () => {
            await docker(['start', opts.name], opts.env);
            await answers();
          },
        };
  return { podEndpoint: `${await addressOn(reachable, opts.network, opts.env)}:${port}`, testUrl, outage };
}

/** Waits until the S3 in container answers at testUrl; gives up at once when the container is not running. */
async function waitS3Answers(backend: S3Backend, container: string, testUrl: string, env: Env, onProgress: (line: string) => void): Promise<void> {
  // A container that exited will not answer by waiting: the wait gives up on it at once.
  let exited: string | undefined;
  await waitFor(
    `S3 (${backend}) in container ${container}`,
    async (note) => {
      const state = await docker(['inspect', '--format', '{{.State.Status}}', container], env);
      if (state !== 'running') {
        const logs = await execa('docker', ['logs', '--tail', '40', container], { reject: false, all: true, env, stdin: 'ignore' });
        const demand = backend === 'localstack' ? tokenDemand(logs.all ?? '') : undefined;
        exited = demand ? tokenDemandMessage(`LocalStack in container ${container}`, demand) : `S3 container ${container} is ${state}: ${lastLine(logs.all)}`;
        return undefined;
      }
      if (backend === 'versitygw') {
        // Any HTTP answer means it is up (it refuses anonymous requests).
        await fetch(`${testUrl}/`, { signal: AbortSignal.timeout(2_000) });
        return true;
      }
      const health = (await (await fetch(`${testUrl}/_localstack/health`, { signal: AbortSignal.timeout(2_000) })).json()) as { services?: Record<string, string> };
      note(`s3 is ${health.services?.s3 ?? 'not listed'}`);
      return ['available', 'running'].includes(health.services?.s3 ?? '') ? true : undefined;
    },
    { timeoutMs: S3_READY_TIMEOUT_MS, intervalMs: 200, onProgress, abort: () => exited },
  );
}
