// The findings x versions table: for each finding and version set, whether the faulty configuration
// still shows the symptom and whether the fixed one still stays clean, read from each set's run
// results (reports/<run-id>/results.json). Where a configuration recorded nothing, the cell says why:
// the set could not run at all, a test of the finding's scenarios failed (its first error line), or
// nothing ran.
import type { RunResults, TestResult } from '../report/html.ts';
import { escapeXml as esc } from '../report/plots.ts';
import type { VersionSet } from './version-sets.ts';
import { setLabel } from './version-sets.ts';

export interface SetOutcome {
  set: VersionSet;
  /** The set's run, when it ran. */
  run?: RunResults;
  /** Why it could not run (a binary failed to build, ...), in one line. */
  cannotRun?: string;
  /** The set's own report, relative to the matrix page. */
  reportHref?: string;
}

export interface ConfigurationCell {
  /** "n/a": no set recorded this configuration for this scenario (E and HA have fixed records only). */
  state: 'yes' | 'failed' | 'not run' | 'n/a';
  /** The measured observation (yes), or why not. */
  detail: string;
}

export interface MatrixCell {
  reproduces: ConfigurationCell;
  fixHolds: ConfigurationCell;
  /** Tests of the scenario that failed in this set (a failed one need not be of this finding, but is in its file). */
  failed: string[];
}

/** One row per finding and scenario: a letter like G covers several scenarios, and each must be seen on its own. */
export interface MatrixRow {
  finding: string;
  scenario: string;
  cells: MatrixCell[];
}

const firstLine = (text: string | undefined) => (text ?? '').split('\n').map((l) => l.trim()).find(Boolean)?.slice(0, 240) ?? 'no error message';

function failedTests(outcome: SetOutcome, scenario: string): string[] {
  return (outcome.run?.tests ?? [])
    .filter((t) => t.state === 'failed' && t.file.endsWith(`${scenario}.e2e.ts`))
    .map((t) => `${t.name}${t.suite ? ' (before its tests)' : ''}: ${firstLine(t.error)}`);
}

function cellOf(outcome: SetOutcome, finding: string, scenario: string, configuration: 'faulty' | 'fixed', recordedAnywhere: boolean): ConfigurationCell {
  if (!outcome.run) return { state: 'not run', detail: outcome.cannotRun ?? 'did not run' };
  const records = outcome.run.findings.filter((r) => r.finding === finding && r.scenario === scenario && r.configuration === configuration);
  if (records.length) return { state: 'yes', detail: records.map((r) => r.observed).join(' / ') };
  const ofScenario = outcome.run.tests.filter((t) => t.file.endsWith(`${scenario}.e2e.ts`));
  if (ofScenario.length === 0) return { state: 'not run', detail: 'not selected' };
  if (ofScenario.every((t) => t.state === 'skipped')) return { state: 'not run', detail: 'its tests were skipped' }; // C off Kubernetes
  if (!recordedAnywhere) return { state: 'n/a', detail: `${scenario} records no ${configuration} configuration of ${finding}` };
  const failed = failedTests(outcome, scenario);
  if (failed.length) return { state: 'failed', detail: failed[0]! + (failed.length > 1 ? ` (+${failed.length - 1} more failed)` : '') };
  return { state: 'not run', detail: 'its tests were skipped' };
}

/** findings: letter -> the scenarios recording it (scenario-selection.ts). */
export function matrixRows(outcomes: readonly SetOutcome[], findings: ReadonlyMap<string, readonly string[]>): MatrixRow[] {
  const recorded = (finding: string, scenario: string, configuration: string) =>
    outcomes.some((o) => o.run?.findings.some((r) => r.finding === finding && r.scenario === scenario && r.configuration === configuration));
  return [...findings.keys()].sort().flatMap((finding) =>
    [...findings.get(finding)!].sort().map((scenario) => ({
      finding,
      scenario,
      cells: outcomes.map((o) => ({
        reproduces: cellOf(o, finding, scenario, 'faulty', recorded(finding, scenario, 'faulty')),
        fixHolds: cellOf(o, finding, scenario, 'fixed', recorded(finding, scenario, 'fixed')),
        failed: failedTests(o, scenario),
      })),
    })),
  );
}

