// A run's workload size: `--series N` on run, up and the benchmark (THANOS_HA_E2E_SERIES for a
// vitest run). It gives the topology N series of the cluster shape (workload.shape in model.ts).
// `--churn <fraction>/<period>` beside it (THANOS_HA_E2E_CHURN) replaces that share of the pods
// every period (workload/series.ts); off by default.
// Only scenario files that declare they scale take it (useTopology's `scales`); the others keep
// their own small workload, whose figures the findings were written against.
import { durationMs } from '../time.ts';
import { MAX_SERIES, type Topology } from './model.ts';

export const SERIES_VARIABLE = 'THANOS_HA_E2E_SERIES';
export const CHURN_VARIABLE = 'THANOS_HA_E2E_CHURN';

export interface ChurnOption {
  /** Share of the pods replaced every period, in (0, 1]. */
  fraction: number;
  /** A Prometheus duration in whole seconds, minutes or hours ("10m"). */
  period: string;
}

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

/** "10%/10m" or "0.1/10m" -> { fraction: 0.1, period: '10m' }; one line naming the problem and the fix otherwise. */
export function parseChurn(text: string, where = '--churn'): ChurnOption {
  const fix = 'give the share of pods replaced and how often, such as 10%/10m or 0.25/1h (a share above 0 and at most 100%, a period in whole s, m or h)';
  const match = /^\s*(\d+(?:\.\d+)?)(%?)\s*\/\s*([1-9]\d*[smh])\s*$/.exec(text);
  if (!match) throw new Error(`${where} ${text}: ${fix}`);
  const fraction = Number(match[1]) / (match[2] ? 100 : 1);
  if (!(fraction > 0 && fraction <= 1)) throw new Error(`${where} ${text}: the share ${match[1]}${match[2]} is not above 0 and at most ${match[2] ? '100%' : '1'}; ${fix}`);
  return { fraction, period: match[3]! };
}

/** The churn the environment asks for, if any. */
export function churnFromEnv(env: NodeJS.ProcessEnv = process.env): ChurnOption | undefined {
  const text = env[CHURN_VARIABLE];
  return text === undefined || text === '' ? undefined : parseChurn(text, CHURN_VARIABLE);
}

/** "10%/10m": how a report or a log line names the churn. */
export function churnText(churn: ChurnOption): string {
  return `${+(churn.fraction * 100).toFixed(4)}%/${churn.period}`;
}

/** The topology with `series` series of the cluster shape (and churn, when given). */
export function withSeries(topology: Topology, series: number, churn?: ChurnOption): Topology {
  if (churn && durationMs(churn.period) % durationMs(topology.grid) !== 0) {
    throw new Error(`--churn ${churnText(churn)}: ${topology.name} samples every ${topology.grid}, and the period must be a multiple of it, such as 10m or 1h`);
  }
  return { ...topology, workload: { ...topology.workload, series, shape: 'cluster', ...(churn ? { churn } : {}) } };
}
