// Gathers the findings the scenarios recorded into reports/summary.md.
import { writeFileSync } from 'node:fs';
import { findingsMarkdown, readFindings } from './findings.ts';
import { REPORTS_DIR } from './paths.ts';

export function writeSummary(): { markdown: string; path: string } {
  const records = readFindings();
  const markdown = records.length
    ? `# thanos-ha-e2e findings\n\n${findingsMarkdown(records)}`
    : '# thanos-ha-e2e findings\n\nNo scenario recorded a finding (did every scenario fail before its assertions?).\n';
  const path = `${REPORTS_DIR}/summary.md`;
  writeFileSync(path, markdown);
  return { markdown, path };
}
