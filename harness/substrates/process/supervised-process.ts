// One real binary on 127.0.0.1: started with its plan's argv, logged to one file, stopped for sure.
import { readFileSync } from 'node:fs';
import { execa } from 'execa';

export interface ProcessSpec {
  id: string;
  binaryPath: string;
  args: string[];
  cwd: string;
  logFile: string;
  /** Marks the child so a later run's janitor can recognise it (see janitor.ts). */
  runDir: string;
}

function spawnLogged(spec: ProcessSpec) {
  return execa(spec.binaryPath, spec.args, {
    cwd: spec.cwd,
    stdin: 'ignore',
    // Both streams append to one log file (O_APPEND keeps their lines whole).
    stdout: { file: spec.logFile, append: true },
    stderr: { file: spec.logFile, append: true },
    reject: false,
    cleanup: true, // execa kills it if this Node process exits
    // Its own process group: a Ctrl-C to the terminal reaches the runner, whose teardown stops the
    // components in order, instead of killing them under it (the reaper covers a runner that dies).
    detached: true,
    env: { THANOS_HA_E2E_RUN: spec.runDir },
  });
}

export class SupervisedProcess {
  readonly spec: ProcessSpec;
  private child: ReturnType<typeof spawnLogged> | undefined;
  private exit: { code: number | undefined; signal: string | undefined } | undefined;
  /** Set by stop() and kill(): an exit that follows is what the harness asked for. */
  private stopRequested = false;
  private readonly onUnexpectedExit: ((reason: string) => void) | undefined;

  constructor(spec: ProcessSpec, onUnexpectedExit?: (reason: string) => void) {
    this.spec = spec;
    this.onUnexpectedExit = onUnexpectedExit;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.exit === undefined;
  }

  /** Why it is not running, in one line: exit status, the log line that says why, the log's path. */
  exitReason(): string | undefined {
    if (!this.exit) return undefined;
    const status = this.exit.signal ? `was killed by ${this.exit.signal}` : `exited with code ${this.exit.code}`;
    const lines = this.tail(40).split('\n');
    const why = lines.findLast((l) => /address already in use/.test(l))
      ? 'a port it needs is already in use (another program took it between port selection and start: run again)'
      : (lines.findLast((l) => /level=(error|fatal)|panic:|\berror\b|\bErr\b|fatal/i.test(l)) ?? lines.at(-1) ?? '').trim().slice(0, 300);
    return `${this.spec.id} ${status}: ${why} (log: ${this.spec.logFile})`;
  }

  /** exitReason() of an exit nobody asked for (a crash, a kill from outside); undefined otherwise. */
  unexpectedExit(): string | undefined {
    return this.stopRequested ? undefined : this.exitReason();
  }

  tail(lines: number): string {
    try {
      return readFileSync(this.spec.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  start(): void {
    if (this.running) return;
    this.exit = undefined;
    this.stopRequested = false;
    const child = spawnLogged(this.spec);
    this.child = child;
    void child.then((r) => {
      if (this.child !== child) return;
      this.exit = { code: r.exitCode, signal: r.signal };
      if (!this.stopRequested) this.onUnexpectedExit?.(this.exitReason()!);
    });
  }

  /** SIGTERM, then SIGKILL after graceMs; resolves once the process is gone. */
  async stop(graceMs = 5_000): Promise<void> {
    const child = this.child;
    if (!child || this.exit) return;
    this.stopRequested = true;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await child;
    clearTimeout(timer);
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || this.exit) return;
    this.stopRequested = true;
    child.kill('SIGKILL');
    await child;
  }

  /** For exit handlers, where nothing can be awaited. */
  killNow(): void {
    this.stopRequested = true;
    if (this.running) this.child?.kill('SIGKILL');
  }
}
