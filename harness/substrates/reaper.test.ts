import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../wait.ts';
import { killRun, processesOfRun } from './process/janitor.ts';
import { startReaper } from './reaper.ts';

const dirs: string[] = [];
const runDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'reaper-test-'));
  writeFileSync(join(dir, 'owner.json'), '{}');
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) {
    killRun(dir);
    rmSync(dir, { recursive: true, force: true });
  }
});

// Running, not a zombie waiting for whoever inherited it.
const alive = (pid: number) => {
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

/** A runner process that starts the reaper of dir and one process of the run, then waits to be killed. */
async function runner(dir: string, keep: boolean) {
  const script = `
    import { spawn } from 'node:child_process';
    import { startReaper } from ${JSON.stringify(new URL('./reaper.ts', import.meta.url).href)};
    const reaper = await startReaper(${JSON.stringify(dir)}, ${keep});
    spawn('sleep', ['600'], { env: { ...process.env, THANOS_HA_E2E_RUN: ${JSON.stringify(dir)} }, stdio: 'ignore' });
    console.log(reaper.pid);
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const reaperPid = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString()))));
  await waitFor('the run process to start', async () => (processesOfRun(dir).length === 1 ? true : undefined), { timeoutMs: 5_000, intervalMs: 20 });
  return { child, reaperPid };
}

describe('reaper', () => {
  it('exits when released, touching nothing', async () => {
    const dir = runDir();
    const sleeper = spawn('sleep', ['600'], { env: { ...process.env, THANOS_HA_E2E_RUN: dir }, stdio: 'ignore' });
    const reaper = await startReaper(dir, false);
    await reaper.release();
    expect(alive(reaper.pid)).toBe(false);
    expect(processesOfRun(dir)).toEqual([sleeper.pid]);
    expect(readdirSync(dir).sort()).toEqual(['owner.json', 'reaper.log']);
  });

  for (const keep of [false, true]) {
    it(`when its runner is SIGKILLed, kills the run's processes and ${keep ? 'keeps the directory (without owner.json)' : 'removes the directory'}`, async () => {
      const dir = runDir();
      const { child, reaperPid } = await runner(dir, keep);
      child.kill('SIGKILL');
      await waitFor('the reaper to finish', async () => (alive(reaperPid) ? undefined : true), { timeoutMs: 5_000, intervalMs: 20 });
      expect(processesOfRun(dir)).toEqual([]);
      if (keep) expect(readdirSync(dir)).toEqual(['reaper.log']);
      else expect(existsSync(dir)).toBe(false);
    });
  }
});
