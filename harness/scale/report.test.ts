import { describe, expect, it } from 'vitest';
import type { ObserveeCost } from '../steps/trade-offs.ts';
import type { PointFigures } from './figures.ts';
import { renderReportHtml } from '../report/html.ts';
import { summaryMarkdown } from '../report/summary.ts';
import { percentile, renderSweepHtml, scaleTradeOffsMarkdown, sweepPlots, type SweepResults } from './report.ts';

const cost = (cpuSeconds: number): ObserveeCost => ({ cpuSeconds, rssDeltaBytes: 0, rssAfterBytes: 1e8, remoteReads: 40, queries: 20, wallMs: 1000, seriesPerAnswer: [10], warnings: [] });
const bucket = (rate: number) => ({ bytes: rate * 1000, blocks: 6, hours: 6, bytesPerSeriesHour: rate });

/** Figures shaped as measurePoint returns them, with costs in proportion to the series. */
function figures(series: number): PointFigures {
  return {
    series,
    history: { samples: series * 5920, seconds: series / 100 },
    bucket: { sidecar: bucket(200), receive: bucket(100), sidecarCompacted: bucket(100), compactorHalted: false },
    remoteWrite: { bytes: series * 30, samples: series * 10, bytesPerSample: 3 },
    observee: { viaSidecar: cost(series / 1000), viaReceive: cost(series / 10_000) },
    receive: { rssBytes: series * 8000, headSeries: series * 2, rssBytesPerSeries: 4000, samplesPerSecond: series / 7.5, cpuSecondsPer1kSamples: 0.01 },
    latency: { viaSidecar: { coldMs: [30, 10, 20], cachedMs: [2, 1] }, viaReceive: { coldMs: [5], cachedMs: [] } },
    freshness: { viaSidecar: [0.5, 0.7, 0.6], viaReceive: [5.1] },
    partial: [],
  };
}

const results: SweepResults = {
  id: '2026-12-06T14-00-00Z',
  startedAt: '2026-12-06T14:00:00Z',
  finishedAt: '2026-12-06T15:00:00Z',
  substrate: 'process',
  machine: { cores: 2, memoryBytes: 24 * 2 ** 30, cpu: 'test cpu' },
  versions: { thanos: '0.42.4' },
  points: [
    { series: 1000, status: 'measured', peakBytes: 2 ** 30, seconds: 100, figures: figures(1000) },
    { series: 10_000, status: 'measured', peakBytes: 2 * 2 ** 30, seconds: 200, figures: figures(10_000) },
    { series: 1_000_000, status: 'skipped', reason: 'skipped 1,000,000 series: it would need about 60 GiB' },
  ],
};

describe('the sweep report', () => {
  it('takes percentiles by nearest rank', () => {
    expect(percentile([30, 10, 20], 50)).toBe(20);
    expect(percentile([30, 10, 20], 95)).toBe(30);
    expect(percentile([], 50)).toBeUndefined();
  });

  it('has a row per point, a skipped one with its reason', () => {
    const html = renderSweepHtml(results);
    expect(html.match(/<tr class="point">/g)).toHaveLength(3);
    expect(html).toContain('skipped 1,000,000 series: it would need about 60 GiB');
    expect(html).toContain('<td>200 / 300.0 / 100</td>'); // bucket B per series-hour: Arch 1 / Arch 2 / Arch 3
    expect(html).toContain('cold 20 ms / 30 ms, cached 1 ms / 2 ms');
  });

  it('plots totals, so that each fitted slope is the cost of one more series', () => {
    const [bytes] = sweepPlots(results);
    expect(bytes!.curves[0]).toEqual({ label: 'Arch 1 (sidecars)', points: [{ x: 1000, y: 200_000 }, { x: 10_000, y: 2_000_000 }] });
    expect(renderSweepHtml(results)).toContain('Arch 1 (sidecars): 200 B per series, exponent 1.00');
  });

  it("gives summary.md the largest measured point's trade-offs", () => {
    const md = scaleTradeOffsMarkdown(results)!.split('\n');
    expect(md[0]).toBe('## The trade-offs at 10,000 series (scale sweep 2026-12-06T14-00-00Z, process, 2 cores)');
    expect(md).toContain('| bucket bytes per series-hour of history | 200 (100 after the Compactor) | 300.0 (200.0 after it) | 100 |');
    expect(scaleTradeOffsMarkdown({ ...results, points: results.points.slice(2) })).toBeUndefined();
  });

  it('puts that table into summary.md and a link to the sweep into the run report', () => {
    expect(summaryMarkdown([], results)).toContain('## The trade-offs at 10,000 series (scale sweep 2026-12-06T14-00-00Z, process, 2 cores)');
    expect(summaryMarkdown([])).not.toContain('## The trade-offs at');
    const run = { runId: 'r', startedAt: '', finishedAt: '', versions: {}, tests: [], findings: [], logs: {} };
    expect(renderReportHtml({ ...run, scale: { id: results.id, href: `../scale-${results.id}/index.html`, largestSeries: 10_000 } })).toContain(
      `<a href="../scale-${results.id}/index.html">scale sweep ${results.id}</a>, the costs as curves up to 10,000 series`,
    );
    expect(renderReportHtml(run)).toContain('No scale sweep has run here');
  });
});
