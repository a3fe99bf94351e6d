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
  /** Added to the environment (LocalStack's configuration). */
  env?: Record<string, string>;
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
    // stop() sends SIGKILL after the plan's grace; execa's own default (SIGKILL 5 s after any
    // SIGTERM) cut Receive's 10 min to 5 s, and at 100k series it died cutting its head.
    forceKillAfterDelay: false,
    // Its own process group: a Ctrl-C to the terminal reaches the runner, whose teardown stops the
    // components in order, instead of killing them under it (the reaper covers a runner that dies).
    detached: true,
    env: { ...spec.env, THANOS_HA_E2E_RUN: spec.runDir },
  });
}

/** The log's lines from its last Go panic on (the "panic: " line, then the trace); [] if none. */
function lastPanic(lines: string[]): string[] {
  const at = lines.findLastIndex((l) => l.startsWith('panic: '));
  return at < 0 ? [] : lines.slice(at);
}

/**
 * A Go panic in one line: its message and the frame that panicked, the first one of the panicking
 * goroutine outside the runtime ("panic: ... at pkg.(*T).F (dir/file.go:123)"). The message alone
 * ("nil pointer dereference") does not say which code to look at.
 */
function goPanic(trace: string[]): string | undefined {
  if (!trace.length) return undefined;
  const message = trace[0]!.trim().slice(0, 200);
  const goroutine = trace.findIndex((l) => /^goroutine \d+ \[running\]:/.test(l));
  for (let i = goroutine + 1; goroutine >= 0 && i + 1 < trace.length && trace[i]!.trim() !== ''; i += 2) {
    const func = trace[i]!.replace(/\([^)]*\)$/, '').trim(); // the arguments: "(0xc000123450, ...)"
    if (/^(runtime\.|panic$)/.test(func)) continue;
    const file = trace[i + 1]!.trim().replace(/ \+0x[0-9a-f]+$/, '');
    return `${message} at ${func} (${file.split('/').slice(-2).join('/')})`;
  }
  return message;
}

/** Told of an exit nobody asked for: its one-line reason and, for a Go panic, the trace's first lines. */
export type UnexpectedExitHandler = (reason: string, panicTrace: string | undefined) => void;

export class SupervisedProcess {
  readonly spec: ProcessSpec;
  private child: ReturnType<typeof spawnLogged> | undefined;
  private exit: { code: number | undefined; signal: string | undefined } | undefined;
  /** Set by stop() and kill(): an exit that follows is what the harness asked for. */
  private stopRequested = false;
  private readonly onUnexpectedExit: UnexpectedExitHandler | undefined;

  constructor(spec: ProcessSpec, onUnexpectedExit?: UnexpectedExitHandler) {
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
    const lines = this.tail(400).split('\n');
    const last40 = lines.slice(-40);
    const portTaken = last40.some((l) => /address already in use/.test(l));
    const why =
      goPanic(lastPanic(lines)) ??
      (portTaken
        ? 'a port it needs is already in use (another program took it between port selection and start: run again)'
        : (last40.findLast((l) => /level=(error|fatal)|panic:|\berror\b|\bErr\b|fatal/i.test(l)) ?? last40.at(-1) ?? '').trim().slice(0, 300));
    return `${this.spec.id} ${status}: ${why} (log: ${this.spec.logFile})`;
  }

  /** exitReason() of an exit nobody asked for (a crash, a kill from outside); undefined otherwise. */
  unexpectedExit(): string | undefined {
    return this.stopRequested ? undefined : this.exitReason();
  }

  /** The first lines of a Go panic's trace in the log, for the progress output; undefined if none. */
  panicTrace(maxLines = 30): string | undefined {
    const trace = lastPanic(this.tail(400).split('\n'));
    return trace.length ? trace.slice(0, maxLines).join('\n') : undefined;
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
      if (!this.stopRequested) this.onUnexpectedExit?.(this.exitReason()!, this.panicTrace());
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
