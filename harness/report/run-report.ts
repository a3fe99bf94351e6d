// One directory per run: reports/<run-id>/ with index.html, results.json and junit.xml, and
// reports/latest pointing at the newest. Written by the vitest reporter at the end of every run.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import type { SweepResults } from '../scale/report.ts';
import { join } from 'node:path';
import { readFindings } from './findings.ts';
import { renderReportHtml, type RunResults, type TestResult } from './html.ts';
import { REPORTS_DIR } from './paths.ts';
import { applyVersionOverrides, loadVersions, parseVersionOverrides } from '../binaries/versions.ts';

/** Sortable, filesystem-safe: 2026-12-02T12-30-05Z. */
export const runIdOf = (date: Date) => date.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');

export function effectiveVersionNames(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  // The overrides' form only: effectiveVersions() would also ask the module proxy, which a report need not.
  const pinned = loadVersions();
  const versions = applyVersionOverrides(pinned, parseVersionOverrides(env, pinned));
  return Object.fromEntries(Object.entries(versions).map(([name, pin]) => [name, pin.version]));
}

export interface WriteRunReportInput {
  startedAt: Date;
  tests: TestResult[];
  /** The junit.xml of this run, copied in. */
  junitFile?: string;
  reportsDir?: string;
}

export function writeRunReport(input: WriteRunReportInput): { dir: string; index: string } {
  const reports = input.reportsDir ?? REPORTS_DIR;
  const runId = runIdOf(input.startedAt);
  const dir = join(reports, runId);
  mkdirSync(dir, { recursive: true });
  // Component logs kept by this run (harness/scenario.ts writes reports/runs/<topology>/logs): moved in, so a run's evidence stays with it.
  const logs: Record<string, string> = {};
  const runsDir = join(reports, 'runs');
  if (existsSync(runsDir)) {
    for (const topology of readdirSync(runsDir)) {
      const from = join(runsDir, topology);
      if (statSync(from).mtimeMs < input.startedAt.getTime()) continue;
      mkdirSync(join(dir, 'logs'), { recursive: true });
      rmSync(join(dir, 'logs', topology), { recursive: true, force: true });
      renameSync(from, join(dir, 'logs', topology));
      logs[topology] = `logs/${topology}/logs/`;
    }
  }
  const findings = readFindings().filter((r) => Date.parse(r.recordedAt) >= input.startedAt.getTime());
  const results: RunResults = { runId, startedAt: input.startedAt.toISOString(), finishedAt: new Date().toISOString(), versions: effectiveVersionNames(), tests: input.tests, findings, logs, scale: latestSweep(reports) };
  writeFileSync(join(dir, 'results.json'), JSON.stringify(results, null, 2));
  const index = join(dir, 'index.html');
  writeFileSync(index, renderReportHtml(results));
  if (input.junitFile && existsSync(input.junitFile)) copyFileSync(input.junitFile, join(dir, 'junit.xml'));
  pointLink(reports, 'latest', runId);
  return { dir, index };
}

/** The newest scale sweep's page, relative to a run's directory, and its largest measured point (reports/scale-latest). */
export function latestSweep(reports: string): RunResults['scale'] {
  const file = join(reports, 'scale-latest', 'results.json');
  if (!existsSync(file)) return undefined;
  const sweep = JSON.parse(readFileSync(file, 'utf8')) as SweepResults;
  const measured = sweep.points.filter((p) => p.status === 'measured').map((p) => p.series);
  return { id: sweep.id, href: `../scale-${sweep.id}/index.html`, largestSeries: measured.length ? Math.max(...measured) : 0 };
}

/** reports/<link> -> <target> (a directory beside it), replacing what it pointed at. */
export function pointLink(reports: string, link: string, target: string): void {
  rmSync(join(reports, link), { force: true });
  symlinkSync(target, join(reports, link));
}
