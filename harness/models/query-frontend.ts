// The Thanos Query Frontend (v0.42.4 pkg/queryfrontend): how it splits a range or labels request
// into sub-requests, and which of them it looks up in its results cache.

/** A range query's start, end and step (ms). */
export interface RangeWindow {
  start: number;
  end: number;
  step: number;
}

/**
 * The sub-requests a Thanos Query Frontend makes of a range query (pkg/queryfrontend
 * split_by_interval.go): cut before each multiple of splitMs, each part on the query's steps.
 */
export function rangeSplits(window: RangeWindow, splitMs: number): { start: number; end: number }[] {
  const { start: from, end: to, step } = window;
  if (from === to) return [{ start: from, end: to }];
  const nextBoundary = (t: number) => {
    const next = (Math.floor(t / splitMs) + 1) * splitMs;
    const target = next - ((next - t) % step);
    return target === next ? target - step : target;
  };
  const splits: { start: number; end: number }[] = [];
  for (let start = from; start < to; start = nextBoundary(start) + step) {
    const boundary = nextBoundary(start);
    splits.push({ start, end: boundary + step >= to ? to : boundary });
  }
  return splits;
}

/**
 * How many of a range query's splits a frontend looks up in its cache when asked at atMs: it
 * passes a split that starts within its freshness window straight to the Query (results_cache.go).
 */
export function cacheableSplits(window: RangeWindow, frontend: { splitMs: number; maxFreshnessMs: number }, atMs: number): number {
  return rangeSplits(window, frontend.splitMs).filter((s) => s.start <= atMs - frontend.maxFreshnessMs).length;
}

/** The sub-requests of a labels request: consecutive pieces of splitMs from its start. */
export function labelsSplits(window: { start: number; end: number }, splitMs: number): number {
  return Math.max(1, Math.ceil((window.end - window.start) / splitMs));
}
