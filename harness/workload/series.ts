// The deterministic workload: a few series whose value at every grid timestamp is known in advance,
// so any query answer can be checked sample by sample without storing what was written.
import { durationMs } from '../topology/duration.ts';

export interface Workload {
  metric: string;
  seriesCount: number;
  /** Distance between two samples of a series (the "grid"); timestamps are multiples of it. */
  stepMs: number;
  job: string;
  instance: string;
}

export const DEFAULT_WORKLOAD: Workload = {
  metric: 'e2e_workload_value',
  seriesCount: 10,
  stepMs: 15_000,
  job: 'workload',
  instance: 'workload-exporter',
};

/** The workload a topology runs: the default series on the topology's grid. */
export function workloadOf(topology: { grid: string }): Workload {
  return { ...DEFAULT_WORKLOAD, stepMs: durationMs(topology.grid) };
}

/** Label set of series i, including __name__. Both the backfill and the exporter use exactly this. */
export function seriesLabels(w: Workload, i: number): Record<string, string> {
  return { __name__: w.metric, job: w.job, instance: w.instance, series: String(i) };
}

/** 1e6 seconds ≈ 11.6 days: the period after which a series' values repeat. */
const VALUE_PERIOD_S = 1_000_000;

/**
 * Value of series i at time tMs:  i * 1e6 + (whole seconds since the epoch mod 1e6).
 *
 * - Deterministic and an integer below 2^53, so exact in float64 and in every wire format.
 * - Different at every grid timestamp of a series within 11.6 days, so a sample that is missing
 *   in storage shows up in a range query as a wrong value (the previous one, carried forward by
 *   the lookback), never as a coincidentally right one.
 * - Different between series (series i owns [i*1e6, (i+1)*1e6)), so samples that end up under the
 *   wrong labels are wrong values too. A value can be read back by a human: see describeValue.
 */
export function valueAt(i: number, tMs: number): number {
  const seconds = Math.floor(tMs / 1000);
  return i * VALUE_PERIOD_S + (((seconds % VALUE_PERIOD_S) + VALUE_PERIOD_S) % VALUE_PERIOD_S);
}

/** Reads a workload value back: which series produced it and at which second (mod 1e6 s). */
export function describeValue(v: number): { series: number; secondsMod: number } | undefined {
  if (!Number.isInteger(v) || v < 0) return undefined;
  return { series: Math.floor(v / VALUE_PERIOD_S), secondsMod: v % VALUE_PERIOD_S };
}

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
