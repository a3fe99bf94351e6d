// `thanos-ha-e2e audit --query URL [--frontend URL] [options]`: the options, the audit (ask, then
// judge), and its files. Exit 0 clean, 1 a finding was seen, 2 bad input or an unreachable endpoint
// (one line, nothing written).
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { durationMs } from '../time.ts';
import { exitCodeOf, judge, resultLines } from './checks.ts';
import { BadInput, gather, MAX_TRIES, type GatherOptions } from './gather.ts';
import { writeAuditReport, type AuditRun } from './report.ts';

export const AUDIT_USAGE = `usage: thanos-ha-e2e audit --query URL [--frontend URL] [options]

Read-only checks of a running Thanos Query (and its Query Frontend), one per finding; only GET
requests, at most 9 + tries, each with a timeout.

  --query URL        Thanos Query's HTTP address (required)
  --frontend URL     its Query Frontend's HTTP address (checks B through it, and its results cache)
  --probe SELECTOR   the series the checks query (default up; a series whose values change is best for D)
  --range D          how far back data should be there: the retention you expect to query (default 6h)
  --step D           range query step (default 30s)
  --tries K          identical requests of check B (default 20, at most ${MAX_TRIES})
  --ago D            how far back the tries' fixed time lies, where ingestion has settled (default 1m)
  --timeout D        per request (default 30s)
  --cache-wait D     between the two requests of the cache check (default 30s, at most 5m)
  --out DIR          where audit.json and index.html go (default reports/audit-<time>)`;

export interface AuditOptions extends Omit<GatherOptions, 'onProgress' | 'now' | 'afterFirstCacheAsk'> {
  out: string | undefined;
}

const MAX_POINTS = 11_000;

function duration(flag: string, value: string, maxMs?: number): number {
  if (!/^(\d+(ms|s|m|h|d))+$/.test(value)) throw new BadInput(`${flag} ${value}: not a duration; give e.g. 30s, 5m, 6h`);
  const ms = durationMs(value);
  if (!(ms > 0)) throw new BadInput(`${flag} ${value}: must be longer than 0`);
  if (maxMs !== undefined && ms > maxMs) throw new BadInput(`${flag} ${value}: at most ${maxMs / 1000}s`);
  return ms;
}

/** The command line's options, or BadInput naming the problem. */
export function parseAuditArgs(argv: string[]): AuditOptions {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        query: { type: 'string' },
        frontend: { type: 'string' },
        probe: { type: 'string' },
        range: { type: 'string' },
        step: { type: 'string' },
        tries: { type: 'string' },
        ago: { type: 'string' },
        timeout: { type: 'string' },
        'cache-wait': { type: 'string' },
        out: { type: 'string' },
      },
    }) as { values: Record<string, string | undefined> });
  } catch (err) {
    throw new BadInput(`${(err as Error).message.split('\n')[0]}; see thanos-ha-e2e audit --help`);
  }
  if (!values.query) throw new BadInput('audit needs --query URL: Thanos Query\'s HTTP address, e.g. --query http://thanos-query:9090');
  const tries = values.tries === undefined ? 20 : Number(values.tries);
  if (!Number.isInteger(tries) || tries < 2 || tries > MAX_TRIES) throw new BadInput(`--tries ${values.tries}: give a whole number from 2 to ${MAX_TRIES}`);
  const probe = values.probe ?? 'up';
  if (probe.trim() === '') throw new BadInput('--probe is empty: give a series selector, e.g. up');
  const rangeMs = duration('--range', values.range ?? '6h');
  const stepMs = duration('--step', values.step ?? '30s');
  // Prometheus' (and Thanos') limit on a range query's points per series.
  if (rangeMs / stepMs > MAX_POINTS) throw new BadInput(`--range ${values.range ?? '6h'} at --step ${values.step ?? '30s'} asks ${Math.floor(rangeMs / stepMs)} points per series, more than the ${MAX_POINTS} Query answers: raise --step`);
  return {
    query: values.query,
    frontend: values.frontend,
    probe,
    rangeMs,
    stepMs,
    tries,
    agoMs: duration('--ago', values.ago ?? '1m', rangeMs),
    timeoutMs: duration('--timeout', values.timeout ?? '30s'),
    cacheWaitMs: values['cache-wait'] === undefined ? 30_000 : duration('--cache-wait', values['cache-wait'], 300_000),
    out: values.out,
  };
}

const text = (ms: number) => (ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`);

export interface AuditOutcome {
  run: AuditRun;
  lines: string[];
  report: { dir: string; index: string; json: string };
}

/** Asks, judges, writes the files. BadInput (before anything is written) on bad input or an unreachable endpoint. */
export async function runAudit(o: AuditOptions, hooks: Pick<GatherOptions, 'onProgress' | 'now' | 'afterFirstCacheAsk'> = {}, reportsDir = 'reports'): Promise<AuditOutcome> {
  const started = new Date();
  const { inputs, requests } = await gather({ ...o, ...hooks });
  const results = judge(inputs);
  const run: AuditRun = {
    query: o.query,
    frontend: o.frontend,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    requests,
    options: { probe: o.probe, range: text(o.rangeMs), step: text(o.stepMs), tries: o.tries, ago: text(o.agoMs), timeout: text(o.timeoutMs) },
    results,
    exitCode: exitCodeOf(results),
  };
  const dir = o.out ?? join(reportsDir, `audit-${started.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-')}`);
  const report = writeAuditReport(dir, run);
  return { run, lines: resultLines(results), report };
}
