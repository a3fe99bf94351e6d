// Nothing left behind, however a run ends, checked from outside: each test starts a runner (the
// CLI's `up`, or a vitest run of harness/testdata/hold.e2e.ts, whose setup holds its topology up),
// ends it one way, and then looks at /proc and the runs directory. A signal must leave nothing
// once the runner has exited; a SIGKILL nothing within 10 s (the run's reaper); a component killed
// from outside must fail the run within 10 s, naming it.
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { HOLD_COMPONENT, HOLD_PRESET, holdProcessCount } from '../harness/testdata/hold.ts';
import { currentSubstrate } from '../harness/substrates/index.ts';
import { waitFor } from '../harness/wait.ts';

const runsBase = mkdtempSync(join(tmpdir(), 'teardown-runs-'));
// Where a failed inner run copies its logs: not over those of this run's own scenarios.
const reportsDir = mkdtempSync(join(tmpdir(), 'teardown-reports-'));
afterAll(() => [runsBase, reportsDir].forEach((dir) => rmSync(dir, { recursive: true, force: true })));
const env = {
  THANOS_HA_E2E_RUNS: runsBase,
  THANOS_HA_E2E_REPORTS: reportsDir,
  // The inner vitest must not take this worker's VITEST_* variables for its own.
  ...Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith('VITEST')).map((k) => [k, undefined])),
};
const BOUND_MS = 10_000;

const procEntries = () => readdirSync('/proc').filter((p) => /^\d+$/.test(p));
const read = (path: string) => {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return ''; // gone, or a zombie
  }
};
/** Processes whose environment carries a run marker under runsBase (what the harness starts). */
const processesOfRuns = () => procEntries().filter((p) => read(`/proc/${p}/environ`).includes(`THANOS_HA_E2E_RUN=${runsBase}/`)).map(Number);
/** The runs' reapers (substrates/reaper.ts): their command line names the run directory. */
const reapersOfRuns = () => procEntries().filter((p) => read(`/proc/${p}/cmdline`).includes(`thanos-ha-e2e-reaper\0${runsBase}/`)).map(Number);
const sessionOf = (pid: number) => Number(read(`/proc/${pid}/stat`).split(') ')[1]!.split(' ')[3]); // state ppid pgrp session ...
const leftovers = () => ({ processes: processesOfRuns(), reapers: reapersOfRuns(), runDirs: readdirSync(runsBase) });
const NOTHING = { processes: [], reapers: [], runDirs: [] };

let runner: { pid: number; exited: boolean } | undefined;
// A failed test must not leave its run to the next one.
const killIfThere = (pid: number) => {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
};
afterEach(() => {
  if (runner && !runner.exited) killIfThere(-runner.pid);
  [...processesOfRuns(), ...reapersOfRuns()].forEach(killIfThere);
  for (const dir of readdirSync(runsBase)) rmSync(join(runsBase, dir), { recursive: true, force: true });
  runner = undefined;
});

/** Starts a runner in its own process group (as a terminal would) and returns once its output says the topology is up. */
async function startRunner(args: string[], ready: string) {
  const child = execa('node', args, { env, reject: false, all: true, detached: true });
  const started = { pid: child.pid!, exited: false };
  runner = started;
  let output = '';
  child.all.on('data', (d: Buffer) => (output += d.toString()));
  void child.then(() => (started.exited = true));
  await waitFor('the topology to be up', async () => (output.includes(ready) ? true : undefined), {
    timeoutMs: 120_000,
    abort: () => (started.exited ? `the runner exited: ${output}` : undefined),
  });
  expect(processesOfRuns()).toHaveLength(holdProcessCount());
  const reapers = reapersOfRuns();
  expect(reapers).toHaveLength(1);
  // Its own session: a Ctrl-C to the terminal's process group does not reach it.
  expect(sessionOf(reapers[0]!)).not.toBe(sessionOf(child.pid!));
  return { child, pid: child.pid!, reaper: reapers[0]! }; // wrapped: returning the subprocess from an async function would await it
}

const cliUp = () => startRunner(['harness/cli.ts', 'up', HOLD_PRESET], 'Ctrl-C tears everything down');
const vitestHold = () => startRunner(['node_modules/.bin/vitest', 'run', '--config', 'harness/testdata/vitest.config.ts'], `holding ${runsBase}/`);

/** Ctrl-C in a terminal signals the whole foreground process group; a CI runner's cancel signals the process. */
const deliver = (pid: number, signal: 'SIGINT' | 'SIGTERM') => process.kill(signal === 'SIGINT' ? -pid : pid, signal);
const exitCodeOf = (signal: 'SIGINT' | 'SIGTERM') => (signal === 'SIGINT' ? 130 : 143);

