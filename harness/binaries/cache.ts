// Where provisioned binaries live: one directory per binary and version, so several pins can coexist.
//
//   <root>/bin/<name>-<version>/<name>      the binary (only ever appears complete, by atomic rename)
//   <root>/bin/<name>-<version>.lock        held while a process downloads or builds it
//   <root>/work/<name>-<version>.<pid>/     scratch space of one download or build, removed afterwards
//   <root>/logs/<name>-<version>.go-build.log
import { readdir, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { isProcessAlive } from './lock.ts';
import type { BinaryName } from './names.ts';

export type Env = Record<string, string | undefined>;

/** ${THANOS_HA_E2E_CACHE:-${XDG_CACHE_HOME:-~/.cache}/thanos-ha-e2e} */
export function cacheRoot(env: Env = process.env): string {
  if (env.THANOS_HA_E2E_CACHE) return env.THANOS_HA_E2E_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'thanos-ha-e2e');
}

export interface CachePaths {
  /** The final path of the binary. */
  binary: string;
  lock: string;
  /** This process's scratch directory; on the same file system as `binary`, so rename is atomic. */
  workDir: string;
  buildLog: string;
}

export function cachePaths(name: BinaryName, version: string, env: Env = process.env): CachePaths {
  const root = cacheRoot(env);
  const id = `${name}-${version}`;
  return {
    binary: join(root, 'bin', id, name),
    lock: join(root, 'bin', `${id}.lock`),
    workDir: join(root, 'work', `${id}.${process.pid}`),
    buildLog: join(root, 'logs', `${id}.go-build.log`),
  };
}

/** Removes a scratch directory, including read-only files copied out of the Go module cache. */
export async function removeWorkDir(dir: string): Promise<void> {
  await execa('chmod', ['-R', 'u+w', dir], { reject: false });
  await rm(dir, { recursive: true, force: true });
}

/** Removes scratch directories of this binary left behind by processes that died mid-way. */
export async function removeLeftoverWorkDirs(name: BinaryName, version: string, env: Env = process.env): Promise<void> {
  const parent = join(cacheRoot(env), 'work');
  const prefix = `${name}-${version}.`;
  const entries = await readdir(parent).catch(() => [] as string[]);
  for (const entry of entries) {
    const pid = Number(entry.slice(prefix.length));
    if (entry.startsWith(prefix) && Number.isInteger(pid) && !isProcessAlive(pid)) {
      await removeWorkDir(join(parent, entry));
    }
  }
}
