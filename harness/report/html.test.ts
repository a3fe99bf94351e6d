import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CHROMIUM, checkReportInChromium } from './chromium-check.ts';
import type { FindingRecord } from './findings.ts';
import { findingRows, renderReportHtml } from './html.ts';
import { writeRunReport } from './run-report.ts';

const T0 = Date.parse('2026-12-02T06:00:00Z');
const H = 3_600_000;
const record = (finding: string, configuration: 'faulty' | 'fixed', plots: FindingRecord['plots'] = []): FindingRecord => ({
  finding, configuration, scenario: 's', topology: 't', substrate: 'process', observed: `${finding} ${configuration} <seen>`, figures: { n: 1 }, plots, recordedAt: new Date().toISOString(),
});
const timeline: NonNullable<FindingRecord['plots']>[number] = {
  kind: 'timeline', title: 'coverage', range: { from: T0, to: T0 + 6 * H },
  rows: [{ label: 'store', segments: [{ from: T0 - H, to: T0 + 4 * H }] }], marks: [{ label: 'missing', from: T0 + 4 * H, to: T0 + 6 * H }],
};
const bars: NonNullable<FindingRecord['plots']>[number] = {
  kind: 'bars', title: 'tries', bars: [{ label: 'try 1', value: 5, group: 'a' }, { label: 'try 2', value: 7, group: 'b' }], reference: { label: 'expected', value: 10 },
};

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

describe('run report', () => {
  it('has a row per finding saying whether the symptom showed and the fix stayed clean, with text escaped', () => {
    const records = [record('A', 'faulty', [timeline]), record('A', 'fixed'), record('B', 'faulty', [bars])];
    expect(findingRows(records).map((r) => [r.finding, r.faulty.length, r.fixed.length])).toEqual([['A', 1, 1], ['B', 1, 0]]);
    const html = renderReportHtml({ runId: 'r', startedAt: '', finishedAt: '', versions: { thanos: '0.42.4' }, tests: [], findings: records, logs: {} });
    expect(html).toContain('&lt;seen&gt;');
    expect(html).not.toContain('<seen>');
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  it('writes reports/<run-id>/ with results.json and index.html, points latest at it', () => {
    const reports = mkdtempSync(join(tmpdir(), 'thanos-ha-e2e-report-'));
    dirs.push(reports);
    const { dir } = writeRunReport({ startedAt: new Date('2026-12-02T12:00:00Z'), tests: [{ file: 'f', name: 'n', state: 'failed', durationMs: 3, error: 'boom' }], reportsDir: reports });
    expect(dir).toBe(join(reports, '2026-12-02T12-00-00Z'));
    const results = JSON.parse(readFileSync(join(reports, 'latest', 'results.json'), 'utf8'));
    expect(results.tests).toEqual([{ file: 'f', name: 'n', state: 'failed', durationMs: 3, error: 'boom' }]);
    expect(readFileSync(join(reports, 'latest', 'index.html'), 'utf8')).toContain('id="failures"');
  });

  it.skipIf(!existsSync(CHROMIUM))('renders the findings table and every plot in headless Chromium', async () => {
    const reports = mkdtempSync(join(tmpdir(), 'thanos-ha-e2e-report-'));
    dirs.push(reports);
    const run = { runId: 'r', startedAt: '', finishedAt: '', versions: {}, tests: [], findings: [record('A', 'faulty', [timeline]), record('B', 'faulty', [bars])], logs: {} };
    writeFileSync(join(reports, 'results.json'), JSON.stringify(run));
    const index = join(reports, 'index.html');
    writeFileSync(index, renderReportHtml(run));
    const check = await checkReportInChromium(index);
    expect(check).toMatchObject({ findingRows: 2, plots: 2 });
    expect(existsSync(check.screenshot)).toBe(true);
  }, 60_000);
});
