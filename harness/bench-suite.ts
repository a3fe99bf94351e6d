// npm run bench -- --suite [scenario files]: runs the e2e project on the process substrate (all of
// it, or only the files given; what follows --suite goes to vitest as is) as a child vitest process and reports each scenario file's wall time,
// the total and each file's test counts. Merges them into reports/bench.json under "suite" and
// prints a table. Not a test: no time passes or fails anything; the exit status is vitest's.
// Per-file times come from harness/bench-suite-reporter.ts (see there for what they include).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_SUITE_OUT, type SuiteReport } from './bench-suite-reporter.ts';
import { REPORTS_DIR } from './report/paths.ts';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const REPORTER = fileURLToPath(new URL('./bench-suite-reporter.ts', import.meta.url));
const seconds = (ms: number) => +(ms / 1000).toFixed(1);

function vitestBin(): string {
  const pkg = createRequire(import.meta.url).resolve('vitest/package.json');
  return join(dirname(pkg), 'vitest.mjs');
}

/** Runs vitest; resolves with its exit code (1 if a signal ended it). */
function runVitest(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const child = spawn(process.execPath, [vitestBin(), ...args], { cwd: ROOT, env, stdio: 'inherit' });
  // Ctrl-C reaches vitest through the process group; wait for its teardown instead of dying first.
  const onSigint = () => {};
  const onSigterm = () => child.kill('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

/** What reports/bench.json holds now ({} when absent): both bench modes merge into it. */
export function readBench(file: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') process.stderr.write(`warning: ${file} is not JSON (${(err as Error).message}); it is replaced\n`);
    return {};
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')).join('\n');
}

/** The suite mode of harness/bench.ts; returns the exit status. */
export async function benchSuite(files: string[]): Promise<number> {
  const scratch = mkdtempSync(join(tmpdir(), 'thanos-ha-e2e-bench-suite-'));
  const out = join(scratch, 'suite.json');
  // The CLI's reporters replace the config's: no junit.xml from a bench run.
  const args = ['run', '--project', 'e2e', '--reporter=default', `--reporter=${REPORTER}`, ...files];
  const started = Date.now();
  let exitCode: number;
  let report: SuiteReport;
  try {
    exitCode = await runVitest(args, { ...process.env, THANOS_HA_E2E_SUBSTRATE: 'process', [BENCH_SUITE_OUT]: out });
    const totalMs = Date.now() - started;
    try {
      report = JSON.parse(readFileSync(out, 'utf8')) as SuiteReport;
    } catch {
      report = { files: [], reason: 'none', unhandledErrors: 0 };
    }
    if (report.files.length === 0) {
      process.stderr.write(`vitest exited with ${exitCode} and ran no scenario file: nothing recorded\n`);
      return exitCode || 1;
    }
    const sum = (f: (r: SuiteReport['files'][number]) => number) => report.files.reduce((n, r) => n + f(r), 0);
    const suite = {
      date: new Date(started).toISOString(),
      node: process.version,
      substrate: 'process',
      selection: files.length ? files : 'all',
      files: report.files.map((r) => ({
        file: r.file,
        state: r.state,
        seconds: seconds(r.wallMs),
        runSeconds: seconds(r.runMs),
        importSeconds: seconds(r.importMs),
        ...r.tests,
        fileErrors: r.fileErrors,
      })),
      total: {
        // The vitest process from start to exit: global setup (binaries), every file and what lies between.
        seconds: seconds(totalMs),
        filesSeconds: seconds(sum((r) => r.wallMs)),
        files: report.files.length,
        passed: sum((r) => r.tests.passed),
        failed: sum((r) => r.tests.failed),
        skipped: sum((r) => r.tests.skipped),
      },
      vitest: { reason: report.reason, unhandledErrors: report.unhandledErrors, exitCode },
    };
    const benchFile = join(REPORTS_DIR, 'bench.json');
    writeFileSync(benchFile, JSON.stringify({ ...readBench(benchFile), suite }, null, 2));

    const rows = [
      ['scenario file', 'wall s', 'run s', 'passed', 'failed', 'skipped'],
      ...suite.files.map((f) => [f.file, String(f.seconds), String(f.runSeconds), String(f.passed), String(f.failed), String(f.skipped)]),
      [`total (vitest start to exit; ${suite.total.files} files: ${suite.total.filesSeconds}s)`, String(suite.total.seconds), '', String(suite.total.passed), String(suite.total.failed), String(suite.total.skipped)],
    ];
    console.log(`\n${table(rows)}\n\nwall: the file from its import to the end of its teardown; run: its hooks and tests (bring-up to teardown). Written to ${benchFile} ("suite").`);
    return exitCode;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
