// `npm run bench -- --scale [--series 1k,10k,100k,1M]`: the note's trade-offs as cost curves
// (issue 18). One scaleSweep() topology per series count, brought up, measured (measure.ts) and torn
// down before the next. Before a point, its memory need is estimated from the points measured so far
// and the point is skipped, with one line, if it would not fit; while it runs, the machine's
// available memory is watched and the point is stopped before the kernel's OOM killer would act.
// Writes reports/scale-<id>/ (results.json, index.html) and points reports/scale-latest at it.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { effectiveVersionNames, pointLink, runIdOf } from '../report/run-report.ts';
import { REPORTS_DIR } from '../report/paths.ts';
import { currentSubstrate, type RunningTopology } from '../substrates/index.ts';
import { scaleSweep } from '../presets/scale.ts';
import { churnText, withSeries, type ChurnOption } from '../topology/series-override.ts';
import { metricSum } from '../promql/metrics.ts';
import { budgetFor, measurePoint, type PointBudget } from './measure.ts';
import { memAvailable, remainingTime, wontFit, type PointCost } from './plan.ts';
import { renderSweepHtml, type PointResult, type SweepResults } from './report.ts';

/** A point is stopped when the machine has less than this available: well before the OOM killer. */
export const MEMORY_FLOOR_BYTES = 1 * 2 ** 30;
const SAMPLE_EVERY_MS = 2_000;

const readAvailable = () => memAvailable(readFileSync('/proc/meminfo', 'utf8'));

/** Every component's own resident memory (process_resident_memory_bytes) and this process's, in bytes by name. */
async function residentBytes(t: RunningTopology): Promise<Record<string, number>> {
  const each = await Promise.all(
    t.plan.processes.map(async (p): Promise<[string, number]> => {
      try {
        const response = await fetch(`${t.url(p.id)}/metrics`, { signal: AbortSignal.timeout(5_000) });
        return [p.id, metricSum(await response.text(), 'process_resident_memory_bytes') ?? 0];
      } catch {
        return [p.id, 0]; // stopped on purpose (Receive, and the Compactor before its turn): it holds nothing
      }
    }),
  );
  return Object.fromEntries([...each, ['the sweep itself', process.memoryUsage().rss]]);
}

const totalOf = (byProcess: Record<string, number>) => Object.values(byProcess).reduce((a, b) => a + b, 0);

/** "observer/query-store-and-sidecar 9.1 GiB, observee/prometheus-0 3.2 GiB, ...": the largest first. */
export function largestHolders(byProcess: Record<string, number>, n = 3): string {
  return Object.entries(byProcess)
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([id, bytes]) => `${id} ${(bytes / 2 ** 30).toFixed(1)} GiB`)
    .join(', ');
}

export interface SweepOptions {
  points: number[];
  /** Run every point, watched, even where the estimate says it will not fit (the estimate is still logged). */
  force?: boolean;
  /** A sweep to add these points to (its id, results.json and page), e.g. one stopped half-way or skipped by its estimate. */
  resume?: SweepResults;
  budget?: PointBudget;
  /** The workload's churn at every point (--churn); a resumed sweep keeps the churn it ran with. */
  churn?: ChurnOption;
  onProgress?: (line: string) => void;
  reportsDir?: string;
}

