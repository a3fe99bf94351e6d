import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

/** A scenario project on a Docker-based substrate: the e2e files but teardown's (it checks processes and run directories: process substrate only). */
function dockerProject(substrate: 'kind' | 'k3s', groupOrder: number): TestProjectInlineConfiguration {
  return {
    test: {
      name: substrate,
      include: ['scenarios/**/*.e2e.ts'],
      exclude: ['scenarios/teardown.e2e.ts'],
      env: { THANOS_HA_E2E_SUBSTRATE: substrate },
      sequence: { groupOrder },
      fileParallelism: false,
      testTimeout: 10 * 60_000,
      hookTimeout: 30 * 60_000,
      pool: 'forks',
      globalSetup: ['harness/substrates/vitest-signals.ts', 'harness/substrates/vitest-substrate-check.ts'],
    },
  };
}

// Unit tests live next to the code (harness/**/*.test.ts) and need nothing running.
// End-to-end scenarios (scenarios/*.e2e.ts) start real topologies: one file at a time,
// because a 2-core machine cannot run two Thanos topologies side by side without skewing them.
export default defineConfig({
  test: {
    // junit.xml, then reports/<run-id>/ (index.html, results.json, a copy of junit.xml) and reports/latest.
    reporters: ['default', ['./harness/report/vitest-run-report.ts', { outputFile: 'reports/junit.xml' }]],
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
      // The same scenario files on two kind clusters and on k3s, in Docker. Each skips with one line
      // where Docker or an image is missing (CI); `npm run test:kind` / `test:k3s` run one alone.
      dockerProject('kind', 3),
      dockerProject('k3s', 2),
    ],
  },
});
