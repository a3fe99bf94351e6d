import { describe, expect, it } from 'vitest';
import type { FindingRecord } from './findings.ts';
import { summaryMarkdown } from './summary.ts';
import { escapeXml } from './plots.ts';
import { NOT_MEASURED, TRADE_OFFS, tradeOffsHtml, tradeOffsMarkdown } from './trade-offs.ts';

const record = (r: Partial<FindingRecord> & Pick<FindingRecord, 'scenario' | 'topology'>): FindingRecord => ({
  finding: 'F',
  substrate: 'process',
  configuration: 'fixed',
  observed: 'observed',
  figures: {},
  recordedAt: '2026-01-01T00:00:00.000Z',
  ...r,
});

const HEADER = ['| trade-off | Arch 1 | Arch 2 | Arch 3 |', '|---|---|---|---|'];
const row = (name: string, ...cells: string[]) => `| ${name} | ${cells.join(' | ')} |`;
const n = NOT_MEASURED;

describe('tradeOffsMarkdown', () => {
  it('fills each row from the records that name it, and says which cells no record of the run filled', () => {
    const records = [
      record({ scenario: 'arch2-remote-write', topology: 'arch2-side-by-side bucket', tradeOff: { row: TRADE_OFFS.bucketBytes, cells: { 'Arch 1': '10 B', 'Arch 2': '30 B', 'Arch 3': '20 B' } } }),
      record({ scenario: 'arch2-remote-write', topology: 'q-sidecar', configuration: 'faulty', tradeOff: { row: TRADE_OFFS.observeeLoad, cells: { 'Arch 1': '0.5 s CPU' } } }),
      record({ scenario: 'arch2-remote-write', topology: 'q-receive', tradeOff: { row: TRADE_OFFS.observeeLoad, cells: { 'Arch 2': '0.1 s CPU' } } }),
      record({ scenario: 'arch3-agent', topology: 'arch3-central-alerting', tradeOff: { row: TRADE_OFFS.centralAlerting, cells: { 'Arch 3': 'fires after 2 s' } } }),
      // Not F: only in the findings table.
      record({ finding: 'D', scenario: 'arch2-remote-write', topology: 'x', tradeOff: { row: TRADE_OFFS.bucketBytes, cells: { 'Arch 1': 'never shown' } } }),
    ];
    expect(tradeOffsMarkdown(records).split('\n')).toEqual([
      "## The note's trade-offs (finding F), measured in this run (process)",
      '',
      ...HEADER,
      row(TRADE_OFFS.bucketBytes, '10 B', '30 B', '20 B'),
      row(TRADE_OFFS.observeeLoad, '0.5 s CPU', '0.1 s CPU', n),
      row(TRADE_OFFS.observeeLost, n, n, n),
      row(TRADE_OFFS.centralAlerting, n, n, 'fires after 2 s'),
      row(TRADE_OFFS.compactorSaving, n, n, n),
      '',
    ]);
  });

  it('gives an F record without a place a row of its own, in the column its topology names, and joins records that share a cell, fixed first', () => {
    const records = [
      // As a compactor scenario might record, knowing nothing of the table.
      record({ scenario: 'compactor', topology: 'arch2-compactor', configuration: 'faulty', observed: 'halted | on overlap' }),
      record({ scenario: 'compactor', topology: 'arch2-compactor', configuration: 'fixed', observed: 'dedup: 40% fewer bytes' }),
      record({ finding: 'F-recording', scenario: 'arch3-agent', topology: 'arch3-central-alerting', observed: 'one series' }),
      record({ scenario: 'standalone', topology: 'store-only', observed: 'x' }),
      record({ scenario: 'arch3-agent', topology: 'b', configuration: 'faulty', tradeOff: { row: TRADE_OFFS.centralAlerting, cells: { 'Arch 3': 'faulty: silent' } } }),
      record({ scenario: 'arch3-agent', topology: 'a', tradeOff: { row: TRADE_OFFS.centralAlerting, cells: { 'Arch 3': 'fixed: fires\nin 2 s' } } }),
    ];
    const lines = tradeOffsMarkdown(records).split('\n');
    expect(lines.slice(2)).toEqual([
      '| trade-off | Arch 1 | Arch 2 | Arch 3 | other |',
      '|---|---|---|---|---|',
      row(TRADE_OFFS.bucketBytes, n, n, n, n),
      row(TRADE_OFFS.observeeLoad, n, n, n, n),
      row(TRADE_OFFS.observeeLost, n, n, n, n),
      row(TRADE_OFFS.centralAlerting, n, n, 'fixed: fires in 2 s<br>faulty: silent', n),
      row(TRADE_OFFS.compactorSaving, n, n, n, n),
      row('arch3-agent: F-recording', n, n, 'fixed (arch3-central-alerting): one series', n),
      // Fixed before faulty, whatever order they were recorded in.
      row('compactor: F', n, 'fixed (arch2-compactor): dedup: 40% fewer bytes<br>faulty (arch2-compactor): halted \\| on overlap', n, n),
      row('standalone: F', n, n, n, 'fixed (store-only): x'),
      '',
    ]);
  });

  it('writes one table per substrate, and one of unmeasured cells when no F record exists', () => {
    const tables = tradeOffsMarkdown([
      record({ scenario: 's', topology: 'arch1-x', substrate: 'process', tradeOff: { row: TRADE_OFFS.observeeLost, cells: { 'Arch 1': 'on process' } } }),
      record({ scenario: 's', topology: 'arch1-x', substrate: 'kind', tradeOff: { row: TRADE_OFFS.observeeLost, cells: { 'Arch 1': 'on kind' } } }),
    ]);
    expect(tables.split('\n').filter((l) => l.startsWith('## '))).toEqual([
      "## The note's trade-offs (finding F), measured in this run (kind)",
      "## The note's trade-offs (finding F), measured in this run (process)",
    ]);
    expect(tables).toContain(row(TRADE_OFFS.observeeLost, 'on kind', n, n));
    expect(tables).toContain(row(TRADE_OFFS.observeeLost, 'on process', n, n));

    const none = tradeOffsMarkdown([record({ finding: 'A', scenario: 's', topology: 't' })]).split('\n');
    expect(none[0]).toBe("## The note's trade-offs (finding F), measured in this run");
    expect(none.slice(4, -1)).toEqual(Object.values(TRADE_OFFS).map((r) => row(r, n, n, n)));
  });
});

