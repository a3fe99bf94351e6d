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

/** Docker labels take the same key as the namespaces' owner label (kubernetes/janitor.ts). */
export const RUN_OWNER_LABEL = OWNER_LABEL;
const S3_READY_TIMEOUT_MS = 120_000;

export async function docker(args: string[], env: Env, timeoutMs = 120_000): Promise<string> {
  const result = await execa('docker', args, { env, reject: false, all: true, stdin: 'ignore', timeout: timeoutMs });
  if (result.exitCode !== 0 || result.timedOut) throw new Error(`docker ${args.slice(0, 2).join(' ')} failed: ${lastLine(result.all) || `exit ${result.exitCode}`}`);
  return result.stdout.trim();
}

export async function createRunNetwork(name: string, owner: string, env: Env): Promise<void> {
  await docker(['network', 'create', '--driver', 'bridge', '--label', `${RUN_OWNER_LABEL}=${owner}`, name], env);
}

/** A shell command that removes every container on the run's network and the network (reaper, exit path). */
export function removeRunCommand(network: string): string {
  const q = `'${network.replace(/'/g, '')}'`;
  return `ids=$(docker ps -aq --filter network=${q}); [ -n "$ids" ] && docker rm -f -v $ids >/dev/null; docker network rm ${q} >/dev/null 2>&1; true`;
}

export async function removeRun(network: string, env: Env): Promise<void> {
  await execa('sh', ['-c', removeRunCommand(network)], { env, reject: false, stdin: 'ignore', timeout: 120_000 });
}

/** The same, synchronously: for process exit, where nothing asynchronous runs any more. */
export function removeRunNow(network: string): void {
  spawnSync('sh', ['-c', removeRunCommand(network)], { stdio: 'ignore', timeout: 30_000 });
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
}

/**
 * Starts S3 on the run's network, its port published on 127.0.0.1 only, and waits until it answers:
 * versitygw (the harness's own image), or LocalStack (its health endpoint says s3 is up).
 */
export async function startS3Container(
  backend: S3Backend,
  opts: { name: string; network: string; owner: string; versitygwImage: string; localstackImage: string; env: Env; onProgress: (line: string) => void },
): Promise<S3Container> {
  const port = backend === 'localstack' ? 4566 : 7070;
  const common = ['run', '-d', '--name', opts.name, '--network', opts.network, '--label', `${RUN_OWNER_LABEL}=${opts.owner}`, '-p', `127.0.0.1::${port}`];
  const args =
    backend === 'localstack'
      ? [
          ...common,
          '-e', 'SERVICES=s3',
          '-e', `AWS_ACCESS_KEY_ID=${S3_CREDENTIALS.accessKey}`,
          '-e', `AWS_SECRET_ACCESS_KEY=${S3_CREDENTIALS.secretKey}`,
          ...(opts.env.LOCALSTACK_AUTH_TOKEN ? ['-e', 'LOCALSTACK_AUTH_TOKEN'] : []),
          opts.localstackImage,
        ]
      : // A scratch image has no directories to write to: tmpfs mounts give versitygw its two.
        [...common, '--tmpfs', '/data', '--tmpfs', '/meta', opts.versitygwImage, ...versitygwArgs(`:${port}`, '/data', '/meta')];
  await docker(args, opts.env);
  const published = await docker(['port', opts.name, `${port}/tcp`], opts.env);
  const hostPort = /:(\d+)$/m.exec(published)?.[1];
  if (!hostPort) throw new Error(`S3 container ${opts.name} published no port for ${port} (docker port: "${published}")`);
  const testUrl = `http://127.0.0.1:${hostPort}`;
  // A container that exited will not answer by waiting: the wait gives up on it at once.
  let exited: string | undefined;
  await waitFor(
    `S3 (${backend}) in container ${opts.name}`,
    async (note) => {
      const state = await docker(['inspect', '--format', '{{.State.Status}}', opts.name], opts.env);
      if (state !== 'running') {
        const logs = await execa('docker', ['logs', '--tail', '5', opts.name], { reject: false, all: true, env: opts.env, stdin: 'ignore' });
        exited = `S3 container ${opts.name} is ${state}: ${lastLine(logs.all)}`;
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
    { timeoutMs: S3_READY_TIMEOUT_MS, intervalMs: 200, onProgress: opts.onProgress, abort: () => exited },
  );
  return { podEndpoint: `${await addressOn(opts.name, opts.network, opts.env)}:${port}`, testUrl };
}

