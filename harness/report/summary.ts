// Gathers the findings the scenarios recorded into reports/summary.md.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scaleTradeOffsMarkdown, type SweepResults } from '../scale/report.ts';
import { findingsMarkdown, readFindings, type FindingRecord } from './findings.ts';
import { REPORTS_DIR } from './paths.ts';
import { tradeOffsMarkdown } from './trade-offs.ts';

/** The findings, the trade-offs at the run's size and, when a scale sweep has run, at its largest point. */
export function summaryMarkdown(records: FindingRecord[], sweep?: SweepResults): string {
  const atScale = sweep ? scaleTradeOffsMarkdown(sweep) : undefined;
  return (
    (records.length
      ? `# thanos-ha-e2e findings\n\n${findingsMarkdown(records)}\n${tradeOffsMarkdown(records)}`
      : '# thanos-ha-e2e findings\n\nNo scenario recorded a finding (did every scenario fail before its assertions?).\n') + (atScale ? `\n${atScale}` : '')
  );
}

export function writeSummary(): { markdown: string; path: string } {
  const latest = join(REPORTS_DIR, 'scale-latest', 'results.json');
  const sweep = existsSync(latest) ? (JSON.parse(readFileSync(latest, 'utf8')) as SweepResults) : undefined;
  const markdown = summaryMarkdown(readFindings(), sweep);
  const path = `${REPORTS_DIR}/summary.md`;
  writeFileSync(path, markdown);
  return { markdown, path };
}
