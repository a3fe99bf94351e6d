// One point of the scale sweep (issue 18): the note's cost claims measured on scaleSweep() at one
// series count. Everything here is read from the components' own /metrics, the bucket and timed
// queries; every answer read is checked for completeness and for Thanos' warnings, and a partial
// one is reported as such, never timed as a complete one.
//
// Order, each step on the state the previous left:
//   history (6h10m, as the findings) into the HA pair and, as its remote write would have sent it,
//   into Receive; live until settled                                       -> history timings
//   60 s of live ingest                                                    -> Receive's RSS per series, CPU per 1k samples
//   freshness: a just-scraped slot, until it answers through each path     -> seconds
//   the same query load through each path, A B B A                         -> the observee's CPU and RSS
//   the same 6h aggregate, cold (a new cache key each) and cached, through each frontend -> p50, p95
//   Receive stopped (it uploads its head), the sidecars' blocks shipped    -> bucket bytes per series-hour
//   the Compactor started, one iteration                                   -> the same after vertical deduplication
// Remote-write bytes per sample come from the HA pair's own counters at the end.
import { prepareArch2, type Arch2Run } from '../steps/arch2.ts';
import { compactorMetrics } from '../steps/compactor.ts';
import { blocksCost, measureQueryLoad, type ObserveeCost } from '../steps/trade-offs.ts';
import type { QueryPath } from '../steps/arch1.ts';
import type { BucketCost, Latency, Path, PointFigures } from './figures.ts';
import { PromApiClient } from '../promql/client.ts';
import { metricSum } from '../promql/metrics.ts';
import { greaterOrEqual, waitSumMetrics } from '../promql/wait-metrics.ts';
import type { BlockMeta } from '../s3/bucket.ts';
import type { RunningTopology } from '../substrates/index.ts';
import { OBSERVEE } from '../presets/conventions.ts';
import { SCALE_SWEEP, scaleSweepHandles } from '../presets/scale.ts';
import { waitFor } from '../wait.ts';
import { HOUR_MS } from '../time.ts';
import { RECEIVE_STOP_GRACE_MS } from '../plan/receive.ts';
import { waitForHistoryShipped } from '../steps/history.ts';
import { lingeringAt, seriesLabels, seriesOfPod, slotSelector, workloadSelector, type Workload } from '../workload/series.ts';

/** How much each measurement asks: bounded in count, each request with a timeout (PromApiClient's). */
export interface PointBudget {
  /** Queries of the load per path (two turns each), and how many at once. */
  loadQueries: number;
  loadConcurrency: number;
  /** Timed requests per path, cold and cached each. */
  latencyRequests: number;
  /** Freshness probes per path. */
  freshnessProbes: number;
  /** Live ingest observed for Receive's CPU per sample (several 15 s slots; 0: not observed). */
  ingestWindowMs: number;
}

export const DEFAULT_BUDGET: PointBudget = { loadQueries: 20, loadConcurrency: 2, latencyRequests: 6, freshnessProbes: 3, ingestWindowMs: 60_000 };

/**
 * The sweep's budget at a series count: the query load shrinks above 10k series (each query then
 * reads every series' 6h), and runs one query at a time: at 100k, two at once took the machine to
 * 0.4 GiB available (of 24 GiB) and the sweep stopped the point.
 */
export function budgetFor(series: number): PointBudget {
  return series <= 10_000 ? DEFAULT_BUDGET : { ...DEFAULT_BUDGET, loadQueries: 6, loadConcurrency: 1, latencyRequests: 4 };
}

/**
 * The step of the 6h aggregate that the load and the latency requests ask (73 points a series).
 * The Store API reads every raw sample of the 6h whatever the step; the step sizes only the
 * engine's matrix. At 100k series, Query held 8.0 GiB for a latency request at the 15 s grid step
 * and 6.0 GiB at 5 min: most of it was the seven 1h parts the frontend sent at once (see
 * presets/scale.ts), not the step. One step at every point keeps the curves one query.
 */
const QUERY_STEP_MS = 5 * 60_000;

/** One request of the sweep (Query's own --query.timeout is 2m). */
const QUERY_TIMEOUT_MS = 180_000;

