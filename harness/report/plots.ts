// The plots a scenario attaches to a finding record, as data, and their SVG. Inline SVG only: the
// report is one self-contained file (no CDN, no script).

/** Rows of time intervals over one range, like the Stores page; marks shade a range across all rows (a gap, an outage). */
export interface TimelinePlot {
  kind: 'timeline';
  title: string;
  /** Epoch milliseconds. */
  range: { from: number; to: number };
  rows: { label: string; segments: { from: number; to: number }[] }[];
  marks?: { label: string; from: number; to: number }[];
}

/** One bar per item (a try, a receive); bars of the same group share a colour; reference draws a line (the expected value). */
export interface BarsPlot {
  kind: 'bars';
  title: string;
  bars: { label: string; value: number; group?: string }[];
  reference?: { label: string; value: number };
  unit?: string;
}

/**
 * Cost curves: one line of points per curve against the series count, both axes logarithmic, each
 * with its fitted per-series slope in the legend (scale sweep, issue 18).
 */
export interface LogLogPlot {
  kind: 'loglog';
  title: string;
  xLabel: string;
  unit: string;
  curves: { label: string; points: { x: number; y: number }[] }[];
}

export type Plot = TimelinePlot | BarsPlot | LogLogPlot;

/**
 * The least-squares fit of y = slope * x + intercept (slope: the cost of one more series) and of
 * log y = exponent * log x + c (exponent 1: the cost grows in proportion to the series). Needs two
 * distinct x; the exponent only positive values.
 */
export function fitCurve(points: readonly { x: number; y: number }[]): { slope: number; intercept: number; exponent: number | undefined } | undefined {
  const line = (xs: number[], ys: number[]) => {
    const n = xs.length;
    const mx = xs.reduce((a, b) => a + b, 0) / n;
    const my = ys.reduce((a, b) => a + b, 0) / n;
    const sxx = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
    if (sxx === 0) return undefined;
    const slope = xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0) / sxx;
    return { slope, intercept: my - slope * mx };
  };
  const linear = line(points.map((p) => p.x), points.map((p) => p.y));
  if (!linear) return undefined;
  const positive = points.every((p) => p.x > 0 && p.y > 0);
  const log = positive ? line(points.map((p) => Math.log10(p.x)), points.map((p) => Math.log10(p.y))) : undefined;
  return { ...linear, exponent: log?.slope };
}

/** A number for a label: 3 significant digits, k/M/G above a thousand. */
export function formatNumber(v: number): string {
  const abs = Math.abs(v);
  const [div, suffix] = abs >= 1e9 ? [1e9, 'G'] : abs >= 1e6 ? [1e6, 'M'] : abs >= 1e3 ? [1e3, 'k'] : [1, ''];
  return `${Number((v / div).toPrecision(3))}${suffix}`;
}

