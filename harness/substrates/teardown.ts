// Guaranteed teardown: whatever a run starts is registered here and undone on close, on
// SIGINT/SIGTERM, and (synchronously, as far as possible) on process exit.
type Cleanup = { name: string; async: () => Promise<void>; sync: () => void };

const pending = new Set<Cleanup>();
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  let tearingDown = false;
  const onSignal = (signal: NodeJS.Signals) => {
    const code = signal === 'SIGINT' ? 130 : 143;
    if (tearingDown) {
      process.stderr.write(`thanos-ha-e2e: second ${signal}: exiting now; 'thanos-ha-e2e clean' removes what is left\n`);
      process.exit(code);
    }
    tearingDown = true;
    if (pending.size === 0) process.exit(code);
    process.stderr.write(`\nthanos-ha-e2e: ${signal}: tearing down ${pending.size} run(s)...\n`);
    const all = [...pending].map((c) => c.async().catch(() => c.sync()));
    const hardStop = setTimeout(() => process.exit(code), 15_000);
    hardStop.unref();
    void Promise.allSettled(all).then(() => process.exit(code));
  };
  // `on`, not `once`: execa's signal-exit handler re-raises the signal (ending the process before
  // teardown finishes) when it sees no other listener left.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.once('exit', () => {
    for (const c of pending) {
      try {
        c.sync();
      } catch {
        // exit handlers must not throw; the janitor of the next run catches what is left
      }
    }
  });
}

/** Registers a cleanup; returns a function that runs it once (and unregisters it). */
export function registerCleanup(name: string, async: () => Promise<void>, sync: () => void): () => Promise<void> {
  install();
  const entry: Cleanup = { name, async, sync };
  pending.add(entry);
  return async () => {
    if (!pending.delete(entry)) return;
    await async();
  };
}