export const PATHS: Path[] = ['viaSidecar', 'viaReceive'];

const seconds = (ms: number) => +(ms / 1000).toFixed(3);

/** How many workload series each namespace holds: what `count by (namespace)` answers at every step (without churn). */
function namespacesOf(w: Workload): Map<string, number> {
  const counts = new Map<string, number>();
  // A pod's namespace is the same in every generation.
  for (let i = 0; i < w.seriesCount; i++) {
    const ns = seriesLabels(w, i, w.churn ? 0 : undefined).namespace ?? '';
    counts.set(ns, (counts.get(ns) ?? 0) + 1);
  }
  return counts;
}

/**
 * What `count by (namespace)` answers at tMs: every namespace's series, and under churn the ended
 * generations still within the 5 min lookback besides (workload/series.ts lingeringAt), of a
 * history written from writtenFromMs.
 */
export function namespaceCountsAt(w: Workload, tMs: number, writtenFromMs: number, base: Map<string, number> = namespacesOf(w)): Map<string, number> {
  const lingering = lingeringAt(w, tMs, 5 * 60_000, writtenFromMs);
  if (lingering.length === 0) return base;
  const counts = new Map(base);
  for (const { pod } of lingering) {
    const ns = seriesLabels(w, seriesOfPod(w, pod)[0]!, 0).namespace ?? '';
    counts.set(ns, (counts.get(ns) ?? 0) + seriesOfPod(w, pod).length);
  }
  return counts;
}

/**
 * `count by (namespace)` of every workload series over a range, as the load and the latency
 * queries ask it: exact at every step once the history covers the range (a sample within the
 * lookback counts). `variant` changes the cache key and nothing else (a matcher no series has).
 */
export function aggregateQuery(w: Workload, variant?: number): string {
  const selector = workloadSelector(w);
  const matcher = variant === undefined ? '' : `,pod!="cold-${variant}"`;
  return `count by (namespace) (${selector.replace(/\}$/, `${matcher}}`)})`;
}

/**
 * undefined when the answer is every namespace's exact count at every step of the range; else what
 * is wrong. expected: the counts, the same at every step, or per step (under churn: namespaceCountsAt).
 */
export function incompleteAggregate(
  answer: { result: { metric: Record<string, string>; samples: { t: number; v: number }[] }[]; warnings: string[] },
  expected: Map<string, number> | ((tMs: number) => Map<string, number>),
  steps: number,
): string | undefined {
  if (answer.warnings.length) return `warnings: ${[...new Set(answer.warnings)].join('; ')}`;
  const at = typeof expected === 'function' ? expected : () => expected;
  const problems: string[] = [];
  for (const ns of at(0).keys()) {
    const series = answer.result.find((s) => (s.metric.namespace ?? '') === ns);
    const right = series?.samples.filter((s) => s.v === at(s.t).get(ns)).length ?? 0;
    if (right !== steps) problems.push(`namespace ${ns || '(none)'}: ${right} of ${steps} steps with its ${at(0).get(ns)} series${typeof expected === 'function' ? ' (and the ended pods within the lookback)' : ''}`);
  }
  if (answer.result.length !== at(0).size) problems.push(`${answer.result.length} namespaces answered, ${at(0).size} expected`);
  return problems.length ? problems.join('; ') : undefined;
}

async function metricsOf(t: RunningTopology, id: string): Promise<string> {
  const response = await fetch(`${t.url(id)}/metrics`, { signal: AbortSignal.timeout(10_000) });
  return response.text();
}

function bucketCostOf(bytes: number, blocks: BlockMeta[], series: number): BucketCost {
  const hours = blocks.length ? (Math.max(...blocks.map((b) => b.maxTime)) - Math.min(...blocks.map((b) => b.minTime))) / HOUR_MS : 0;
  return { bytes, blocks: blocks.length, hours: +hours.toFixed(3), bytesPerSeriesHour: hours > 0 ? +(bytes / series / hours).toFixed(2) : 0 };
}