describe('summaryMarkdown', () => {
  it('puts the trade-offs table after the findings table', () => {
    const md = summaryMarkdown([record({ scenario: 'arch2-remote-write', topology: 'arch2-side-by-side bucket', tradeOff: { row: TRADE_OFFS.bucketBytes, cells: { 'Arch 1': '10 B' } } })]);
    const findingsAt = md.indexOf('| finding | configuration |');
    const tradeOffsAt = md.indexOf("## The note's trade-offs");
    expect(findingsAt).toBeGreaterThan(0);
    expect(tradeOffsAt).toBeGreaterThan(findingsAt);
    expect(md).toContain(row(TRADE_OFFS.bucketBytes, '10 B', n, n));
  });
});

describe('tradeOffsHtml', () => {
  it('renders the same cells as an HTML table, escaped, one text per line within a cell', () => {
    const records = [
      record({ scenario: 's', topology: 'a', tradeOff: { row: TRADE_OFFS.bucketBytes, cells: { 'Arch 1': '10 B <raw>', 'Arch 2': '30 B' } } }),
      record({ scenario: 's', topology: 'b', tradeOff: { row: TRADE_OFFS.bucketBytes, cells: { 'Arch 2': 'after compaction 20 B' } } }),
    ];
    const html = tradeOffsHtml(records, escapeXml);
    expect(html).toContain('<tr><th>trade-off</th><th>Arch 1</th><th>Arch 2</th><th>Arch 3</th></tr>');
    expect(html).toContain(`<tr><th>${TRADE_OFFS.bucketBytes}</th><td>10 B &lt;raw&gt;</td><td>30 B<br>after compaction 20 B</td><td><span class="none">${n}</span></td></tr>`);
    expect(html.match(/<tr>/g)).toHaveLength(1 + Object.keys(TRADE_OFFS).length);
  });
});