function loglogSvg(p: LogLogPlot): string {
  const left = 70;
  const plotW = W - left - 20;
  const top = 12;
  const plotH = 220;
  // The legend goes under the plot, a line per curve: each names its fitted slope in full.
  const legendTop = top + plotH + 44;
  const h = legendTop + p.curves.length * 18 + 4;
  const all = p.curves.flatMap((c) => c.points).filter((q) => q.x > 0 && q.y > 0);
  const decades = (values: number[]) => [Math.floor(Math.log10(Math.min(...values))), Math.ceil(Math.log10(Math.max(...values)))] as const;
  const [x0, x1] = all.length ? decades(all.map((q) => q.x)) : [0, 1];
  const [y0, y1raw] = all.length ? decades(all.map((q) => q.y)) : [0, 1];
  const y1 = Math.max(y1raw, y0 + 1);
  const xs = (x: number) => left + ((Math.log10(x) - x0) / Math.max(1, x1 - x0)) * plotW;
  const ys = (y: number) => top + plotH - ((Math.log10(y) - y0) / (y1 - y0)) * plotH;
  const parts: string[] = [];
  for (let d = x0; d <= Math.max(x1, x0 + 1); d++) {
    parts.push(`<line x1="${xs(10 ** d)}" x2="${xs(10 ** d)}" y1="${top}" y2="${top + plotH}" stroke="#eee"/>`);
    parts.push(`<text x="${xs(10 ** d)}" y="${top + plotH + 14}" font-size="10" text-anchor="middle" fill="#555">${formatNumber(10 ** d)}</text>`);
  }
  for (let d = y0; d <= y1; d++) {
    parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${ys(10 ** d)}" y2="${ys(10 ** d)}" stroke="#eee"/>`);
    parts.push(`<text x="${left - 4}" y="${ys(10 ** d) + 3}" font-size="10" text-anchor="end" fill="#555">${formatNumber(10 ** d)}</text>`);
  }
  parts.push(`<text x="${left + plotW / 2}" y="${top + plotH + 30}" font-size="11" text-anchor="middle">${escapeXml(p.xLabel)}</text>`);
  for (const [i, c] of p.curves.entries()) {
    const colour = COLOURS[i % COLOURS.length];
    const points = c.points.filter((q) => q.x > 0 && q.y > 0).sort((a, b) => a.x - b.x);
    if (points.length > 1) parts.push(`<polyline class="curve" fill="none" stroke="${colour}" stroke-width="2" points="${points.map((q) => `${xs(q.x).toFixed(1)},${ys(q.y).toFixed(1)}`).join(' ')}"/>`);
    for (const q of points) {
      parts.push(`<circle class="point" cx="${xs(q.x).toFixed(1)}" cy="${ys(q.y).toFixed(1)}" r="3.5" fill="${colour}"><title>${escapeXml(`${c.label}: ${formatNumber(q.x)} series, ${formatNumber(q.y)} ${p.unit}`)}</title></circle>`);
    }
    const fit = fitCurve(points);
    const legend = `${c.label}${fit ? `: ${formatNumber(fit.slope)} ${p.unit} per series${fit.exponent === undefined ? '' : `, exponent ${fit.exponent.toFixed(2)}`}` : ''}`;
    parts.push(`<rect x="${left}" y="${legendTop + i * 18}" width="10" height="10" fill="${colour}"/><text x="${left + 14}" y="${legendTop + i * 18 + 9}" font-size="11">${escapeXml(legend)}</text>`);
  }
  return svg(`${p.title} (${p.unit}, log-log)`, h, parts);
}

const W = 720;
const LABEL_W = 170;
const ROW_H = 22;
const COLOURS = ['#3b7dd8', '#e0823d', '#4caf50', '#9c27b0', '#c62828', '#00897b', '#795548', '#607d8b'];

export const escapeXml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
// Hours and minutes over a long range, seconds too where the range is under an hour (an outage plot).
const clock = (ms: number, spanMs: number) => new Date(ms).toISOString().slice(11, spanMs < 3_600_000 ? 19 : 16);

function timelineSvg(p: TimelinePlot): string {
  const plotW = W - LABEL_W - 10;
  const top = 24;
  const h = top + p.rows.length * ROW_H + 30;
  const span = Math.max(1, p.range.to - p.range.from);
  const x = (ms: number) => LABEL_W + (Math.min(Math.max(ms, p.range.from), p.range.to) - p.range.from) / span * plotW;
  const parts: string[] = [];
  for (const m of p.marks ?? []) {
    parts.push(`<rect class="mark" x="${x(m.from).toFixed(1)}" y="${top - 4}" width="${Math.max(1, x(m.to) - x(m.from)).toFixed(1)}" height="${p.rows.length * ROW_H + 4}" fill="#c62828" fill-opacity="0.18" stroke="#c62828" stroke-dasharray="4 2"><title>${escapeXml(`${m.label}: ${new Date(m.from).toISOString()} .. ${new Date(m.to).toISOString()}`)}</title></rect>`);
    parts.push(`<text x="${x(m.from) + 3}" y="${top - 8}" font-size="11" fill="#c62828">${escapeXml(m.label)}</text>`);
  }
  for (const [i, row] of p.rows.entries()) {
    const y = top + i * ROW_H;
    parts.push(`<text x="${LABEL_W - 6}" y="${y + 14}" font-size="12" text-anchor="end">${escapeXml(row.label)}</text>`);
    parts.push(`<line x1="${LABEL_W}" x2="${LABEL_W + plotW}" y1="${y + 10}" y2="${y + 10}" stroke="#ddd"/>`);
    for (const s of row.segments) {
      parts.push(`<rect class="segment" x="${x(s.from).toFixed(1)}" y="${y + 3}" width="${Math.max(1, x(s.to) - x(s.from)).toFixed(1)}" height="14" fill="${COLOURS[i % COLOURS.length]}"><title>${escapeXml(`${row.label}: ${new Date(s.from).toISOString()} .. ${new Date(s.to).toISOString()}`)}</title></rect>`);
    }
  }
  const axisY = top + p.rows.length * ROW_H + 12;
  for (let k = 0; k <= 6; k++) {
    const ms = p.range.from + (span * k) / 6;
    parts.push(`<text x="${x(ms).toFixed(1)}" y="${axisY}" font-size="10" text-anchor="${k === 0 ? 'start' : k === 6 ? 'end' : 'middle'}" fill="#555">${clock(ms, span)}</text>`);
  }
  return svg(p.title, h, parts);
}

