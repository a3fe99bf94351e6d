// vitest's JUnit reporter, then the run's directory (report/run-report.ts) once junit.xml is written:
// one reporter, so the copy cannot race the write.
import { JUnitReporter, type TestModule } from 'vitest/node';
import type { TestResult } from './html.ts';
import { writeRunReport } from './run-report.ts';

export default class RunReportReporter extends JUnitReporter {
  private readonly startedAt = new Date();
  private readonly junitFile: string;

  constructor(options: { outputFile: string }) {
    super(options);
    this.junitFile = options.outputFile;
  }

  override async onTestRunEnd(...args: Parameters<JUnitReporter['onTestRunEnd']>): Promise<void> {
    await super.onTestRunEnd(...args);
    const modules: ReadonlyArray<TestModule> = args[0];
    const tests: TestResult[] = [];
    for (const m of modules) {
      // A failed beforeAll (a topology that would not come up, a preparation that timed out) leaves
      // its tests "skipped": keep the suite's own error, which says why.
      for (const suite of [m, ...m.children.allSuites()]) {
        const errors = suite.errors();
        if (errors.length === 0) continue;
        tests.push({
          file: m.relativeModuleId,
          name: suite.type === 'module' ? '(file)' : suite.fullName,
          state: 'failed',
          durationMs: 0,
          suite: true,
          error: errors.map((e) => e.message).join('\n'),
        });
      }
      for (const t of m.children.allTests()) {
        const r = t.result();
        tests.push({
          file: m.relativeModuleId,
          name: t.fullName,
          state: r.state,
          durationMs: Math.round(t.diagnostic()?.duration ?? 0),
          ...(r.state === 'failed' ? { error: r.errors?.map((e) => e.message).join('\n') } : {}),
        });
      }
    }
    const { index } = writeRunReport({ startedAt: this.startedAt, tests, junitFile: this.junitFile });
    process.stdout.write(`report: ${index}\n`);
  }
}