/** Waits until nothing of any run is left; returns how long that took from `since`. */
async function nothingLeftWithin(boundMs: number, since: number): Promise<number> {
  return await waitFor(
    'every process, reaper and run directory to be gone',
    async (note) => {
      const left = leftovers();
      note(JSON.stringify(left));
      return left.processes.length + left.reapers.length + left.runDirs.length === 0 ? Date.now() - since : undefined;
    },
    { timeoutMs: boundMs, intervalMs: 50 },
  );
}

// What it counts (processes, run directories) exists on the process substrate only; the Kubernetes
// substrates' teardown waits until their namespaces are gone (kubernetes/deploy.ts).
const { name: substrate, local } = currentSubstrate();

describe.skipIf(!local)(`teardown (process substrate${local ? '' : `; skipped on ${substrate}`})`, () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`the CLI leaves no process and no run directory after ${signal}`, async () => {
      const { child, pid } = await cliUp();
      deliver(pid, signal);
      const result = await child;
      expect(result.exitCode, result.all).toBe(exitCodeOf(signal));
      expect(result.all).toContain(`thanos-ha-e2e: ${signal}: tearing down 1 run(s)`);
      expect(leftovers()).toEqual(NOTHING);
    });

    it(`vitest leaves no process and no run directory after ${signal} to ${signal === 'SIGINT' ? 'its process group' : 'its main process'}`, async () => {
      const { child, pid } = await vitestHold();
      deliver(pid, signal);
      const result = await child;
      expect(result.exitCode, result.all).toBe(exitCodeOf(signal));
      expect(result.all).toContain(`thanos-ha-e2e: ${signal}: tearing down 1 run(s)`); // in the worker
      expect(result.all).toContain(`[vitest] ${signal}: 1 of 1 test worker(s) tore down and exited`);
      expect(leftovers()).toEqual(NOTHING);
    });
  }

  for (const [name, start] of [
    ['the CLI', cliUp],
    ["vitest's main process", vitestHold],
  ] as const) {
    it(`a SIGKILL of ${name} leaves nothing within ${BOUND_MS / 1000} s (the reaper)`, async () => {
      const { child, pid } = await start();
      const killed = Date.now();
      process.kill(pid, 'SIGKILL');
      await child;
      const tookMs = await nothingLeftWithin(BOUND_MS, killed);
      process.stderr.write(`[teardown] after a SIGKILL of ${name} nothing was left after ${tookMs} ms\n`);
    });
  }

  it('`clean` removes a run whose runner and reaper were both killed', async () => {
    const { child, pid, reaper } = await cliUp();
    process.kill(reaper, 'SIGKILL');
    process.kill(pid, 'SIGKILL');
    await child;
    expect(processesOfRuns()).toHaveLength(holdProcessCount()); // nobody left to stop them
    const clean = await execa('node', ['harness/cli.ts', 'clean'], { env });
    expect(clean.stderr).toMatch(/^cleaned 1 abandoned run\(s\): /);
    expect(leftovers()).toEqual(NOTHING);
  });

  it('`up` of a topology file that no substrate could run faithfully fails in one line and starts nothing', async () => {
    const file = 'harness/testdata/duplicate-clusters.yaml';
    const twice = (parse(readFileSync(file, 'utf8')) as { clusters: { name: string }[] }).clusters[1]!.name;
    const up = await execa('node', ['harness/cli.ts', 'up', file], { env, reject: false });
    expect(up.exitCode).toBe(2);
    expect(up.stderr).toBe(`thanos-ha-e2e: invalid topology "duplicate-clusters": clusters.1.name "${twice}" is declared twice`);
    expect(leftovers()).toEqual(NOTHING);
  });

  it(`a component killed while the setup waits on it fails the vitest run within ${BOUND_MS / 1000} s, naming it`, async () => {
    const { child } = await vitestHold();
    const instanceDir = `/${HOLD_COMPONENT.replace('/', '_')}`;
    const component = processesOfRuns().filter((pid) => readlinkSync(`/proc/${pid}/cwd`).endsWith(instanceDir));
    expect(component).toHaveLength(1);
    const killed = Date.now();
    process.kill(component[0]!, 'SIGKILL');
    const result = await child;
    const tookMs = Date.now() - killed;
    expect(result.exitCode, result.all).toBe(1);
    expect(result.all).toContain(`${HOLD_COMPONENT} was killed by SIGKILL`);
    expect(tookMs, result.all).toBeLessThanOrEqual(BOUND_MS);
    process.stderr.write(`[teardown] the vitest run failed ${tookMs} ms after ${HOLD_COMPONENT} was killed\n`);
    expect(leftovers()).toEqual(NOTHING);
  });
});
