// reports/<run-id>/index.html: one self-contained page (inline CSS and SVG, no script, no CDN) with
// the findings table, the tests that failed with links to their components' logs, and each record's plots.
import type { FindingRecord } from './findings.ts';
import { escapeXml as esc, plotSvg } from './plots.ts';
import { tradeOffsHtml } from './trade-offs.ts';

export interface TestResult {
  file: string;
  name: string;
  state: 'passed' | 'failed' | 'skipped' | 'pending';
  durationMs: number;
  error?: string;
  /** A suite's (or file's) own error, outside any test: its beforeAll failed, so its tests show as skipped. */
  suite?: true;
}

export interface RunResults {
  runId: string;
  startedAt: string;
  finishedAt: string;
  /** What every binary ran at (fixtures/versions.json with the environment's overrides). */
  versions: Record<string, string>;
  tests: TestResult[];
  findings: FindingRecord[];
  /** Topologies whose component logs were kept (bring-up or a test failed): name -> path relative to index.html. */
  logs: Record<string, string>;
  /** The newest scale sweep (npm run bench -- --scale), if one ran: its page relative to index.html. */
  scale?: { id: string; href: string; largestSeries: number };
}

/** One row per finding letter: did the faulty configuration show the symptom, did the fixed one stay clean. */
export function findingRows(records: readonly FindingRecord[]) {
  const letters = [...new Set(records.map((r) => r.finding))].sort();
  return letters.map((finding) => {
    const of = records.filter((r) => r.finding === finding);
    return {
      finding,
      faulty: of.filter((r) => r.configuration === 'faulty'),
      fixed: of.filter((r) => r.configuration === 'fixed'),
    };
  });
}

export const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:12px 0;width:100%}th,td{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}
th{background:#f3f3f3}.yes{color:#1b7f1b;font-weight:600}.none{color:#777}
code{font-size:12px}figure.plot{margin:10px 0 18px}figcaption{font-weight:600;margin-bottom:4px}
section.record{border-top:1px solid #ddd;padding-top:8px;margin-top:14px}pre{white-space:pre-wrap;background:#fafafa;padding:6px}`;

function figuresText(r: FindingRecord): string {
  return Object.entries(r.figures).map(([k, v]) => `${esc(k)}=${esc(String(v))}`).join(', ');
}

function cell(records: FindingRecord[], yes: string): string {
  if (records.length === 0) return '<span class="none">not recorded</span>';
  return `<span class="yes">${yes}</span><ul>${records.map((r) => `<li><b>${esc(r.scenario)}</b> · ${esc(r.topology)} · ${esc(r.substrate)}: ${esc(r.observed)}</li>`).join('')}</ul>`;
}

export function renderReportHtml(run: RunResults): string {
  const failed = run.tests.filter((t) => t.state === 'failed');
  const tests = run.tests.filter((t) => !t.suite);
  const suitesFailed = run.tests.length - tests.length;
  const counts = (['passed', 'failed', 'skipped'] as const).map((s) => `${tests.filter((t) => t.state === s).length} ${s}`).join(', ') + (suitesFailed ? `; ${suitesFailed} suite(s) failed before their tests` : '');
  const substrates = [...new Set(run.findings.map((r) => r.substrate))].join(', ') || 'none';
  const rows = findingRows(run.findings)
    .map((f) => `<tr class="finding"><td><b>${esc(f.finding)}</b></td><td>${cell(f.faulty, 'symptom shown')}</td><td>${cell(f.fixed, 'clean')}</td></tr>`)
    .join('');
  const failures = failed.length
    ? `<h2>Failed tests</h2><table id="failures"><tr><th>test</th><th>error</th></tr>${failed.map((t) => `<tr><td>${esc(t.file)} › ${esc(t.name)}${t.suite ? ' (before its tests)' : ''}</td><td><pre>${esc((t.error ?? '').slice(0, 2000))}</pre></td></tr>`).join('')}</table>`
    : '';
  const logs = Object.keys(run.logs).length
    ? `<h2>Component logs</h2><ul id="logs">${Object.entries(run.logs).map(([topology, href]) => `<li><a href="${esc(href)}">${esc(topology)}</a></li>`).join('')}</ul>`
    : '';
  const records = [...run.findings]
    .sort((a, b) => a.finding.localeCompare(b.finding) || a.configuration.localeCompare(b.configuration) || a.scenario.localeCompare(b.scenario))
    .map((r) => `<section class="record"><h3>${esc(r.finding)} · ${esc(r.configuration)} · ${esc(r.scenario)} · ${esc(r.topology)} (${esc(r.substrate)})</h3><p>${esc(r.observed)}</p><p><code>${figuresText(r)}</code></p>${(r.plots ?? []).map(plotSvg).join('')}</section>`)
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>thanos-ha-e2e ${esc(run.runId)}</title><style>${CSS}</style></head><body>
<h1>thanos-ha-e2e run ${esc(run.runId)}</h1>
<p>${esc(run.startedAt)} to ${esc(run.finishedAt)} · tests: ${counts} · substrates: ${esc(substrates)}</p>
<p>versions: ${Object.entries(run.versions).map(([k, v]) => `${esc(k)} ${esc(v)}`).join(' · ')}</p>
<h2>Findings</h2>
<table id="findings"><tr><th>finding</th><th>faulty configuration</th><th>fixed configuration</th></tr>${rows || '<tr><td colspan="3">No scenario recorded a finding.</td></tr>'}</table>
${failures}${logs}
<h2>Trade-offs</h2>${tradeOffsHtml(run.findings, esc)}
${run.scale ? `<p id="scale">At scale: <a href="${esc(run.scale.href)}">scale sweep ${esc(run.scale.id)}</a>, the costs as curves up to ${run.scale.largestSeries.toLocaleString('en')} series.</p>` : '<p id="scale" class="none">No scale sweep has run here (npm run bench -- --scale).</p>'}
<h2>Records and plots</h2>${records}
</body></html>
`;
}
