// reports/scale-<id>/: the sweep's results.json and one self-contained page (inline CSS and SVG, no
// script): a table with a row per point and a log-log plot per cost, each curve with its fitted
// per-series slope. The totals are plotted (bytes per hour of history, CPU seconds, resident bytes)
// so that a curve's slope is the cost of one more series. Also the markdown table of the largest
// point that summary.md shows next to the findings' trade-offs.
import type { LogLogPlot } from '../report/plots.ts';
import { escapeXml as esc, formatNumber, plotSvg } from '../report/plots.ts';
import type { Latency, PointFigures } from './figures.ts';

export interface PointResult {
  series: number;
  status: 'measured' | 'skipped' | 'failed';
  /** Why it was skipped or failed: one line. */
  reason?: string;
  /** The most memory the run held at once: every component's resident memory plus the harness's. */
  peakBytes?: number;
  seconds?: number;
  figures?: PointFigures;
}

export interface SweepResults {
  id: string;
  startedAt: string;
  finishedAt: string;
  substrate: string;
  machine: { cores: number; memoryBytes: number; cpu: string };
  versions: Record<string, string>;
  /** The workload's churn ("10%/10m", --churn), when the sweep ran with it; absent: none. */
  churn?: string;
  points: PointResult[];
}

/** Nearest-rank percentile of a non-empty list; undefined when empty. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const median = (values: readonly number[]) => percentile(values, 50);
const arch2Rate = (f: PointFigures, compacted: boolean) => (compacted ? f.bucket.sidecarCompacted : f.bucket.sidecar).bytesPerSeriesHour + f.bucket.receive.bytesPerSeriesHour;
const ms = (v: number | undefined) => (v === undefined ? 'n/a' : `${formatNumber(v)} ms`);
const lat = (l: Latency) => `cold ${ms(median(l.coldMs))} / ${ms(percentile(l.coldMs, 95))}, cached ${ms(median(l.cachedMs))} / ${ms(percentile(l.cachedMs, 95))}`;

/** The table's columns: a heading and how each measured point fills it. */
const COLUMNS: [string, (f: PointFigures, p: PointResult) => string][] = [
  ['history written', (f) => `${formatNumber(f.history.samples)} samples in ${f.history.seconds.toFixed(0)} s`],
  ['bucket B per series-hour: Arch 1 (sidecars) / Arch 2 / Arch 3 (Receive)', (f) => `${f.bucket.sidecar.bytesPerSeriesHour} / ${arch2Rate(f, false).toFixed(1)} / ${f.bucket.receive.bytesPerSeriesHour}`],
  ['after the Compactor: Arch 1 / Arch 2', (f) => `${f.bucket.sidecarCompacted.bytesPerSeriesHour} / ${arch2Rate(f, true).toFixed(1)}${f.bucket.compactorHalted ? ' (halted)' : ''}`],
  ['remote write B per sample', (f) => String(f.remoteWrite.bytesPerSample)],
  ['observee CPU s under the load: via Sidecar / via Receive', (f) => `${f.observee.viaSidecar.cpuSeconds} / ${f.observee.viaReceive.cpuSeconds}`],
  ['observee RSS after it: via Sidecar / via Receive', (f) => `${formatNumber(f.observee.viaSidecar.rssAfterBytes)}B / ${formatNumber(f.observee.viaReceive.rssAfterBytes)}B`],
  ['Receive RSS per head series; CPU s per 1k samples', (f) => `${formatNumber(f.receive.rssBytesPerSeries)}B; ${f.receive.cpuSecondsPer1kSamples}`],
  ['6h range query (5 min step) p50 / p95 via Sidecar', (f) => lat(f.latency.viaSidecar)],
  ['the same via Receive', (f) => lat(f.latency.viaReceive)],
  ['freshness (median s): via Sidecar / via Receive', (f) => `${median(f.freshness.viaSidecar) ?? 'n/a'} / ${median(f.freshness.viaReceive) ?? 'n/a'}`],
  ['partial answers (left out)', (f) => (f.partial.length ? f.partial.join('; ') : 'none')],
  ['peak memory, wall time', (_, p) => `${formatNumber(p.peakBytes ?? 0)}B, ${(p.seconds ?? 0).toFixed(0)} s`],
];

