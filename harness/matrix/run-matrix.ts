// `thanos-ha-e2e matrix [finding|scenario...]`: `run` once per version set, each in its own process
// with the set's version overrides (so provisioning, planning and the report all see that set), then
// reports/matrix-<id>/ with the findings x versions table (index.html, matrix.md, matrix.json) and
// reports/matrix-latest pointing at it. A set whose binaries cannot be provisioned is a column that
// says why; the other sets still run.
import { existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { RunResults } from '../report/html.ts';
import { REPORTS_DIR } from '../report/paths.ts';
import { pointLink, runIdOf } from '../report/run-report.ts';
import { scenarioFindings, selectScenarioFiles } from '../scenario-selection.ts';
import { matrixHtml, matrixMarkdown, matrixRows, type SetOutcome } from './table.ts';
import { setLabel, versionEnv, versionSets } from './version-sets.ts';

const CLI = fileURLToPath(new URL('../cli.ts', import.meta.url));

const latestRunId = (reports: string) => {
  try {
    return readlinkSync(join(reports, 'latest'));
  } catch {
    return undefined;
  }
};

/** The findings the selection covers (all of them when it is empty): letter -> scenarios recording it. */
export function selectedFindings(selection: readonly string[]): Map<string, string[]> {
  const chosen = selection.length ? new Set(selectScenarioFiles(selection).map((f) => basename(f, '.e2e.ts'))) : undefined;
  const findings = new Map<string, string[]>();
  for (const [scenario, letters] of scenarioFindings()) {
    if (chosen && !chosen.has(scenario)) continue;
    for (const letter of letters) findings.set(letter, [...(findings.get(letter) ?? []), scenario]);
  }
  return findings;
}

export async function runMatrix(selection: readonly string[], log: (line: string) => void, reports: string = REPORTS_DIR): Promise<{ dir: string; markdown: string; ok: boolean }> {
  const findings = selectedFindings(selection); // throws one line for an unknown word, before anything runs
  const sets = versionSets();
  const startedAt = new Date();
  const outcomes: SetOutcome[] = [];
  let interrupted: NodeJS.Signals | undefined;
  for (const [i, set] of sets.entries()) {
    log(`matrix ${i + 1}/${sets.length}: ${setLabel(set)}`);
    const before = latestRunId(reports);
    const setStarted = Date.now();
    // Its own process group, so that one Ctrl-C reaches it once, from here (a second signal would make
    // its runner exit without waiting for teardown); it watches this process and stops if it dies.
    const child = execa(process.execPath, [CLI, 'run', ...selection], {
      env: { ...versionEnv(set), THANOS_HA_E2E_PARENT_PID: String(process.pid) },
      stdout: 'inherit',
      stderr: ['inherit', 'pipe'],
      detached: true,
      reject: false,
    });
    const forward = (signal: NodeJS.Signals) => {
      interrupted ??= signal;
      child.kill(signal);
    };
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    const result = await child.finally(() => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
    });
    if (interrupted) {
      log(`matrix: ${interrupted}: ${set.name}'s run has torn down; stopping before the next set`);
      process.exit(interrupted === 'SIGINT' ? 130 : 143);
    }
    const after = latestRunId(reports);
    const took = `${((Date.now() - setStarted) / 1000).toFixed(0)}s`;
    if (after && after !== before && existsSync(join(reports, after, 'results.json'))) {
      const run = JSON.parse(readFileSync(join(reports, after, 'results.json'), 'utf8')) as RunResults;
      outcomes.push({ set, run, reportHref: `../${after}/index.html` });
      log(`matrix ${i + 1}/${sets.length}: ${set.name} ran in ${took}, exit code ${result.exitCode}, report reports/${after}/`);
    } else {
      // `run` failed before vitest wrote a report: its last line says why (a build failure, a refused version).
      const why = String(result.stderr ?? '').trim().split('\n').at(-1)?.replace(/^thanos-ha-e2e: /, '') || `run exited with code ${result.exitCode} before any test`;
      outcomes.push({ set, cannotRun: why });
      log(`matrix ${i + 1}/${sets.length}: ${set.name} cannot run: ${why}`);
    }
  }
  return writeMatrixReport(outcomes, findings, startedAt, reports);
}

/** The findings x versions table of these sets' runs, into reports/matrix-<id>/ (and reports/matrix-latest). */
export function writeMatrixReport(outcomes: readonly SetOutcome[], findings: ReadonlyMap<string, readonly string[]>, startedAt: Date, reports: string = REPORTS_DIR) {
  const rows = matrixRows(outcomes, findings);
  const matrixId = `matrix-${runIdOf(startedAt)}`;
  const dir = join(reports, matrixId);
  mkdirSync(dir, { recursive: true });
  const markdown = matrixMarkdown(outcomes, rows);
  writeFileSync(join(dir, 'matrix.md'), markdown);
  writeFileSync(join(dir, 'matrix.json'), JSON.stringify({ matrixId, startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), sets: outcomes.map((o) => ({ ...o.set, runId: o.run?.runId, cannotRun: o.cannotRun })), rows }, null, 2));
  writeFileSync(join(dir, 'index.html'), matrixHtml(matrixId, outcomes, rows));
  pointLink(reports, 'matrix-latest', matrixId);
  // The pins must reproduce every finding, keep every fix and fail no test; the older sets are there to be read.
  const pins = rows.map((r) => r.cells.at(-1)!);
  const ok = outcomes.at(-1)?.run !== undefined && pins.every((c) => c.reproduces.state !== 'failed' && c.fixHolds.state !== 'failed' && c.failed.length === 0);
  return { dir, markdown, ok };
}
