// Time, as every layer counts it: Prometheus durations ("15s", "2h", "1h30m") as milliseconds,
// and the workload grid (timestamps on multiples of a step).
const UNIT_MS: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 };

export function durationMs(d: string): number {
  let total = 0;
  for (const [, n, u] of d.matchAll(/(\d+)(ms|s|m|h|d)/g)) total += Number(n) * UNIT_MS[u!]!;
  return total;
}

export const HOUR_MS = 3_600_000;

/** A timestamp as the reports and messages write it (RFC 3339, milliseconds). */
export const iso = (ms: number): string => new Date(ms).toISOString();

/** Largest multiple of stepMs that is <= tMs. */
export function alignDown(tMs: number, stepMs: number): number {
  return Math.floor(tMs / stepMs) * stepMs;
}

/** Smallest multiple of stepMs that is >= tMs. */
export function alignUp(tMs: number, stepMs: number): number {
  return Math.ceil(tMs / stepMs) * stepMs;
}

/** Grid timestamps in [startMs, endMs], both ends included when on the grid. */
export function gridPoints(startMs: number, endMs: number, stepMs: number): number[] {
  const points: number[] = [];
  for (let t = alignUp(startMs, stepMs); t <= endMs; t += stepMs) points.push(t);
  return points;
}
