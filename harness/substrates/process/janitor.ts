// Leftovers of runs whose Node process died without tearing down (kill -9, OOM): their children
// carry THANOS_HA_E2E_RUN=<runDir> in their environment; we kill those and remove the directory.
// The run's reaper (reaper.ts) does this as soon as the runner dies; `clean` and the next run's
// start do it for runs whose reaper is gone too.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RunOwner {
  pid: number;
  keep: boolean;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export function writeOwner(runDir: string, owner: RunOwner): void {
  writeFileSync(join(runDir, 'owner.json'), JSON.stringify(owner));
}

/** Pids of processes started for runDir (found through /proc, so it needs no bookkeeping). */
export function processesOfRun(runDir: string): number[] {
  const marker = `THANOS_HA_E2E_RUN=${runDir}\0`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(marker)) pids.push(Number(entry));
    } catch {
      // gone or not ours
    }
  }
  return pids;
}

/** SIGKILLs every process started for runDir that is still there. */
export function killRun(runDir: string): void {
  for (const pid of processesOfRun(runDir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited in the meantime
    }
  }
}

/** Cleans every run under base whose owner is dead; returns the run dirs it cleaned. */
export function cleanAbandonedRuns(base: string): string[] {
  if (!existsSync(base)) return [];
  const cleaned: string[] = [];
  for (const name of readdirSync(base)) {
    const runDir = join(base, name);
    let owner: RunOwner | undefined;
    try {
      owner = JSON.parse(readFileSync(join(runDir, 'owner.json'), 'utf8')) as RunOwner;
    } catch {
      continue; // not a run dir, or being created
    }
    if (alive(owner.pid)) continue;
    killRun(runDir);
    if (owner.keep) rmSync(join(runDir, 'owner.json'), { force: true }); // kept for the user: data stays
    else rmSync(runDir, { recursive: true, force: true });
    cleaned.push(runDir);
  }
  return cleaned;
}