/** Receive's resident memory per head series, and CPU per 1k samples over a window of live ingest. */
async function receiveIngest(t: RunningTopology, windowMs: number, log: (l: string) => void): Promise<PointFigures['receive']> {
  const read = async () => {
    const text = await metricsOf(t, SCALE_SWEEP.receive);
    const sum = (name: string) => metricSum(text, name) ?? 0;
    return { at: Date.now(), cpu: sum('process_cpu_seconds_total'), samples: sum('prometheus_tsdb_head_samples_appended_total'), rss: sum('process_resident_memory_bytes'), series: sum('prometheus_tsdb_head_series') };
  };
  const before = await read();
  log(`  observing Receive's live ingest for ${windowMs / 1000}s`);
  // A fixed window of the live workload: the measurement itself, not a wait for a value.
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  const after = await read();
  const samples = after.samples - before.samples;
  return {
    rssBytes: after.rss,
    headSeries: after.series,
    rssBytesPerSeries: after.series > 0 ? Math.round(after.rss / after.series) : 0,
    samplesPerSecond: +(samples / ((after.at - before.at) / 1000)).toFixed(1),
    cpuSecondsPer1kSamples: samples > 0 ? +(((after.cpu - before.cpu) / samples) * 1000).toFixed(5) : 0,
  };
}

/**
 * How long after its scrape a sample answers through a path: wait for the exporter to serve the
 * first Prometheus a new slot (its own record of the scrape), then ask the path for that series'
 * newest timestamp until it reaches the slot. Without dedup: merged, the answer may follow the
 * other replica, which scrapes at its own moment, and measure that instead. The polling is the
 * measurement (bounded: 60 s).
 */
