// Guaranteed teardown: whatever a run starts is registered here and undone on close, on
// SIGINT/SIGTERM, and (synchronously, as far as possible) on process exit. What a SIGKILL leaves
// is the reaper's (reaper.ts) or the janitor's.
type Cleanup = { name: string; async: () => Promise<void>; sync: () => void; done?: Promise<void> };

const pending = new Set<Cleanup>();
let installed = false;

/** Runs a cleanup once: a close() during a signal's teardown waits for the same run. */
function runOnce(c: Cleanup): Promise<void> {
  c.done ??= c.async().finally(() => pending.delete(c));
  return c.done;
}

function runSync(): void {
  for (const c of pending) {
    try {
      c.sync();
    } catch {
      // exit handlers must not throw; the reaper or the janitor catches what is left
    }
  }
  pending.clear();
}

// vitest replaces process.exit in its workers with one that throws: exit for real there too.
function exit(code: number): never {
  try {
    process.exit(code);
  } catch {
    runSync();
    return (process as unknown as { reallyExit(code: number): never }).reallyExit(code);
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  let first: { signal: NodeJS.Signals; at: number } | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (first) {
      // One Ctrl-C can arrive twice: from the terminal (the whole process group) and forwarded by
      // the test runner's main process (substrates/vitest-signals.ts). A second one later means "now".
      if (Date.now() - first.at < 1_000) return;
      process.stderr.write(`thanos-ha-e2e: second ${signal}: exiting now; the run's reaper or 'thanos-ha-e2e clean' removes what is left\n`);
      exit(first.signal === 'SIGINT' ? 130 : 143);
    }
    first = { signal, at: Date.now() };
    const code = signal === 'SIGINT' ? 130 : 143;
    if (pending.size === 0) exit(code);
    process.stderr.write(`\nthanos-ha-e2e: ${signal}: tearing down ${pending.size} run(s)...\n`);
    const all = [...pending].map((c) => runOnce(c).catch(() => c.sync()));
    const hardStop = setTimeout(() => exit(code), 15_000);
    hardStop.unref();
    void Promise.allSettled(all).then(() => exit(code));
  };
  // `on`, not `once`: execa's signal-exit handler re-raises the signal (ending the process before
  // teardown finishes) when it sees no other listener left.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.once('exit', runSync);
}

/** Registers a cleanup; returns a function that runs it once (and unregisters it). */
export function registerCleanup(name: string, async: () => Promise<void>, sync: () => void): () => Promise<void> {
  install();
  const entry: Cleanup = { name, async, sync };
  pending.add(entry);
  return () => runOnce(entry);
}
