// Getting an Arch 1 topology into the state finding A's assertions need; shared by the
// scenario and the benchmark so both measure the same thing.
import { PromApiClient } from '../promql/client.ts';
import { analyseRange, type RangeAnalysis } from '../promql/analysis.ts';
import { metricValue } from '../promql/metrics.ts';
import type { BlockMeta } from '../s3/bucket.ts';
import type { RunningTopology } from '../substrates/index.ts';
import type { Arch1Variant } from '../topology/presets.ts';
import { waitFor } from '../wait.ts';
import { HOUR_MS } from '../workload/history.ts';
import { populateWorkload, waitForLiveUpTo, type PopulatedWorkload } from '../workload/populate.ts';
import { alignDown, alignUp } from '../workload/series.ts';

export const REPLICA_LABEL = 'prometheus_replica';

export interface Arch1Run {
  t: RunningTopology;
  workload: PopulatedWorkload;
  blocks: BlockMeta[];
  /** Store's expected view: the bucket's blocks. */
  storeMinTime: number;
  storeMaxTime: number;
  /** The range query of the note: the last 6h, ending 30s ago, on the workload grid. */
  window: { start: number; end: number; step: number };
  frontend: PromApiClient;
  query: PromApiClient;
}

/** History in, blocks shipped and loaded by Store, every endpoint known to Query, live scrape caught up. */
export async function prepareArch1(t: RunningTopology, variant: Arch1Variant, log: (line: string) => void): Promise<Arch1Run> {
  const workload = await populateWorkload(t, { onProgress: log });
  const blocks = await t.bucket.blocks('observee');
  if (blocks.length !== 2 * workload.blocks.length) {
    throw new Error(`expected ${2 * workload.blocks.length} blocks in the bucket (every replica ships every block it cut), found ${blocks.length}`);
  }

  await waitFor(
    `Store to load all ${blocks.length} blocks`,
    async (note) => {
      const loaded = metricValue(await new PromApiClient(t.url('observer/store')).metrics(), 'thanos_bucket_store_blocks_loaded');
      note(`${loaded ?? 0} loaded`);
      return loaded === blocks.length ? loaded : undefined;
    },
    { timeoutMs: 180_000, intervalMs: 1_000, onProgress: log },
  );
  const storeLoadedAt = Date.now();
  const query = new PromApiClient(t.url('observer/query'));
  const expectedEndpoints = variant === 'store-only' ? 1 : 3;
  await waitFor(
    `Query to know its ${expectedEndpoints} endpoints with current time ranges`,
    async (note) => {
      const all = Object.values(await query.stores()).flat();
      note(`${all.length} endpoints`);
      // Query refreshes endpoint metadata every few seconds: wait for a check made after Store
      // loaded everything, and (sidecars read Prometheus' lowest timestamp every 30s) for each
      // sidecar's first read since the history arrived. What the ranges are is asserted later.
      const fresh = all.every(
        (e) => e.lastError === null && (e.lastCheck ?? 0) > storeLoadedAt && (typeof e.minTime !== 'number' || e.minTime > 0),
      );
      return all.length === expectedEndpoints && fresh ? all : undefined;
    },
    { timeoutMs: 180_000, intervalMs: 1_000, onProgress: log },
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
    frontend: new PromApiClient(t.url('observer/query-frontend')),
    query,
  };
}

export async function rangeAnalysis(run: Arch1Run, dedup: boolean): Promise<RangeAnalysis> {
  const answer = await run.frontend.queryRange(run.t.workload.workload.metric, { ...run.window, dedup });
  return analyseRange(answer.result, {
    workload: run.t.workload.workload,
    startMs: run.window.start,
    endMs: run.window.end,
    stepMs: run.window.step,
    coverage: [{ fromMs: run.workload.historyFromMs, toMs: run.window.end }],
  });
}

