// What each scenario observed, as data: one JSON file per (scenario, configuration), gathered by
// `thanos-ha-e2e run` into reports/summary.md. Figures go here, not into test names.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FINDINGS_DIR } from './paths.ts';
import type { Plot } from './plots.ts';

export interface FindingRecord {
  /** Finding letter(s) in FINDINGS.md, e.g. "A", "E". */
  finding: string;
  scenario: string;
  topology: string;
  substrate: string;
  /** "faulty" must show the symptom, "fixed" must not. */
  configuration: 'faulty' | 'fixed';
  /** One sentence: what was observed, with the figures. */
  observed: string;
  figures: Record<string, number | string>;
  /** Finding F: the row of the trade-offs table this record fills, and its cells by architecture (report/trade-offs.ts). */
  tradeOff?: TradeOffCells;
  /** Pictures of the figures for the HTML report (report/plots.ts): a coverage timeline, tries as bars. */
  plots?: Plot[];
  recordedAt: string;
}

export interface TradeOffCells {
  /** One of TRADE_OFFS in report/trade-offs.ts, or a row of its own. */
  row: string;
  /** Keyed "Arch 1", "Arch 2", "Arch 3" (another key gets a column of its own): short text with the figures. */
  cells: Record<string, string>;
}

export function recordFinding(record: Omit<FindingRecord, 'recordedAt'>): void {
  mkdirSync(FINDINGS_DIR, { recursive: true });
  // One topology may hold a finding's faulty and fixed query paths side by side: both are kept, and
  // so are the same finding's figures on each substrate (kind next to process).
  const file = join(FINDINGS_DIR, `${record.scenario}--${record.topology}--${record.finding}--${record.configuration}--${record.substrate}.json`.replace(/[^\w.-]+/g, '_'));
  writeFileSync(file, JSON.stringify({ ...record, recordedAt: new Date().toISOString() }, null, 2));
}

export function readFindings(): FindingRecord[] {
  let files: string[];
  try {
    files = readdirSync(FINDINGS_DIR).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  return files.map((f) => JSON.parse(readFileSync(join(FINDINGS_DIR, f), 'utf8')) as FindingRecord);
}

export function findingsMarkdown(records: FindingRecord[]): string {
  const rows = [...records]
    .sort((a, b) => a.finding.localeCompare(b.finding) || a.configuration.localeCompare(b.configuration))
    .map((r) => `| ${r.finding} | ${r.configuration} | ${r.topology} | ${r.substrate} | ${r.observed.replace(/\|/g, '\\|')} |`);
  return ['| finding | configuration | topology | substrate | observed |', '|---|---|---|---|---|', ...rows].join('\n') + '\n';
}
