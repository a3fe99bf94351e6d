// The vitest reporter behind `npm run bench -- --suite` (harness/bench-suite.ts): for each scenario
// file, how long it took and how its tests ended. Writes JSON to $THANOS_HA_E2E_BENCH_SUITE_OUT.
//
// A file's time is measured twice:
// - wallMs, on this (vitest's main) process' clock: from onTestModuleQueued, which the worker
//   reports before it imports the file, to onTestModuleEnd, after its afterAll hooks. Import,
//   bring-up, setup, tests and teardown. The worker batches its reports every 100 ms at most, so
//   the end may be seen up to that late.
// - runMs, the worker's own measure (ModuleDiagnostic.duration): the file's hooks and tests, from
//   before its beforeAll (bring-up) to after its afterAll (teardown). importMs is the import before it.
import { writeFileSync } from 'node:fs';
import type { Reporter, TestModule } from 'vitest/node';

export const BENCH_SUITE_OUT = 'THANOS_HA_E2E_BENCH_SUITE_OUT';

export interface SuiteFileResult {
  /** Relative to the project root, e.g. scenarios/arch3-agent.e2e.ts. */
  file: string;
  project: string;
  state: string;
  wallMs: number;
  runMs: number;
  importMs: number;
  tests: { passed: number; failed: number; skipped: number };
  /** Errors outside any test (a failed import, a failed beforeAll or afterAll). */
  fileErrors: number;
}

export interface SuiteReport {
  files: SuiteFileResult[];
  /** vitest's TestRunEndReason: passed, failed or interrupted. */
  reason: string;
  unhandledErrors: number;
}

export default class BenchSuiteReporter implements Reporter {
  readonly #queuedAt = new Map<string, number>();
  readonly #files: SuiteFileResult[] = [];

  onTestModuleQueued(module: TestModule): void {
    this.#queuedAt.set(module.moduleId, Date.now());
  }

  onTestModuleEnd(module: TestModule): void {
    const endedAt = Date.now();
    const diagnostic = module.diagnostic();
    const tests = { passed: 0, failed: 0, skipped: 0 };
    for (const test of module.children.allTests()) {
      const state = test.result().state;
      if (state === 'passed' || state === 'failed' || state === 'skipped') tests[state]++;
    }
    this.#files.push({
      file: module.relativeModuleId,
      project: module.project.name,
      state: module.state(),
      wallMs: endedAt - (this.#queuedAt.get(module.moduleId) ?? endedAt),
      runMs: diagnostic.duration,
      importMs: diagnostic.collectDuration,
      tests,
      fileErrors: module.errors().length,
    });
  }

  onTestRunEnd(_modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>, reason: string): void {
    const out = process.env[BENCH_SUITE_OUT];
    if (!out) return;
    const report: SuiteReport = { files: this.#files, reason, unhandledErrors: unhandledErrors.length };
    writeFileSync(out, JSON.stringify(report, null, 2));
  }
}
