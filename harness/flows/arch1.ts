// Getting an Arch 1 topology into the state finding A's assertions need; shared by the
// scenario and the benchmark so both measure the same thing.
import { PROMETHEUS_REPLICA_LABEL } from '../plan/context.ts';
import { queryEndpointCount } from '../plan/index.ts';
import { PromApiClient, type MatrixSeries } from '../promql/client.ts';
import { analyseWindow, type RangeAnalysis } from '../promql/analysis.ts';
import { checkWindow, type WindowCheck } from '../promql/window-check.ts';
import { metricValue } from '../promql/metrics.ts';
import { equals, waitForStores, waitSumMetrics } from '../promql/wait-metrics.ts';
import type { BlockMeta } from '../s3/bucket.ts';
import type { RunningTopology } from '../substrates/index.ts';
import { refOf } from '../topology/model.ts';
import { HOUR_MS } from '../time.ts';
import { populateWorkload, waitForLiveUpTo, type PopulatedWorkload } from '../workload/populate.ts';
import { alignDown, alignUp } from '../time.ts';

export const REPLICA_LABEL = PROMETHEUS_REPLICA_LABEL;
export const OBSERVEE = 'observee';
export const STORE = 'observer/store';
export const SIDECAR = `${OBSERVEE}/sidecar`;

/** A Query and the Query Frontend in front of it. */
export interface QueryPath {
  /** The Query's "cluster/name". */
  ref: string;
  query: PromApiClient;
  frontend: PromApiClient;
  /** The components it names as endpoints ("observee/sidecar", ...). */
  dials: string[];
  /** How many StoreAPI endpoints the Query dials. */
  endpoints: number;
}

/** Every Query of the topology that has a Query Frontend in front of it, by the Query's name. */
export function queryPaths(t: RunningTopology): Record<string, QueryPath> {
  const paths: Record<string, QueryPath> = {};
  for (const c of t.topology.components) {
    if (c.kind !== 'query-frontend') continue;
    const query = t.topology.components.find((q) => refOf(q) === c.downstream);
    if (query?.kind !== 'query') continue;
    paths[query.name] = {
      ref: c.downstream,
      dials: query.endpoints,
      query: new PromApiClient(t.url(c.downstream)),
      frontend: new PromApiClient(t.url(`${c.cluster}/${c.name}`)),
      endpoints: queryEndpointCount(t.topology, c.downstream),
    };
  }
  return paths;
}

/** The observee's Prometheus replicas: process id and replica label value, from the plan. */
export function observeeReplicas(t: RunningTopology): { id: string; replica: string }[] {
  return t.plan.processes
    .filter((p) => p.kind === 'prometheus' && p.cluster === OBSERVEE)
    .map((p) => ({ id: p.id, replica: p.externalLabels[REPLICA_LABEL]! }));
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
  paths: Record<string, QueryPath>;
}

/**
 * History in, blocks shipped and loaded by Store, every Query knowing its endpoints with current
 * time ranges, live scrape caught up to the window's end.
 */
export async function prepareArch1(t: RunningTopology, log: (line: string) => void): Promise<Arch1Run> {
  const workload = await populateWorkload(t, { onProgress: log });
  const replicas = observeeReplicas(t);
  const blocks = await t.bucket.blocks(OBSERVEE);
  if (blocks.length !== replicas.length * workload.blocks.length) {
    throw new Error(`expected ${replicas.length * workload.blocks.length} blocks in the bucket (every replica ships every block it cut), found ${blocks.length}`);
  }
  await waitSumMetrics(STORE, t.url(STORE), equals(blocks.length), 'thanos_bucket_store_blocks_loaded', { onProgress: log });
  const storeLoadedAt = Date.now();

  // The history is in and retention has run: each Prometheus' lowest timestamp is final. Both got
  // the same samples, so it is the same for both.
  const lowest = new Set<number>();
  for (const { id } of replicas) lowest.add(metricValue(await new PromApiClient(t.url(id)).metrics(), 'prometheus_tsdb_lowest_timestamp_seconds')! * 1000);
  if (lowest.size !== 1) throw new Error(`the observee's Prometheus have different lowest timestamps: ${[...lowest].map((l) => new Date(l).toISOString()).join(', ')}`);
  const paths = queryPaths(t);
  const sidecars = t.plan.processes.filter((p) => p.component === SIDECAR).length;
  await Promise.all(
    Object.entries(paths).map(async ([name, path]) => {
      // Query refreshes endpoint metadata every few seconds: a check made after Store loaded everything.
      await waitForStores(name, path.query, { count: path.endpoints, checkedAfter: storeLoadedAt }, { onProgress: log });
      // A sidecar re-reads its Prometheus' lowest timestamp every 30 s (it read the empty TSDB's at start).
      if (path.dials.includes(SIDECAR)) await waitForStores(name, path.query, { type: 'sidecar', count: sidecars, minTime: [...lowest][0] }, { onProgress: log });
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
    paths,
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