const measured = (r: SweepResults) => r.points.filter((p): p is PointResult & { figures: PointFigures } => p.status === 'measured' && p.figures !== undefined);

/** The plots of a sweep: totals against the series count. */
export function sweepPlots(results: SweepResults): LogLogPlot[] {
  const points = measured(results);
  const curve = (label: string, y: (f: PointFigures) => number | undefined) => ({
    label,
    points: points.flatMap((p) => {
      const v = y(p.figures);
      return v === undefined ? [] : [{ x: p.series, y: v }];
    }),
  });
  const perHour = (rate: number, f: PointFigures) => rate * f.series;
  return [
    {
      kind: 'loglog',
      title: 'Bucket bytes per hour of history',
      xLabel: 'series',
      unit: 'B',
      curves: [
        curve('Arch 1 (sidecars)', (f) => perHour(f.bucket.sidecar.bytesPerSeriesHour, f)),
        curve('Arch 2', (f) => perHour(arch2Rate(f, false), f)),
        curve('Arch 3 (Receive)', (f) => perHour(f.bucket.receive.bytesPerSeriesHour, f)),
        curve('Arch 1 after the Compactor', (f) => perHour(f.bucket.sidecarCompacted.bytesPerSeriesHour, f)),
        curve('Arch 2 after the Compactor', (f) => perHour(arch2Rate(f, true), f)),
      ],
    },
    {
      kind: 'loglog',
      title: 'Remote-write bytes per grid slot (the HA pair)',
      xLabel: 'series',
      unit: 'B',
      curves: [curve('Arch 2, 3', (f) => f.remoteWrite.bytesPerSample * f.series * 2)],
    },
    {
      kind: 'loglog',
      title: "The observee Prometheus' CPU under the same query load",
      xLabel: 'series',
      unit: 's',
      curves: [curve('via Sidecar (Arch 1)', (f) => f.observee.viaSidecar.cpuSeconds), curve('via Receive (Arch 2)', (f) => f.observee.viaReceive.cpuSeconds)],
    },
    {
      kind: 'loglog',
      title: 'Resident memory',
      xLabel: 'series',
      unit: 'B',
      curves: [
        curve('observee Prometheus (both)', (f) => f.observee.viaSidecar.rssAfterBytes),
        curve('Receive', (f) => f.receive.rssBytes),
      ],
    },
    {
      kind: 'loglog',
      title: 'One 6h range query of an aggregate (5 min step) through the Query Frontend, median',
      xLabel: 'series',
      unit: 'ms',
      curves: [
        curve('via Sidecar, cold', (f) => median(f.latency.viaSidecar.coldMs)),
        curve('via Receive, cold', (f) => median(f.latency.viaReceive.coldMs)),
        curve('via Sidecar, cached', (f) => median(f.latency.viaSidecar.cachedMs)),
        curve('via Receive, cached', (f) => median(f.latency.viaReceive.cachedMs)),
      ],
    },
    {
      kind: 'loglog',
      title: 'Freshness: from a sample\u2019s scrape until it answers, median',
      xLabel: 'series',
      unit: 's',
      curves: [curve('via Sidecar', (f) => median(f.freshness.viaSidecar)), curve('via Receive', (f) => median(f.freshness.viaReceive))],
    },
  ];
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}
table{border-collapse:collapse;margin:12px 0}th,td{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}
th{background:#f3f3f3}.none{color:#777}figure.plot{margin:10px 0 18px}figcaption{font-weight:600;margin-bottom:4px}`;

export function renderSweepHtml(results: SweepResults): string {
  const header = `<tr><th>series</th><th>status</th>${COLUMNS.map(([h]) => `<th>${esc(h)}</th>`).join('')}</tr>`;
  const rows = results.points
    .map((p) =>
      p.figures
        ? `<tr class="point"><td>${formatNumber(p.series)}</td><td>${p.status}</td>${COLUMNS.map(([, cell]) => `<td>${esc(cell(p.figures!, p))}</td>`).join('')}</tr>`
        : `<tr class="point"><td>${formatNumber(p.series)}</td><td>${p.status}</td><td colspan="${COLUMNS.length}" class="none">${esc(p.reason ?? '')}</td></tr>`,
    )
    .join('');
  const m = results.machine;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>thanos-ha-e2e scale sweep ${esc(results.id)}</title><style>${CSS}</style></head><body>
<h1>Scale sweep ${esc(results.id)}</h1>
<p>${esc(results.startedAt)} to ${esc(results.finishedAt)} · substrate ${esc(results.substrate)}${results.churn ? ` · churn ${esc(results.churn)} of the pods (bytes per series-hour count the series alive at once)` : ''} · ${m.cores} cores (${esc(m.cpu)}), ${formatNumber(m.memoryBytes)}B memory</p>
<p>versions: ${Object.entries(results.versions).map(([k, v]) => `${esc(k)} ${esc(v)}`).join(' · ')}</p>
<p>Arch 1: the HA pair's sidecars ship blocks; Arch 2: the same plus remote write into a Receive; Arch 3: what the Receive keeps (its agent's writes). Latency and freshness go through each path's Query Frontend; p50 / p95 by nearest rank. Every answer read was checked for completeness and warnings; partial ones are listed and left out.</p>
<table id="points">${header}${rows}</table>
<h2>Costs against the series count</h2>
${sweepPlots(results).map(plotSvg).join('')}
</body></html>
`;
}

/** The largest measured point as summary.md's trade-offs at scale: a row per claim, a column per architecture. */
export function scaleTradeOffsMarkdown(results: SweepResults): string | undefined {
  const largest = measured(results).at(-1);
  if (!largest) return undefined;
  const f = largest.figures;
  const rows = [
    ['bucket bytes per series-hour of history', `${f.bucket.sidecar.bytesPerSeriesHour} (${f.bucket.sidecarCompacted.bytesPerSeriesHour} after the Compactor)`, `${arch2Rate(f, false).toFixed(1)} (${arch2Rate(f, true).toFixed(1)} after it)`, `${f.bucket.receive.bytesPerSeriesHour}`],
    ['remote-write bytes per sample', 'none', `${f.remoteWrite.bytesPerSample}`, `${f.remoteWrite.bytesPerSample} (Prometheus' remote write; an agent's is the same protocol)`],
    ["the observee Prometheus' CPU under the same query load", `${f.observee.viaSidecar.cpuSeconds} s (via Sidecar)`, `${f.observee.viaReceive.cpuSeconds} s (via Receive)`, 'no query reaches the agent'],
    ['6h range query of an aggregate (5 min step), p50 cold / cached', `${ms(median(f.latency.viaSidecar.coldMs))} / ${ms(median(f.latency.viaSidecar.cachedMs))}`, `${ms(median(f.latency.viaReceive.coldMs))} / ${ms(median(f.latency.viaReceive.cachedMs))} (via Receive)`, 'as Arch 2 via Receive'],
    ['freshness, median', `${median(f.freshness.viaSidecar)} s`, `${median(f.freshness.viaSidecar)} s via Sidecar, ${median(f.freshness.viaReceive)} s via Receive`, `${median(f.freshness.viaReceive)} s`],
  ];
  return [
    `## The trade-offs at ${largest.series.toLocaleString('en')} series${results.churn ? `, churn ${results.churn}` : ''} (scale sweep ${results.id}, ${results.substrate}, ${results.machine.cores} cores)`,
    '',
    '| trade-off | Arch 1 | Arch 2 | Arch 3 |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    `Every point: reports/scale-${results.id}/index.html`,
    '',
  ].join('\n');
}
