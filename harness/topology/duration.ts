// Prometheus durations ("15s", "2h", "1h30m") as milliseconds: one parser for every caller.
const UNIT_MS: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 };

export function durationMs(d: string): number {
  let total = 0;
  for (const [, n, u] of d.matchAll(/(\d+)(ms|s|m|h|d)/g)) total += Number(n) * UNIT_MS[u!]!;
  return total;
}
