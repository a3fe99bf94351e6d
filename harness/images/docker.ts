// A Docker engine for building images (and the k3s substrate): use the running one, or start Debian's
// dockerd as root.
//
// Machines without systemd (CI, this workplace) have dockerd installed but not running. As root we
// start it detached, logging to a file, and wait for `docker info`; a second call finds it running.
// Where even dockerd is missing and we are root on Debian, `apt-get install docker.io` provides it.
// Where the capability bounding set is short (runc-capfilter.ts), the dockerd we start runs
// privileged containers through a runtime that drops the missing capabilities.
// dockerd is deliberately not niced: containers inherit its priority, and k3s must not run at nice 19.
import { spawn } from 'node:child_process';
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { cacheRoot, type Env } from '../binaries/cache.ts';
import { withFileLock } from '../binaries/lock.ts';
import { capFilterDockerdArgs } from './runc-capfilter.ts';

export interface DockerEngine {
  serverVersion: string;
  /** How we got it: already running, started by us, or installed and started by us. */
  how: 'running' | 'started' | 'installed';
  /** dockerd's log, when we started it. */
  logFile?: string;
}

export interface EnsureDockerOptions {
  onProgress?: (line: string) => void;
  env?: Env;
  /** How long to wait for a dockerd we started to answer (default 60 s). */
  startTimeoutMs?: number;
}

/** The server version, or undefined when no daemon answers (no client, no socket, not permitted). */
export async function dockerServerVersion(env: Env = process.env): Promise<string | undefined> {
  const result = await execa('docker', ['version', '--format', '{{.Server.Version}}'], {
    env,
    reject: false,
    stdin: 'ignore',
    timeout: 15_000,
  });
  const version = result.stdout?.trim();
  return result.exitCode === 0 && version ? version : undefined;
}

export async function ensureDocker(opts: EnsureDockerOptions = {}): Promise<DockerEngine> {
  const env = opts.env ?? process.env;
  const progress = opts.onProgress ?? (() => {});
  const running = await dockerServerVersion(env);
  if (running) return { serverVersion: running, how: 'running' };

  const isRoot = process.getuid?.() === 0;
  if (!isRoot) {
    throw new Error(
      'no Docker daemon answers (docker version failed) and this is not root, so the harness cannot start one: ' +
        'start dockerd, or make DOCKER_HOST point at a running engine',
    );
  }

  const root = cacheRoot(env);
  await mkdir(root, { recursive: true });
  // Two harness processes must not both start a dockerd (the second would fail on docker.pid).
  return withFileLock(join(root, 'dockerd.lock'), async () => {
    const raced = await dockerServerVersion(env);
    if (raced) return { serverVersion: raced, how: 'running' as const };

    let how: DockerEngine['how'] = 'started';
    if (!(await onPath('dockerd', env))) {
      await installDockerIo(env, progress);
      how = 'installed';
    }
    const logFile = env.THANOS_HA_E2E_DOCKERD_LOG || '/var/log/thanos-ha-e2e-dockerd.log';
    const runtimeArgs = await capFilterDockerdArgs(env, progress);
    progress(`starting dockerd in the background (log: ${logFile})`);
    await startDockerd(logFile, env, runtimeArgs);
    const serverVersion = await waitForDocker(logFile, opts.startTimeoutMs ?? 60_000, env);
    progress(`dockerd ${serverVersion} is up`);
    return { serverVersion, how, logFile };
  });
}

async function installDockerIo(env: Env, progress: (line: string) => void): Promise<void> {
  if (!(await onPath('apt-get', env))) {
    throw new Error('dockerd is not installed and there is no apt-get to install it with: install Docker Engine');
  }
  progress('dockerd is not installed: apt-get install -y docker.io (a minute or two)');
  const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'docker.io']]) {
    const result = await execa('nice', ['-n', '19', 'apt-get', ...args], { env: aptEnv, reject: false, stdin: 'ignore', all: true });
    if (result.exitCode !== 0) {
      const last = (result.all ?? '').trim().split('\n').at(-1) ?? '';
      throw new Error(`apt-get ${args.join(' ')} failed (exit ${result.exitCode}): ${last}`);
    }
  }
}

/** Starts dockerd detached from this process, so that it outlives the harness. */
async function startDockerd(logFile: string, env: Env, extraArgs: string[] = []): Promise<void> {
  await mkdir(dirname(logFile), { recursive: true });
  const log = await open(logFile, 'a');
  try {
    await log.write(`\n# ${new Date().toISOString()} started by thanos-ha-e2e (pid ${process.pid})\n`);
    // --ip: published container ports (testcontainers' mapped ports) bind to 127.0.0.1, not every interface.
    const child = spawn('dockerd', ['--ip=127.0.0.1', ...extraArgs], { detached: true, stdio: ['ignore', log.fd, log.fd], env: env as NodeJS.ProcessEnv });
    child.on('error', () => {}); // reported by waitForDocker through the log / timeout
    child.unref();
  } finally {
    await log.close();
  }
}

async function waitForDocker(logFile: string, timeoutMs: number, env: Env): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const version = await dockerServerVersion(env);
    if (version) return version;
    await sleep(500);
  }
  const lines = (await readFile(logFile, 'utf8').catch(() => '')).trim().split('\n');
  const lastError = lines.reverse().find((line) => /level=(error|fatal)|failed/i.test(line)) ?? lines[0] ?? '';
  throw new Error(`dockerd did not answer within ${Math.round(timeoutMs / 1000)}s: ${lastError.slice(0, 300)} (log: ${logFile})`);
}

async function onPath(command: string, env: Env): Promise<boolean> {
  const result = await execa('sh', ['-c', `command -v ${command}`], { env, reject: false, stdin: 'ignore' });
  return result.exitCode === 0;
}
