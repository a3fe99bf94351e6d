import { defineConfig } from 'vitest/config';

// Unit tests live next to the code (harness/**/*.test.ts) and need nothing running.
// End-to-end scenarios (scenarios/*.e2e.ts) start real topologies: one file at a time,
// because a 2-core machine cannot run two Thanos topologies side by side without skewing them.
export default defineConfig({
  test: {
    reporters: ['default', ['junit', { outputFile: 'reports/junit.xml' }]],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['harness/**/*.test.ts'],
          sequence: { groupOrder: 0 },
          testTimeout: 30_000,
        },
      },
      {
        // The substrate comes from THANOS_HA_E2E_SUBSTRATE (default process).
        test: {
          name: 'e2e',
          include: ['scenarios/**/*.e2e.ts'],
          // After unit, before k3s: two topologies side by side would skew each other on 2 cores.
          sequence: { groupOrder: 1 },
          fileParallelism: false,
          testTimeout: 10 * 60_000,
          hookTimeout: 30 * 60_000,
          // Workers are processes, so that a signal to the runner can reach their teardown (vitest-signals.ts).
          pool: 'forks',
          globalSetup: ['harness/substrates/vitest-signals.ts', 'harness/substrates/vitest-substrate-check.ts', 'harness/binaries/vitest-global-setup.ts'],
        },
      },
      {
        // The same scenario files on two kind clusters in Docker (npm run test:kind; not in npm test:
        // a cold node image build takes about 25 minutes). Skipped with one line where Docker or an image is missing.
        test: {
          name: 'kind',
          include: ['scenarios/**/*.e2e.ts'],
          exclude: ['scenarios/teardown.e2e.ts'], // checks processes and run directories: process substrate only
          env: { THANOS_HA_E2E_SUBSTRATE: 'kind' },
          sequence: { groupOrder: 3 },
          fileParallelism: false,
          testTimeout: 10 * 60_000,
          hookTimeout: 30 * 60_000,
          pool: 'forks',
          globalSetup: ['harness/substrates/vitest-signals.ts', 'harness/substrates/vitest-substrate-check.ts'],
        },
      },
      {
        // The same scenario files on k3s in Docker; skipped with a one-line reason where Docker or an image is missing.
        test: {
          name: 'k3s',
          include: ['scenarios/**/*.e2e.ts'],
          exclude: ['scenarios/teardown.e2e.ts'], // checks processes and run directories: process substrate only
          env: { THANOS_HA_E2E_SUBSTRATE: 'k3s' },
          sequence: { groupOrder: 2 },
          fileParallelism: false,
          testTimeout: 10 * 60_000,
          hookTimeout: 30 * 60_000,
          pool: 'forks',
          globalSetup: ['harness/substrates/vitest-signals.ts', 'harness/substrates/vitest-substrate-check.ts'],
        },
      },
    ],
  },
});