export async function runSweep(opts: SweepOptions): Promise<{ dir: string; results: SweepResults }> {
  const log = opts.onProgress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const started = new Date();
  const substrate = currentSubstrate();
  const results: SweepResults = opts.resume ?? {
    id: runIdOf(started),
    startedAt: started.toISOString(),
    finishedAt: '',
    substrate: substrate.name,
    machine: { cores: cpus().length, memoryBytes: totalmem(), cpu: cpus()[0]?.model ?? 'unknown' },
    versions: effectiveVersionNames(),
    ...(opts.churn ? { churn: churnText(opts.churn) } : {}),
    points: [],
  };
  // One sweep is one workload: its curves would mix two otherwise.
  const asked = opts.churn ? churnText(opts.churn) : undefined;
  if (opts.resume && opts.resume.churn !== asked) {
    throw new Error(`--resume ${opts.resume.id}: that sweep ran ${opts.resume.churn ? `with --churn ${opts.resume.churn}` : 'without churn'}; resume it ${opts.resume.churn ? `with --churn ${opts.resume.churn}` : 'without --churn'}, or start a new sweep`);
  }
  const costs: PointCost[] = results.points.flatMap((p) => (p.status === 'measured' && p.peakBytes && p.seconds ? [{ series: p.series, peakBytes: p.peakBytes, seconds: p.seconds }] : []));
  // A point measured again replaces what the resumed sweep said of it.
  results.points = results.points.filter((p) => !opts.points.includes(p.series));
  const reports = opts.reportsDir ?? REPORTS_DIR;
  const dir = join(reports, `scale-${results.id}`);
  // Written after every point: a sweep stopped half-way (Ctrl-C, a lost machine) keeps what it measured.
  const save = () => {
    results.finishedAt = new Date().toISOString();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'results.json'), JSON.stringify(results, null, 2));
    writeFileSync(join(dir, 'index.html'), renderSweepHtml(results));
    pointLink(reports, 'scale-latest', `scale-${results.id}`);
  };
  // Ctrl-C tears the running point down (substrates/teardown.ts); no further point may start after it.
  let signalled: string | undefined;
  const onSignal = (signal: string) => (signalled = signal);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  for (const [k, series] of opts.points.entries()) {
    if (signalled) break;
    const n = series.toLocaleString('en');
    const skip = wontFit(costs, series, readAvailable());
    if (skip && opts.force) log(`${skip.replace(/^skipped/, 'running')}: --force, watched`);
    else if (skip) {
      log(skip);
      results.points.push({ series, status: 'skipped', reason: skip });
      save();
      continue;
    }
    const left = remainingTime(costs, opts.points.slice(k));
    log(`[scale ${k + 1}/${opts.points.length}] ${n} series${left ? ` (${left})` : ''}`);
    const pointStarted = Date.now();
    let peak = 0;
    let lowMemory: string | undefined;
    let t: RunningTopology | undefined;
    // The latest reading per process: what held the memory, when the point has to be stopped.
    let latest: Record<string, number> = {};
    const watch = setInterval(() => {
      const available = readAvailable();
      if (available < MEMORY_FLOOR_BYTES && !lowMemory) {
        lowMemory =
          `stopped at ${n} series: the machine had ${(available / 2 ** 30).toFixed(1)} GiB available (the floor is ${MEMORY_FLOOR_BYTES / 2 ** 30} GiB), ` +
          `before the OOM killer would end the run; the largest: ${largestHolders(latest)}`;
        log(lowMemory);
        void t?.close(); // every wait of the point then fails, and the point with it
      }
      if (t) {
        void residentBytes(t).then((byProcess) => {
          latest = byProcess;
          peak = Math.max(peak, totalOf(byProcess));
        });
      }
    }, SAMPLE_EVERY_MS);
    try {
      t = await substrate.up(withSeries(scaleSweep(), series, opts.churn), { onProgress: log });
      const figures = await measurePoint(t, log, opts.budget ?? budgetFor(series));
      peak = Math.max(peak, totalOf(await residentBytes(t)));
      const seconds = (Date.now() - pointStarted) / 1000;
      results.points.push({ series, status: 'measured', peakBytes: peak, seconds, figures });
      costs.push({ series, peakBytes: peak, seconds });
      log(`[scale ${k + 1}/${opts.points.length}] ${n} series measured in ${seconds.toFixed(0)} s, peak memory ${(peak / 2 ** 30).toFixed(2)} GiB`);
    } catch (err) {
      const reason = lowMemory ?? (signalled ? `stopped at ${n} series by ${signalled}` : `failed at ${n} series: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
      if (reason !== lowMemory) log(reason); // the watch said it already
      // What the components said is what tells why a point failed: kept with the report.
      if (t) {
        const logs = join(dir, `logs-${series}`);
        const kept = await t.collectLogs(logs).catch((e: unknown) => (log(`could not keep the logs: ${e instanceof Error ? e.message : String(e)}`), []));
        if (kept.length) log(`the logs of the failed point: ${logs} (${kept.length} files)`);
      }
      results.points.push({ series, status: 'failed', reason, peakBytes: peak, seconds: (Date.now() - pointStarted) / 1000 });
    } finally {
      clearInterval(watch);
      await t?.close();
    }
    save();
  }
  results.points.sort((a, b) => a.series - b.series);
  save();
  return { dir, results };
}
