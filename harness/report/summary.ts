// Gathers the findings the scenarios recorded into reports/summary.md.
import { writeFileSync } from 'node:fs';
import { findingsMarkdown, readFindings, type FindingRecord } from './findings.ts';
import { REPORTS_DIR } from './paths.ts';
import { tradeOffsMarkdown } from './trade-offs.ts';

export function summaryMarkdown(records: FindingRecord[]): string {
  return records.length
    ? `# thanos-ha-e2e findings\n\n${findingsMarkdown(records)}\n${tradeOffsMarkdown(records)}`
    : '# thanos-ha-e2e findings\n\nNo scenario recorded a finding (did every scenario fail before its assertions?).\n';
}

export function writeSummary(): { markdown: string; path: string } {
  const markdown = summaryMarkdown(readFindings());
  const path = `${REPORTS_DIR}/summary.md`;
  writeFileSync(path, markdown);
  return { markdown, path };
}
