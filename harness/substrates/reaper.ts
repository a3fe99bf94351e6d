// The backstop for a runner that dies without tearing down (SIGKILL, OOM), after testcontainers'
// Ryuk: one small process per run, in its own session (a Ctrl-C to the runner's process group does
// not reach it), reading a pipe from the runner. The kernel closes that pipe whenever the runner
// dies, however; the reaper then kills the run's processes (found by their THANOS_HA_E2E_RUN marker,
// as process/janitor.ts does), runs the substrate's own command if it gave one (kind: remove the
// run's containers and network), and removes the run directory (keep: only owner.json).
// After a normal teardown the runner writes "release" and it exits. Used by the process and kind substrates.
//
// It is a POSIX shell script, not Node: it starts once per topology, and a shell costs a few
// milliseconds and under 2 MB where Node with type stripping took 130-200 ms and 72 MB here.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';

// $1: the run directory, $2: keep|remove, $3: a shell command run after the processes are gone (may be empty). A process the runner was forking when it died may still
// exec with the marker, so it scans until two scans in a row find nothing (at most 60).
const SCRIPT = `
echo ready
IFS= read -r line
[ "$line" = release ] && exit 0
echo "$(date -Is) runner gone: reaping $1" >&2
quiet=0 tries=0
while [ $quiet -lt 2 ] && [ $tries -lt 60 ]; do
  pids=$(grep -lsxzF "THANOS_HA_E2E_RUN=$1" /proc/[0-9]*/environ | cut -d/ -f3)
  if [ -n "$pids" ]; then echo "killing" $pids >&2; kill -9 $pids 2>/dev/null; quiet=0; else quiet=$((quiet + 1)); fi
  tries=$((tries + 1))
  sleep 0.05
done
[ -n "$3" ] && { echo "running: $3" >&2; eval "$3"; }
if [ "$2" = keep ]; then rm -f "$1/owner.json"; else rm -rf "$1"; fi
`;
const START_TIMEOUT_MS = 10_000;

export interface Reaper {
  readonly pid: number;
  /** Tells the reaper that nothing is left and waits (bounded) until it has exited. */
  release(): Promise<void>;
}

/**
 * Starts the reaper of runDir and resolves once it reads the pipe (call it before anything of the run
 * starts). onRunnerGone: a shell command for what is not a process of this machine (containers).
 */
export async function startReaper(runDir: string, keep: boolean, onRunnerGone = ''): Promise<Reaper> {
  const logFile = join(runDir, 'reaper.log'); // goes with the directory when the reap succeeds
  const logFd = openSync(logFile, 'a');
  const child = (() => {
    try {
      // The script comes through the environment so that ps shows a short, telling command line.
      return spawn('/bin/sh', ['-c', 'eval "$THANOS_HA_E2E_REAPER"', 'thanos-ha-e2e-reaper', runDir, keep ? 'keep' : 'remove', onRunnerGone], {
        detached: true, // setsid
        stdio: ['pipe', 'pipe', logFd],
        // Without the run's marker: it is never one of the run's processes.
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', THANOS_HA_E2E_REAPER: SCRIPT },
      });
    } finally {
      closeSync(logFd);
    }
  })();
  const exited = new Promise<string>((resolve) => {
    child.once('error', (err) => resolve(err.message));
    child.once('exit', (code, signal) => resolve(signal ?? `code ${code}`));
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the reaper of ${runDir} did not start within ${START_TIMEOUT_MS / 1000}s (log: ${logFile})`));
    }, START_TIMEOUT_MS);
    child.stdout!.once('data', () => {
      clearTimeout(timer);
      resolve();
    });
    void exited.then((how) => {
      clearTimeout(timer);
      reject(new Error(`the reaper of ${runDir} exited at start (${how}; log: ${logFile})`));
    });
  });
  child.stdout!.destroy();
  child.stdin!.on('error', () => undefined); // a reaper that is gone needs no release
  // Neither the reaper nor its pipe may keep the runner alive.
  child.unref();
  (child.stdin as unknown as { unref(): void }).unref();
  return {
    pid: child.pid!,
    async release() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin!.end('release\n');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
