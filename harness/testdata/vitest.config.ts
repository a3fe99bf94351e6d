// The vitest that scenarios/teardown.e2e.ts starts and signals: hold.e2e.ts alone, with the e2e
// project's pool and signal handling (the binaries come from the outer run's environment).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['harness/testdata/hold.e2e.ts'],
    reporters: ['default'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 5 * 60_000,
    globalSetup: ['harness/substrates/vitest-signals.ts'],
  },
});
