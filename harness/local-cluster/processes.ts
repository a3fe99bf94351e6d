// The cluster's processes: started detached (they outlive `cluster up`), one pid file and one log each.
// A pid file only counts while its process still runs the binary it names, so a recycled pid is
// never mistaken for ours, and nothing is ever stopped by name.
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isProcessAlive } from '../binaries/lock.ts';
import type { ClusterLayout } from './config.ts';

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
}

const MARKER = 'THANOS_HA_E2E_LOCAL_CLUSTER';
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function pidFile(layout: ClusterLayout, name: string): string {
  return join(layout.run, `${name}.pid`);
}

export function logFile(layout: ClusterLayout, name: string): string {
  return join(layout.logs, `${name}.log`);
}

/** The pid of our running `name`, or undefined. */
export async function runningPid(layout: ClusterLayout, name: string): Promise<number | undefined> {
  const text = await readFile(pidFile(layout, name), 'utf8').catch(() => '');
  const [pidText, command] = text.split('\n');
  const pid = Number.parseInt(pidText ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0 || !isProcessAlive(pid)) return undefined;
  return commandLine(pid)[0] === command ? pid : undefined;
}

export async function startProcess(layout: ClusterLayout, spec: ProcessSpec): Promise<number> {
  await mkdir(layout.run, { recursive: true });
  await mkdir(layout.logs, { recursive: true });
  const fd = openSync(logFile(layout, spec.name), 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, PATH: `${PATH}:${process.env.PATH ?? ''}`, ...spec.env, [MARKER]: layout.root },
    });
    const pid = child.pid;
    if (pid === undefined) throw new Error(`could not start ${spec.name} (${spec.command})`);
    child.unref();
    await writeFile(pidFile(layout, spec.name), `${pid}\n${spec.command}\n`);
    return pid;
  } finally {
    closeSync(fd);
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; true when it was running. */
export async function stopProcess(layout: ClusterLayout, name: string, graceMs = 10_000): Promise<boolean> {
  const pid = await runningPid(layout, name);
  if (pid !== undefined) await killAndWait(pid, graceMs);
  await rm(pidFile(layout, name), { force: true });
  return pid !== undefined;
}

export async function killAndWait(pid: number, graceMs: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (isProcessAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isProcessAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
    while (isProcessAlive(pid) && !isZombie(pid)) await sleep(50);
  }
}

function isZombie(pid: number): boolean {
  try {
    return / Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^\d+ \(.*\) /, ' ').slice(0, 3));
  } catch {
    return false;
  }
}

export function commandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** Pids whose command line contains `needle` (containerd's shims name their containerd's socket). */
export function pidsWithArgument(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    if (commandLine(pid).some((arg) => arg.includes(needle))) pids.push(pid);
  }
  return pids;
}
