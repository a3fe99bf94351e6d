// The note's trade-offs (FINDINGS.md F) as one table: a row per claim, a column per architecture,
// each cell from the F records of this run. A record says where it belongs (FindingRecord.tradeOff);
// an F record that does not is still shown, in a row of its own.
import type { FindingRecord } from './findings.ts';

export const ARCHITECTURES = ['Arch 1', 'Arch 2', 'Arch 3'] as const;

/** The rows every table has, in order; a cell no record of the run fills says so. */
export const TRADE_OFFS = {
  bucketBytes: 'bucket bytes for the same history',
  observeeLoad: "the observee Prometheus' CPU and RSS under the same query load",
  observeeLost: 'still answerable once the whole observee is lost',
  centralAlerting: 'central alerting (Ruler -> Query -> Receive -> Alertmanager)',
  compactorSaving: "the Compactor's storage saving, answers unchanged (the note runs it in Arch 2's observee)",
} as const;

export const NOT_MEASURED = 'not measured in this run';

const isTradeOff = (r: FindingRecord) => r.finding === 'F' || r.finding.startsWith('F-');
const escape = (text: string) => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

/** Where a record without a tradeOff goes: a row named after it, the column its topology's name says (arch1-... is Arch 1). */
function untagged(r: FindingRecord): { row: string; cells: Record<string, string> } {
  const arch = /^arch(\d)\b/.exec(r.topology);
  return { row: `${r.scenario}: ${r.finding}`, cells: { [arch ? `Arch ${arch[1]}` : 'other']: `${r.configuration} (${r.topology}): ${r.observed}` } };
}

/** A trade-offs table: its substrate (undefined when the run measured none), header, and rows of cells (each cell's texts). */
export interface TradeOffsTable {
  substrate: string | undefined;
  header: string[];
  rows: { row: string; cells: (string[] | undefined)[] }[];
}

/** One table per substrate with F records (a run has one); without any, one whose every cell says it was not measured. */
export function tradeOffsTables(records: FindingRecord[]): TradeOffsTable[] {
  const tradeOffs = records.filter(isTradeOff);
  if (tradeOffs.length === 0) return [tableOf(undefined, [])];
  return [...new Set(tradeOffs.map((r) => r.substrate))].sort().map((substrate) => tableOf(substrate, tradeOffs.filter((r) => r.substrate === substrate)));
}

const heading = (t: TradeOffsTable) => `The note's trade-offs (finding F), measured in this run${t.substrate ? ` (${t.substrate})` : ''}`;

/** The tables as markdown (summary.md). */
export function tradeOffsMarkdown(records: FindingRecord[]): string {
  return tradeOffsTables(records)
    .map((t) =>
      [
        `## ${heading(t)}`,
        '',
        `| ${t.header.join(' | ')} |`,
        `|${t.header.map(() => '---').join('|')}|`,
        ...t.rows.map(({ row, cells }) => `| ${[escape(row), ...cells.map((c) => c?.map(escape).join('<br>') ?? NOT_MEASURED)].join(' | ')} |`),
        '',
      ].join('\n'),
    )
    .join('\n');
}

/** The tables as HTML (the run report), each cell's texts one per line. */
export function tradeOffsHtml(records: FindingRecord[], esc: (text: string) => string): string {
  return tradeOffsTables(records)
    .map(
      (t) =>
        `<h3>${esc(heading(t))}</h3><table class="trade-offs"><tr>${t.header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>` +
        t.rows
          .map(({ row, cells }) => `<tr><th>${esc(row)}</th>${cells.map((c) => `<td>${c ? c.map(esc).join('<br>') : `<span class="none">${NOT_MEASURED}</span>`}</td>`).join('')}</tr>`)
          .join('') +
        '</table>',
    )
    .join('');
}

function tableOf(substrate: string | undefined, records: FindingRecord[]): TradeOffsTable {
  const rows = new Map<string, Map<string, string[]>>(Object.values(TRADE_OFFS).map((row) => [row, new Map()]));
  const columns = new Set<string>(ARCHITECTURES);
  // Stable within a cell, so that two runs' tables compare line by line: the fixed configuration
  // (what the claim comes to) before the faulty one, then by name.
  const ordered = [...records].sort(
    (a, b) => b.configuration.localeCompare(a.configuration) || `${a.scenario} ${a.topology}`.localeCompare(`${b.scenario} ${b.topology}`),
  );
  for (const r of ordered) {
    const { row, cells } = r.tradeOff ?? untagged(r);
    if (!rows.has(row)) rows.set(row, new Map());
    for (const [column, text] of Object.entries(cells)) {
      columns.add(column);
      const cell = rows.get(row)!;
      cell.set(column, [...(cell.get(column) ?? []), text]);
    }
  }
  return {
    substrate,
    header: ['trade-off', ...columns],
    rows: [...rows].map(([row, cells]) => ({ row, cells: [...columns].map((c) => cells.get(c)) })),
  };
}
