// Waiting on a condition that a component reports about itself (readiness, its own metrics).
// Not for asserting on query answers: a scenario asks once and judges what came back.

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  onProgress?: (line: string) => void;
  /** How often to print "still waiting" (default 10 s). */
  progressEveryMs?: number;
  /** Returns a reason to give up early (e.g. the process exited). */
  abort?: () => string | undefined;
}

export class WaitTimeout extends Error {
  override name = 'WaitTimeout';
}

/** A component a wait depends on has exited: waiting longer cannot help. */
export class ComponentExited extends Error {
  override name = 'ComponentExited';
}

// Every wait in this process gives up at once when a running topology reports a component that
// exited without being told to: its whole topology is what any wait depends on.
const failureSources = new Set<() => string | undefined>();

/** Registers a source of "a component exited" (one line naming it); returns how to unregister it. */
export function abortWaitsWhen(failure: () => string | undefined): () => void {
  failureSources.add(failure);
  return () => failureSources.delete(failure);
}

/** The first reason a registered topology gives for every wait to stop, if any. */
export function componentFailure(): string | undefined {
  for (const failure of failureSources) {
    const reason = failure();
    if (reason) return reason;
  }
  return undefined;
}

/**
 * Polls probe until it returns a value other than undefined. probe may return a `status`
 * string through `note` to show in progress lines. Throws WaitTimeout with the last note/error.
 */
export async function waitFor<T>(
  what: string,
  probe: (note: (status: string) => void) => Promise<T | undefined>,
  opts: WaitOptions,
): Promise<T> {
  const started = Date.now();
  const interval = opts.intervalMs ?? 250;
  const every = opts.progressEveryMs ?? 10_000;
  let lastProgress = started;
  let status = '';
  const note = (s: string) => {
    status = s;
  };
  for (;;) {
    const reason = opts.abort?.();
    if (reason) throw new Error(`gave up waiting for ${what}: ${reason}`);
    const exited = componentFailure();
    if (exited) throw new ComponentExited(`gave up waiting for ${what}: ${exited}`);
    try {
      const value = await probe(note);
      if (value !== undefined) return value;
    } catch (err) {
      status = err instanceof Error ? err.message : String(err);
    }
    const now = Date.now();
    if (now - started > opts.timeoutMs) {
      throw new WaitTimeout(`timed out after ${Math.round((now - started) / 1000)}s waiting for ${what}${status ? ` (last: ${status})` : ''}`);
    }
    if (opts.onProgress && now - lastProgress >= every) {
      lastProgress = now;
      opts.onProgress(`  waiting for ${what} (${Math.round((now - started) / 1000)}s${status ? `; ${status}` : ''})`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}
