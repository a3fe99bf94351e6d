// vitest globalSetup of the scenario projects, in vitest's main process: SIGINT and SIGTERM to the
// runner run the same teardown as the CLI. Without this, vitest 5.1.1 exits its main process 1 ms
// after either signal (its logger's handler); the test workers (pool "forks": child processes) lose
// their IPC channel and exit, and its watchdog process SIGKILLs any still running, so the workers'
// teardown (teardown.ts) never finishes. Here the main process holds vitest's handlers back,
// cancels the run, forwards the signal to each worker, waits (bounded) until they have exited, then
// runs vitest's handlers and exits with 130/143. A second signal exits at once. What a SIGKILL
// leaves is the reaper's (reaper.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import type { TestProject } from 'vitest/node';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
// Longer than a worker's own bound (teardown.ts gives up after 15 s).
const WAIT_MS = 20_000;
const installed = Symbol.for('thanos-ha-e2e.vitest-signals');

/** This process' children that run test files (vitest's forks pool: workers/forks.js). */
function testWorkers(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('/workers/forks.js')) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

export default function setup(project: TestProject): void {
  const registry = process as unknown as Record<symbol, boolean>;
  if (registry[installed]) return; // once per process, however many projects list this file
  registry[installed] = true;
  if (project.config.pool !== 'forks')
    process.stderr.write(`[${project.name}] pool "${project.config.pool}": SIGINT/SIGTERM cannot be forwarded to its workers (needs "forks")\n`);

  const held = new Map(SIGNALS.map((s) => [s, process.listeners(s) as ((...args: unknown[]) => void)[]]));
  let first: { signal: NodeJS.Signals; at: number } | undefined;
  const exit = (signal: NodeJS.Signals) => {
    // vitest's handler (its terminal cleanup) takes (signal, number); it would exit 1 ms later with
    // 128 + number unless the run had set process.exitCode (a worker's exit fails its file).
    for (const listener of held.get(signal as (typeof SIGNALS)[number]) ?? []) listener(signal, constants.signals[signal]);
    process.exit(128 + constants.signals[signal]);
  };
  const onSignal = async (signal: NodeJS.Signals) => {
    if (first) exit(first.signal);
    first = { signal, at: Date.now() };
    project.vitest.cancelCurrentRun('keyboard-input').catch(() => undefined); // no further test file starts
    const signalled = new Set<number>();
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const workers = testWorkers();
      if (!workers.length || Date.now() > deadline) break;
      for (const pid of workers.filter((p) => !signalled.has(p))) {
        signalled.add(pid);
        try {
          process.kill(pid, signal);
        } catch {
          // exited meanwhile
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const left = testWorkers().length;
    if (signalled.size)
      process.stderr.write(`[vitest] ${signal}: ${signalled.size - left} of ${signalled.size} test worker(s) tore down and exited in ${Date.now() - first.at} ms\n`);
    exit(signal);
  };
  for (const signal of SIGNALS) {
    process.removeAllListeners(signal);
    process.on(signal, (s: NodeJS.Signals) => void onSignal(s));
  }
}