function barsSvg(p: BarsPlot): string {
  const plotW = W - LABEL_W - 60;
  const top = 10;
  const h = top + p.bars.length * ROW_H + 24;
  const max = Math.max(1, p.reference?.value ?? 0, ...p.bars.map((b) => b.value));
  const groups = [...new Set(p.bars.map((b) => b.group ?? ''))];
  const parts: string[] = [];
  for (const [i, b] of p.bars.entries()) {
    const y = top + i * ROW_H;
    const colour = COLOURS[groups.indexOf(b.group ?? '') % COLOURS.length];
    parts.push(`<text x="${LABEL_W - 6}" y="${y + 14}" font-size="12" text-anchor="end">${escapeXml(b.label)}</text>`);
    parts.push(`<rect class="bar" x="${LABEL_W}" y="${y + 3}" width="${Math.max(1, (b.value / max) * plotW).toFixed(1)}" height="14" fill="${colour}"><title>${escapeXml(`${b.label}: ${b.value}${p.unit ? ` ${p.unit}` : ''}${b.group ? ` (${b.group})` : ''}`)}</title></rect>`);
    parts.push(`<text x="${LABEL_W + (b.value / max) * plotW + 4}" y="${y + 14}" font-size="11" fill="#333">${b.value}${b.group ? ` · ${escapeXml(b.group)}` : ''}</text>`);
  }
  if (p.reference) {
    const rx = LABEL_W + (p.reference.value / max) * plotW;
    parts.push(`<line class="reference" x1="${rx}" x2="${rx}" y1="${top}" y2="${top + p.bars.length * ROW_H}" stroke="#c62828" stroke-dasharray="4 2"/>`);
    parts.push(`<text x="${rx}" y="${top + p.bars.length * ROW_H + 14}" font-size="11" text-anchor="end" fill="#c62828">${escapeXml(`${p.reference.label}: ${p.reference.value}`)}</text>`);
  }
  return svg(p.title, h, parts);
}

function svg(title: string, height: number, parts: string[]): string {
  return `<figure class="plot"><figcaption>${escapeXml(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" role="img" aria-label="${escapeXml(title)}">${parts.join('')}</svg></figure>`;
}

export function plotSvg(p: Plot): string {
  return p.kind === 'timeline' ? timelineSvg(p) : p.kind === 'bars' ? barsSvg(p) : loglogSvg(p);
}

type Segment = TimelinePlot['rows'][number]['segments'][number];

/** A range query's window less its missing runs (on the step grid), as the segments a series was answered over. */
export function presentSegments(fromMs: number, toMs: number, stepMs: number, missing: readonly { startMs: number; endMs: number }[]): Segment[] {
  const segments: Segment[] = [];
  let at = fromMs;
  for (const m of [...missing].sort((a, b) => a.startMs - b.startMs)) {
    if (m.startMs > at) segments.push({ from: at, to: m.startMs - stepMs });
    at = m.endMs + stepMs;
  }
  if (at <= toMs) segments.push({ from: at, to: toMs });
  return segments;
}

/** Stores page entries (min/max time, either maybe "unbounded") as rows next to the range query; an unbounded end reaches the plot's edge. */
export function storesTimeline(
  title: string,
  stores: { label: string; minTime: number | 'unbounded'; maxTime: number | 'unbounded' }[],
  query: { start: number; end: number },
  marks?: TimelinePlot['marks'],
): TimelinePlot {
  const bounds = stores.flatMap((s) => [s.minTime, s.maxTime]).filter((t): t is number => typeof t === 'number');
  const range = { from: Math.min(query.start, ...bounds), to: Math.max(query.end, ...bounds) };
  const at = (t: number | 'unbounded', edge: number) => (typeof t === 'number' ? t : edge);
  return {
    kind: 'timeline',
    title,
    range,
    rows: [
      ...stores.map((s) => ({ label: s.label, segments: [{ from: at(s.minTime, range.from), to: at(s.maxTime, range.to) }] })),
      { label: 'range query', segments: [{ from: query.start, to: query.end }] },
    ],
    ...(marks ? { marks } : {}),
  };
}
