// Arch 1 served: the state findings A and E assert on, shared by their scenario, the link cut, the
// Query Frontend cache, the benchmark and `up`. History in, blocks shipped and loaded by Store,
// every Query knowing its endpoints with current time ranges, live scrape caught up.
import { queryEndpointCount } from '../plan/index.ts';
import type { Handle, QueryPathHandle } from '../presets/handles.ts';
import { analyseWindow, type RangeAnalysis } from '../promql/analysis.ts';
import { PromApiClient, type MatrixSeries } from '../promql/client.ts';
import { metricValue } from '../promql/metrics.ts';
import { equals, waitForStores, waitSumMetrics } from '../promql/wait-metrics.ts';
import { checkWindow, type WindowCheck } from '../promql/window-check.ts';
import type { BlockMeta } from '../s3/bucket.ts';
import type { RunningTopology } from '../substrates/index.ts';
import { alignDown, alignUp, HOUR_MS } from '../time.ts';
import { populateWorkload, type PopulatedWorkload } from './history.ts';
import { waitForLiveUpTo } from './live.ts';

/** A Query and the Query Frontend in front of it, as clients. */
export interface QueryPath {
  /** The Query's "cluster/name". */
  ref: string;
  query: PromApiClient;
  frontend: PromApiClient;
  /** The components it names as endpoints. */
  dials: string[];
  /** How many StoreAPI endpoints the Query dials. */
  endpoints: number;
}

export function queryPathOf(t: RunningTopology, path: QueryPathHandle): QueryPath {
  return {
    ref: path.query.ref,
    dials: path.query.spec.endpoints,
    query: new PromApiClient(t.url(path.query.ref)),
    frontend: new PromApiClient(t.url(path.frontend.ref)),
    endpoints: queryEndpointCount(t.topology, path.query.ref),
  };
}

/** What prepareArch1 needs of a preset: Arch 1's HA pair, sidecars and Store, and the Queries to bring up to date. */
export interface Arch1Shape {
  prometheus: Handle<'prometheus'>;
  sidecar: Handle<'sidecar'>;
  store: Handle<'store'>;
  prefix: string;
  replicaLabel: string;
  /** Every Query over Store (and the sidecars) whose Stores page must be current before the checks. */
  queries: Handle<'query'>[];
}

/** The HA pair's replicas: instance id and replica label value, from the plan. */
export function replicasOf(t: RunningTopology, prometheus: Handle<'prometheus'>, replicaLabel: string): { id: string; replica: string }[] {
  return prometheus.instances.map((id) => ({ id, replica: t.plan.processes.find((p) => p.id === id)!.externalLabels[replicaLabel]! }));
}

export interface Arch1Run {
  t: RunningTopology;
  workload: PopulatedWorkload;
  blocks: BlockMeta[];
  /** Store's expected view: the bucket's blocks. */
  storeMinTime: number;
  storeMaxTime: number;
  /** The range query of the note: the last 6h, ending 30s ago, on the workload grid. */
  window: { start: number; end: number; step: number };
  replicas: { id: string; replica: string }[];
}

export async function prepareArch1(t: RunningTopology, arch1: Arch1Shape, log: (line: string) => void): Promise<Arch1Run> {
  const workload = await populateWorkload(t, { onProgress: log });
  const replicas = replicasOf(t, arch1.prometheus, arch1.replicaLabel);
  const blocks = await t.bucket.blocks(arch1.prefix);
  if (blocks.length !== replicas.length * workload.blocks.length) {
    throw new Error(`expected ${replicas.length * workload.blocks.length} blocks in the bucket (every replica ships every block it cut), found ${blocks.length}`);
  }
  await waitSumMetrics(arch1.store.ref, t.url(arch1.store.ref), equals(blocks.length), 'thanos_bucket_store_blocks_loaded', { onProgress: log });
  const storeLoadedAt = Date.now();

  // The history is in and retention has run: each Prometheus' lowest timestamp is final. Both got
  // the same samples, so it is the same for both.
  const lowest = new Set<number>();
  for (const { id } of replicas) lowest.add(metricValue(await new PromApiClient(t.url(id)).metrics(), 'prometheus_tsdb_lowest_timestamp_seconds')! * 1000);
  if (lowest.size !== 1) throw new Error(`the observee's Prometheus have different lowest timestamps: ${[...lowest].map((l) => new Date(l).toISOString()).join(', ')}`);
  const sidecars = arch1.sidecar.instances.length;
  await Promise.all(
    arch1.queries.map(async (q) => {
      const client = new PromApiClient(t.url(q.ref));
      // Query refreshes endpoint metadata every few seconds: a check made after Store loaded everything.
      await waitForStores(q.ref, client, { count: queryEndpointCount(t.topology, q.ref), checkedAfter: storeLoadedAt }, { onProgress: log });
      // A sidecar re-reads its Prometheus' lowest timestamp every 30 s (it read the empty TSDB's at start).
      if (q.spec.endpoints.includes(arch1.sidecar.ref)) await waitForStores(q.ref, client, { type: 'sidecar', count: sidecars, minTime: [...lowest][0] }, { onProgress: log });
    }),
  );

  const step = t.workload.workload.stepMs;
  const now = Date.now();
  const window = { start: alignUp(now - 6 * HOUR_MS, step), end: alignDown(now - 30_000, step), step };
  await waitForLiveUpTo(t, workload.prometheus, window.end, log);
  return {
    t,
    workload,
    blocks,
    storeMinTime: Math.min(...blocks.map((b) => b.minTime)),
    storeMaxTime: Math.max(...blocks.map((b) => b.maxTime)),
    window,
    replicas,
  };
}

/** The workload over the run's window through a query path's Query Frontend. */
export async function rangeAnalysis(run: Arch1Run, path: QueryPath, dedup: boolean): Promise<RangeAnalysis> {
  const answer = await path.frontend.queryRange(run.t.workload.workload.metric, { ...run.window, dedup });
  return windowAnalysis(run, answer.result);
}

/**
 * The workload over the run's window through a query path's Query Frontend, at any series count:
 * closed-form aggregates at every step and a seeded sample point by point (promql/window-check.ts).
 * copies: of each series in the answer (1 with dedup, one per replica without).
 */
export async function windowCheck(run: Arch1Run, path: QueryPath, dedup: boolean, seed?: number): Promise<WindowCheck> {
  return checkWindow({
    client: path.frontend,
    workload: run.t.workload.workload,
    window: run.window,
    coveredFromMs: run.workload.historyFromMs,
    dedup,
    copies: dedup ? 1 : run.replicas.length,
    seed,
  });
}

/** An answer over the run's window, every point from the history's first on expected. */
export function windowAnalysis(run: Arch1Run, matrix: MatrixSeries[]): RangeAnalysis {
  return analyseWindow(matrix, run.t.workload.workload, run.window, run.workload.historyFromMs);
}