const word = (c: ConfigurationCell) => (c.state === 'yes' ? 'yes' : c.state === 'failed' ? 'FAILED' : c.state);
const cellText = (c: MatrixCell) => `reproduces: ${word(c.reproduces)}; fix holds: ${word(c.fixHolds)}${c.failed.length ? `; ${c.failed.length} test(s) failed` : ''}`;

export function matrixMarkdown(outcomes: readonly SetOutcome[], rows: readonly MatrixRow[]): string {
  const header = `| finding | scenario | ${outcomes.map((o) => setLabel(o.set)).join(' | ')} |`;
  const lines = rows.map((r) => `| ${r.finding} | ${r.scenario} | ${r.cells.map(cellText).join(' | ')} |`);
  // Why, once per set and scenario: the failed tests, and configurations that did not run.
  const notes = new Set<string>();
  for (const r of rows) {
    r.cells.forEach((c, i) => {
      const set = outcomes[i]!.set.name;
      for (const [k, cell] of [['faulty', c.reproduces], ['fixed', c.fixHolds]] as const) {
        if (cell.state === 'not run') notes.add(`- ${set}, ${r.scenario}, ${r.finding} ${k}: ${cell.detail}`);
      }
      for (const f of c.failed) notes.add(`- ${set}, ${r.scenario}: failed: ${f}`);
    });
  }
  return [header, `|---|---|${outcomes.map(() => '---|').join('')}`, ...lines, '', ...(notes.size ? ['Why, where a cell is not "yes":', ...notes] : [])].join('\n') + '\n';
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:12px 0}
th,td{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left;max-width:420px}th{background:#f3f3f3}
.yes{color:#1b7f1b;font-weight:600}.failed{color:#b00020;font-weight:600}.notrun{color:#777;font-weight:600}small{color:#555}`;

function cellHtml(label: string, c: ConfigurationCell): string {
  const cls = c.state === 'yes' ? 'yes' : c.state === 'failed' ? 'failed' : 'notrun';
  return `<div>${label}: <span class="${cls}">${word(c)}</span><br><small>${esc(c.detail)}</small></div>`;
}

const failedHtml = (failed: readonly string[]) =>
  failed.length ? `<div><span class="failed">${failed.length} test(s) of this scenario failed</span><ul>${failed.map((f) => `<li><small>${esc(f)}</small></li>`).join('')}</ul></div>` : '';

export function matrixHtml(matrixId: string, outcomes: readonly SetOutcome[], rows: readonly MatrixRow[]): string {
  const head = outcomes
    .map((o) => `<th>${esc(setLabel(o.set))}<br><small>${esc(o.set.why)}</small>${o.reportHref ? `<br><a href="${esc(o.reportHref)}">run report</a>` : ''}${o.cannotRun ? `<br><span class="notrun">cannot run: ${esc(o.cannotRun)}</span>` : ''}</th>`)
    .join('');
  const body = rows
    .map((r) => `<tr class="finding"><td><b>${esc(r.finding)}</b></td><td>${esc(r.scenario)}</td>${r.cells.map((c) => `<td>${cellHtml('reproduces', c.reproduces)}${cellHtml('fix holds', c.fixHolds)}${failedHtml(c.failed)}</td>`).join('')}</tr>`)
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>thanos-ha-e2e matrix ${esc(matrixId)}</title><style>${CSS}</style></head><body>
<h1>thanos-ha-e2e: findings across versions (${esc(matrixId)})</h1>
<p>"reproduces": the faulty configuration showed the finding's symptom. "fix holds": the fixed configuration stayed clean. "n/a": the scenario has no such configuration for the finding. A cell that is not "yes" says why, and every failed test of the scenario is listed.</p>
<table id="matrix"><tr><th>finding</th><th>scenario</th>${head}</tr>${body}</table>
</body></html>
`;
}
