// The audit's files: audit.json (every check's result with its figures, and what was asked), and
// the same self-contained page as a run's report (index.html with results.json beside it, which
// `node harness/report/chromium-check.ts <dir>` checks in Chromium): one row per check, then each
// check's lines and plots (the Stores page as a timeline with holes marked, the distinct answers
// of repeated requests, the frontend's cached gap).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FindingRecord } from '../report/findings.ts';
import { CSS, type RunResults } from '../report/html.ts';
import { escapeXml as esc, plotSvg } from '../report/plots.ts';
import { CHECK_TITLES, resultLines, type CheckResult } from './checks.ts';

export interface AuditRun {
  query: string;
  frontend: string | undefined;
  startedAt: string;
  finishedAt: string;
  /** Requests sent to Query and the frontend, all GET. */
  requests: number;
  options: { probe: string; range: string; step: string; tries: number; ago: string; timeout: string };
  results: CheckResult[];
  exitCode: 0 | 1;
}

const WORD = { ok: 'ok', finding: 'FINDING', unchecked: 'could not check' } as const;

/** Each check as a findings record, so that the run page's checks (and its Chromium check) apply. */
export function auditRecords(run: AuditRun): FindingRecord[] {
  return run.results.map((r) => ({
    finding: CHECK_TITLES[r.id],
    scenario: 'audit',
    topology: run.query,
    substrate: 'live',
    configuration: r.status === 'finding' ? 'faulty' : 'fixed',
    observed: `${WORD[r.status]}: ${r.summary}`,
    figures: r.figures,
    plots: r.plots,
    recordedAt: run.finishedAt,
  }));
}

export function renderAuditHtml(run: AuditRun): string {
  const rows = run.results
    .map((r) => `<tr class="finding ${r.status}"><td><b>${esc(CHECK_TITLES[r.id])}</b></td><td class="${r.status === 'finding' ? 'found' : r.status === 'ok' ? 'yes' : 'none'}">${esc(WORD[r.status])}</td><td>${esc(r.summary)}</td></tr>`)
    .join('');
  const sections = run.results
    .map(
      (r) =>
        `<section class="record" id="check-${esc(r.id)}"><h3>${esc(CHECK_TITLES[r.id])} · ${esc(WORD[r.status])}</h3><p>${esc(r.summary)}</p>${r.details.length ? `<ul>${r.details.map((d) => `<li>${esc(d)}</li>`).join('')}</ul>` : ''}<p><code>${Object.entries(r.figures).map(([k, v]) => `${esc(k)}=${esc(String(v))}`).join(', ')}</code></p>${r.plots.map(plotSvg).join('')}</section>`,
    )
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>thanos-ha-e2e audit ${esc(run.query)}</title><style>${CSS}.found{color:#c62828;font-weight:600}</style></head><body>
<h1>thanos-ha-e2e audit of ${esc(run.query)}</h1>
<p>${esc(run.startedAt)} to ${esc(run.finishedAt)} · Query ${esc(run.query)}${run.frontend ? ` · Query Frontend ${esc(run.frontend)}` : ' · no Query Frontend given'} · ${run.requests} GET requests · exit ${run.exitCode}</p>
<p>probe <code>${esc(run.options.probe)}</code> over ${esc(run.options.range)}, step ${esc(run.options.step)}; ${run.options.tries} identical tries ${esc(run.options.ago)} back; timeout ${esc(run.options.timeout)} per request</p>
<h2>Checks</h2>
<table id="findings"><tr><th>check</th><th>result</th><th>what was seen</th></tr>${rows}</table>
<pre>${esc(resultLines(run.results).join('\n'))}</pre>
<h2>Each check</h2>${sections}
</body></html>
`;
}

/** Writes audit.json, results.json (the run page's format) and index.html into dir; returns the page. */
export function writeAuditReport(dir: string, run: AuditRun): { dir: string; index: string; json: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, 'audit.json');
  writeFileSync(json, JSON.stringify(run, null, 2));
  const results: RunResults = {
    runId: `audit-${run.startedAt}`,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    versions: {},
    tests: run.results.map((r) => ({ file: 'audit', name: CHECK_TITLES[r.id], state: r.status === 'unchecked' ? 'skipped' : r.status === 'finding' ? 'failed' : 'passed', durationMs: 0 })),
    findings: auditRecords(run),
    logs: {},
  };
  writeFileSync(join(dir, 'results.json'), JSON.stringify(results, null, 2));
  const index = join(dir, 'index.html');
  writeFileSync(index, renderAuditHtml(run));
  return { dir, index, json };
}