async function freshness(run: Arch2Run, frontend: PromApiClient, probes: number): Promise<number[]> {
  const exporter = run.t.workload;
  const w = exporter.workload;
  const scraper = run.prometheus[0]!;
  // Every generation of series 0 under churn (the newest answers the newest timestamp).
  const probe = `timestamp(${slotSelector(w, 0)})`;
  const figures: number[] = [];
  for (let k = 0; k < probes; k++) {
    await exporter.sync();
    const previous = exporter.servedUpTo(scraper) ?? 0;
    const { slot, servedAt } = await waitFor(
      `${scraper} to scrape a new workload slot`,
      async () => {
        await exporter.sync();
        const slot = exporter.servedUpTo(scraper);
        return slot !== undefined && slot > previous ? { slot, servedAt: Date.now() } : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 50 },
    );
    const answeredAt = await waitFor(
      `slot ${new Date(slot).toISOString()} to answer through ${frontend.baseUrl}`,
      async () => {
        // At the slot's own time: after a long history the live scrape lags the clock (the exporter
        // serves each scraper one slot per scrape from the history's end), by more than the lookback
        // at 100k series, so a query at "now" would find no sample at all.
        const answer = await frontend.query(probe, { dedup: false, time: slot });
        const newest = answer.resultType === 'vector' ? Math.max(...answer.result.map((s) => s.v)) * 1000 : -Infinity;
        return newest >= slot ? Date.now() : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    figures.push(seconds(answeredAt - servedAt));
  }
  return figures;
}

/** A 6h range query of the aggregate through a path's frontend: `requests` cold (each a new cache key), then as many cached. */
async function latency(
  path: QueryPath,
  w: Workload,
  range: { start: number; end: number; step: number },
  requests: number,
  label: string,
  partial: string[],
  writtenFromMs: number,
): Promise<Latency> {
  const base = namespacesOf(w);
  const expected = (tMs: number) => namespaceCountsAt(w, tMs, writtenFromMs, base);
  const steps = (range.end - range.start) / range.step + 1;
  const timed = async (expr: string, what: string): Promise<number | undefined> => {
    const started = performance.now();
    const answer = await path.frontend.queryRange(expr, { ...range, dedup: true });
    const ms = performance.now() - started;
    const wrong = incompleteAggregate(answer, expected, steps);
    if (wrong) {
      partial.push(`${label} ${what}: ${wrong}`);
      return undefined;
    }
    return +ms.toFixed(1);
  };
  const coldMs: number[] = [];
  const cachedMs: number[] = [];
  // Variants from a fixed base per path, so that the other path's cache does not serve them.
  const first = label === 'viaSidecar' ? 0 : 1_000;
  for (let k = 0; k < requests; k++) {
    const ms = await timed(aggregateQuery(w, first + k), 'cold');
    if (ms !== undefined) coldMs.push(ms);
  }
  const expr = aggregateQuery(w, first + requests); // cached from its first answer on
  await timed(expr, 'warm-up');
  for (let k = 0; k < requests; k++) {
    const ms = await timed(expr, 'cached');
    if (ms !== undefined) cachedMs.push(ms);
  }
  return { coldMs, cachedMs };
}

/** Takes every figure of one point; the topology is scaleSweep() with the point's series count. */
export async function measurePoint(t: RunningTopology, log: (l: string) => void, budget: PointBudget = DEFAULT_BUDGET): Promise<PointFigures> {
  const w = t.workload.workload;
  const partial: string[] = [];
  await t.stop(SCALE_SWEEP.compactor); // until every block is in (see presets/scale.ts)

  const historyStarted = Date.now();
  const run = await prepareArch2(t, scaleSweepHandles(t.topology), log);
  const historySeconds = seconds(Date.now() - historyStarted);
  // Each Prometheus of the pair got the history, and Receive one copy per replica.
  const historySamples = w.seriesCount * run.prometheus.length * 2 * ((run.history.historyToMs - run.history.historyFromMs) / w.stepMs + 1);
  log(`  [${w.seriesCount} series] history written and live in ${historySeconds}s`);

  let receive: PointFigures['receive'] = { rssBytes: 0, headSeries: 0, rssBytesPerSeries: 0, samplesPerSecond: 0, cpuSecondsPer1kSamples: 0 };
  if (budget.ingestWindowMs > 0) {
    receive = await receiveIngest(t, budget.ingestWindowMs, log);
    log(`  [${w.seriesCount} series] Receive: ${receive.headSeries} head series, ${Math.round(receive.rssBytes / 2 ** 20)} MiB RSS, ${receive.samplesPerSecond} samples/s`);
  }

  // At 100k series one 6h query over every series takes tens of seconds: longer than a test's 30 s.
  const patient = (path: QueryPath): QueryPath => ({
    ...path,
    query: new PromApiClient(path.query.baseUrl, { timeoutMs: QUERY_TIMEOUT_MS }),
    frontend: new PromApiClient(path.frontend.baseUrl, { timeoutMs: QUERY_TIMEOUT_MS }),
  });
  const paths = { viaSidecar: patient(run.paths.viaSidecar), viaReceive: patient(run.paths.viaReceive) };
  const fresh = { viaSidecar: [] as number[], viaReceive: [] as number[] };
  for (const p of PATHS) fresh[p] = await freshness(run, paths[p].frontend, budget.freshnessProbes);
  if (budget.freshnessProbes) log(`  [${w.seriesCount} series] freshness: via Sidecar ${fresh.viaSidecar.join(', ')}s, via Receive ${fresh.viaReceive.join(', ')}s`);

  // Once shipped, no cut or upload of the history is in flight to weigh on one turn of the load.
  await waitForHistoryShipped(t, run.history, log);
  const now = run.settledMs;
  const range = { start: now - 6 * HOUR_MS, end: now, step: QUERY_STEP_MS };
  const load = { expr: aggregateQuery(w), range: { ...range, dedup: true }, count: budget.loadQueries, concurrency: budget.loadConcurrency };
  const observee = await measureQueryLoad(run.prometheus.map((id) => t.url(id)), paths, load);
  for (const p of PATHS) {
    const cost = observee[p];
    if (cost.warnings.length || cost.seriesPerAnswer.some((n) => n !== namespacesOf(w).size)) {
      partial.push(`${p} query load: ${cost.warnings.length} warnings, series per answer ${cost.seriesPerAnswer.join('/')} (expected ${namespacesOf(w).size})`);
    }
  }
  log(`  [${w.seriesCount} series] observee CPU under the query load: via Sidecar ${observee.viaSidecar.cpuSeconds}s, via Receive ${observee.viaReceive.cpuSeconds}s`);

  const lat = { viaSidecar: { coldMs: [], cachedMs: [] } as Latency, viaReceive: { coldMs: [], cachedMs: [] } as Latency };
  if (budget.latencyRequests) for (const p of PATHS) lat[p] = await latency(paths[p], w, range, budget.latencyRequests, p, partial, run.history.historyFromMs);

  const rwTexts = await Promise.all(run.prometheus.map((id) => metricsOf(t, id)));
  const rwBytes = rwTexts.reduce((n, text) => n + (metricSum(text, 'prometheus_remote_storage_bytes_total') ?? 0), 0);
  const rwSamples = rwTexts.reduce((n, text) => n + (metricSum(text, 'prometheus_remote_storage_samples_total') ?? 0), 0);

  // Nothing below reads the pair, the sidecars, Store or the query paths: stopped first, their
  // memory is free for Receive's cut of its whole head into a block (at 100k series the point
  // peaked at 19 GB of 25 GB before that cut, and the cut's own share is not known).
  const h = scaleSweepHandles(t.topology);
  const readers = [h.paths.viaSidecar, h.paths.viaReceive].flatMap((p) => [...p.frontend.instances, ...p.query.instances]);
  for (const id of [...readers, ...h.store.instances, ...h.sidecar.instances, ...h.prometheus.instances]) await t.stop(id);
  // Receive uploads its head as a block when it stops (its own 2h cut may not have come yet).
  const stopping = Date.now();
  await t.stop(SCALE_SWEEP.receive);
  const stopSeconds = ((Date.now() - stopping) / 1000).toFixed(1);
  log(`  [${w.seriesCount} series] ${SCALE_SWEEP.receive} stopped in ${stopSeconds} s (its head cut into blocks and uploaded)`);
  const shipped = await t.bucket.blocks(OBSERVEE);
  const bySource = (blocks: BlockMeta[], source: string) => blocks.filter((b) => b.thanos.source === source);
  const cost = async (blocks: BlockMeta[]) => bucketCostOf((await blocksCost(t.bucket, OBSERVEE, blocks)).bytes, blocks, w.seriesCount);
  const sidecar = await cost(bySource(shipped, 'sidecar'));
  // No block would read as 0 bytes per series-hour: a figure never measured (at 100k series a stop
  // that SIGKILLed Receive 5 s into its upload did exactly that).
  if (bySource(shipped, 'receive').length === 0)
    throw new Error(`${SCALE_SWEEP.receive} stopped (in ${stopSeconds} s; SIGKILL comes after ${RECEIVE_STOP_GRACE_MS / 1000} s) without uploading a block of its head: Arch 3's bucket bytes cannot be measured (its log is kept with the sweep's report)`);
  const receiveBlocks = await cost(bySource(shipped, 'receive'));

  await t.start(SCALE_SWEEP.compactor);
  await waitSumMetrics(SCALE_SWEEP.compactor, t.url(SCALE_SWEEP.compactor), greaterOrEqual(1), 'thanos_compact_iterations_total', { onProgress: log, timeoutMs: 600_000 });
  const metrics = await compactorMetrics(t, SCALE_SWEEP.compactor);
  const compacted = (await t.bucket.blocks(OBSERVEE)).filter((b) => b.thanos.source !== 'receive');
  const sidecarCompacted = await cost(compacted);
  log(`  [${w.seriesCount} series] bucket: sidecars ${sidecar.bytesPerSeriesHour} B/series-hour (${sidecarCompacted.bytesPerSeriesHour} after the Compactor), Receive ${receiveBlocks.bytesPerSeriesHour}`);

  return {
    series: w.seriesCount,
    history: { samples: historySamples, seconds: historySeconds },
    bucket: { sidecar, receive: receiveBlocks, sidecarCompacted, compactorHalted: metrics.halted > 0 },
    remoteWrite: { bytes: rwBytes, samples: rwSamples, bytesPerSample: rwSamples > 0 ? +(rwBytes / rwSamples).toFixed(3) : 0 },
    observee,
    receive,
    latency: lat,
    freshness: fresh,
    partial,
  };
}
