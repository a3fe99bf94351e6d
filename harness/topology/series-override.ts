// A run's workload size: `--series N` on run, up and the benchmark (THANOS_HA_E2E_SERIES for a
// vitest run). It gives the topology N series of the cluster shape (workload.shape in model.ts).
// Only scenario files that declare they scale take it (useTopology's `scales`); the others keep
// their own small workload, whose figures the findings were written against.
import { MAX_SERIES, type Topology } from './model.ts';

export const SERIES_VARIABLE = 'THANOS_HA_E2E_SERIES';

/** N from "10000", "10k" or "1M"; one line naming the problem and the fix otherwise. */
export function parseSeries(text: string, where = '--series'): number {
  const match = /^(\d+)([kKmM]?)$/.exec(text.trim());
  const n = match ? Number(match[1]) * { '': 1, k: 1e3, K: 1e3, m: 1e6, M: 1e6 }[match[2]!]! : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_SERIES) {
    throw new Error(`${where} ${text}: give a series count from 1 to ${MAX_SERIES.toLocaleString('en')}, such as 10000, 10k or 1M`);
  }
  return n;
}

/** The series count the environment asks for, if any. */
export function seriesFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const text = env[SERIES_VARIABLE];
  return text === undefined || text === '' ? undefined : parseSeries(text, SERIES_VARIABLE);
}

/** The topology with `series` series of the cluster shape. */
export function withSeries(topology: Topology, series: number): Topology {
  return { ...topology, workload: { ...topology.workload, series, shape: 'cluster' } };
}
