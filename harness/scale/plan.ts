// The scale sweep's decisions that need no running system: which points, whether the next one fits
// in memory, how long the rest will take. Each estimate comes from the points this run measured.
import { fitCurve } from '../report/plots.ts';
import { parseSeries } from '../topology/series-override.ts';

export const DEFAULT_POINTS = [1_000, 10_000, 100_000, 1_000_000];

/** "1k,10k,100k" -> [1000, 10000, 100000], ascending; one line naming the fix otherwise. */
export function parsePoints(text: string): number[] {
  const points = text.split(',').map((p) => parseSeries(p, '--series'));
  if (new Set(points).size !== points.length) throw new Error(`--series ${text}: a series count is given twice`);
  return points.sort((a, b) => a - b);
}

/** What a measured point cost: its series count, the most memory the whole run held, and its wall time. */
export interface PointCost {
  series: number;
  peakBytes: number;
  seconds: number;
}

/**
 * A cost at `series` from the points measured so far: the fitted line through two or more (never
 * below the largest measured), or in proportion to the one measured (the safe side for costs that
 * grow more slowly than the series count).
 */
export function estimate(measured: PointCost[], series: number, of: (p: PointCost) => number): number | undefined {
  if (measured.length === 0) return undefined;
  const points = measured.map((p) => ({ x: p.series, y: of(p) }));
  const largest = Math.max(...points.map((p) => p.y));
  const fit = points.length > 1 ? fitCurve(points) : undefined;
  if (!fit) {
    const one = points[points.length - 1]!;
    return (one.y * series) / one.x;
  }
  return Math.max(largest, fit.slope * series + fit.intercept);
}

/** Headroom kept free for the machine itself, whatever the estimate says. */
export const MEMORY_HEADROOM_BYTES = 2 * 2 ** 30;

/** Why a point would not fit in the memory available now (one line), or undefined when it would. */
export function wontFit(measured: PointCost[], series: number, availableBytes: number): string | undefined {
  const needed = estimate(measured, series, (p) => p.peakBytes);
  if (needed === undefined) return undefined;
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
  if (needed + MEMORY_HEADROOM_BYTES <= availableBytes) return undefined;
  return `skipped ${series.toLocaleString('en')} series: it would need about ${gib(needed)} (from ${measured.map((p) => `${p.series.toLocaleString('en')}: ${gib(p.peakBytes)}`).join(', ')}), and ${gib(availableBytes)} is available with ${gib(MEMORY_HEADROOM_BYTES)} kept free`;
}

/**
 * "about 12 min left" from the measured points' wall times, or undefined before the first. From one
 * point only a floor: most of a small point's time is fixed (bring-up, history's blocks, waits on
 * the shipper), so scaling it by the series count would promise days.
 */
export function remainingTime(measured: PointCost[], remaining: number[]): string | undefined {
  if (measured.length === 0) return undefined;
  const text = (seconds: number) => (seconds < 90 ? `${Math.round(seconds)} s` : `${Math.round(seconds / 60)} min`);
  if (measured.length === 1) return `at least ${text(measured[0]!.seconds * remaining.length)} left`;
  const seconds = remaining.reduce((sum, n) => sum + estimate(measured, n, (p) => p.seconds)!, 0);
  return `about ${text(seconds)} left`;
}

/** MemAvailable from /proc/meminfo (what the kernel could give without swapping), in bytes. */
export function memAvailable(meminfo: string): number {
  const match = /^MemAvailable:\s+(\d+) kB$/m.exec(meminfo);
  if (!match) throw new Error('/proc/meminfo has no MemAvailable line');
  return Number(match[1]) * 1024;
}
