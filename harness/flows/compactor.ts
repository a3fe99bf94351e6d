// Getting the Compactor topologies (topology/presets-compactor.ts) into the states their scenarios
// assert on: the bucket and the query answers before a Compactor ran, then after its first iteration.
//
// A Compactor with --wait compacts at once when it starts, then every --wait-interval (5m). So each
// is stopped right after bring-up (its first pass saw an empty bucket) and started again once every
// block is uploaded: its first iteration then sees exactly the blocks measured "before".
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PromApiClient, type RangeQueryResponse } from '../promql/client.ts';
import { metricSum } from '../promql/metrics.ts';
import { equals, greaterOrEqual, waitForStores, waitSumMetrics } from '../promql/wait-metrics.ts';
import type { BlockMeta } from '../s3/bucket.ts';
import { uploadBlock } from '../s3/block-upload.ts';
import { modelCompactorIteration, type IterationOutcome, type ModelBlock } from '../models/compaction.ts';
import type { RunningTopology } from '../substrates/index.ts';
import { refOf, type Compactor } from '../topology/model.ts';
import { COMPACTOR_DOWNSAMPLING, COMPACTOR_OVERLAP } from '../topology/presets-compactor.ts';
import { clusterLabels, PROMETHEUS_REPLICA_LABEL } from '../plan/context.ts';
import { HOUR_MS } from '../time.ts';
import { populateWorkload, type PopulatedWorkload } from '../workload/populate.ts';
import { oneBlockWindow, promtoolBlocks } from '../workload/promtool-blocks.ts';
import { alignDown, alignUp } from '../time.ts';

/** What a prefix holds: its blocks (oldest first) and the bytes of every object under it. */
export interface PrefixState {
  blocks: BlockMeta[];
  bytes: number;
}

/** The Compactor's own counters after its first iteration (or its halt). */
export interface CompactorMetrics {
  halted: number;
  iterations: number;
  compactions: number;
  verticalCompactions: number;
  downsampled: number;
  blocksCleaned: number;
  blocksMarkedForDeletion: number;
}

export const COMPACTOR_METRICS: Record<keyof CompactorMetrics, string> = {
  halted: 'thanos_compact_halted',
  iterations: 'thanos_compact_iterations_total',
  compactions: 'thanos_compact_group_compactions_total',
  verticalCompactions: 'thanos_compact_group_vertical_compactions_total',
  downsampled: 'thanos_compact_downsample_total',
  blocksCleaned: 'thanos_compact_blocks_cleaned_total',
  blocksMarkedForDeletion: 'thanos_compact_blocks_marked_total',
};

export async function compactorMetrics(t: RunningTopology, id: string): Promise<CompactorMetrics> {
  const text = await new PromApiClient(t.url(id)).metrics();
  const read = (name: string, labels?: Record<string, string>) => metricSum(text, name, labels) ?? 0;
  return {
    halted: read(COMPACTOR_METRICS.halted),
    iterations: read(COMPACTOR_METRICS.iterations),
    compactions: read(COMPACTOR_METRICS.compactions),
    verticalCompactions: read(COMPACTOR_METRICS.verticalCompactions),
    downsampled: read(COMPACTOR_METRICS.downsampled),
    blocksCleaned: read(COMPACTOR_METRICS.blocksCleaned),
    blocksMarkedForDeletion: read(COMPACTOR_METRICS.blocksMarkedForDeletion, { marker: 'deletion-mark.json' }),
  };
}

/** The model's input: a bucket block as the Compactor's planner sees it. */
export const modelBlockOf = (b: BlockMeta): ModelBlock => ({
  minTime: b.minTime,
  maxTime: b.maxTime,
  labels: b.thanos.labels,
  resolution: b.thanos.downsample?.resolution ?? 0,
  sources: [b.ulid],
});

async function prefixState(t: RunningTopology, prefix: string): Promise<PrefixState> {
  return { blocks: await t.bucket.blocks(prefix), bytes: await t.bucket.bytes(prefix) };
}

/** The lines of an instance's log that contain `text` (through collectLogs: the same on every substrate). */
export async function logLines(t: RunningTopology, instance: string, text: string): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'thanos-ha-e2e-logs-'));
  try {
    await t.collectLogs(dir);
    const log = await readFile(join(dir, `${instance.replace('/', '_')}.log`), 'utf8');
    return log.split('\n').filter((line) => line.includes(text));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const compactorOf = (t: RunningTopology, cluster: string): Compactor => {
  const c = t.topology.components.find((x): x is Compactor => x.kind === 'compactor' && x.cluster === cluster);
  if (!c) throw new Error(`topology ${t.topology.name} has no compactor in cluster ${cluster}`);
  return c;
};

/** One observee of compactorOverlap(): its prefix before and after its Compactor's first iteration. */
export interface ObserveeCompaction {
  cluster: string;
  compactor: string;
  spec: Compactor;
  before: PrefixState;
  after: PrefixState;
  /** What the model of the Compactor says its first iteration does with `before.blocks`. */
  expected: IterationOutcome;
  metrics: CompactorMetrics;
}

export interface OverlapRun {
  t: RunningTopology;
  workload: PopulatedWorkload;
  sameLabels: ObserveeCompaction;
  replicaLabels: ObserveeCompaction;
  /** The shipped history through Query over Store, on the workload grid, before and after. */
  window: { start: number; end: number; step: number };
  answers: { before: { dedup: RangeQueryResponse; noDedup: RangeQueryResponse }; after: { dedup: RangeQueryResponse; noDedup: RangeQueryResponse } };
}

// 5h of history: two 2h blocks per replica (one when it starts on a 2h boundary), none deleted by
// the 4h retention before its upload, so the backfill never waits for the shipper in between.
const OVERLAP_HISTORY_MS = 5 * HOUR_MS;

export async function prepareCompactorOverlap(t: RunningTopology, log: (line: string) => void): Promise<OverlapRun> {
  const observees = [COMPACTOR_OVERLAP.sameLabels, COMPACTOR_OVERLAP.replicaLabels].map((cluster) => {
    const spec = compactorOf(t, cluster);
    return { cluster, spec, compactor: refOf(spec) };
  });
  for (const o of observees) await t.stop(o.compactor);

  const workload = await populateWorkload(t, { historyMs: OVERLAP_HISTORY_MS, onProgress: log });
  const before = new Map<string, PrefixState>();
  for (const o of observees) {
    const state = await prefixState(t, o.spec.bucketPrefix);
    const replicas = t.plan.processes.filter((p) => p.kind === 'prometheus' && p.cluster === o.cluster).length;
    if (state.blocks.length !== replicas * workload.blocks.length) {
      throw new Error(`expected ${replicas * workload.blocks.length} blocks under ${o.spec.bucketPrefix}/ (every replica ships every block it cut), found ${state.blocks.length}`);
    }
    before.set(o.cluster, state);
  }

  const store = COMPACTOR_OVERLAP.store;
  const query = new PromApiClient(t.url(COMPACTOR_OVERLAP.query));
  const storeReads = before.get(COMPACTOR_OVERLAP.replicaLabels)!;
  const step = t.workload.workload.stepMs;
  // Every shipped sample: from the first of the history to the last before the newest block's (exclusive) end.
  const window = {
    start: alignUp(workload.historyFromMs, step),
    end: alignDown(Math.max(...storeReads.blocks.map((b) => b.maxTime)) - 1, step),
    step,
  };
  const ask = async () => ({
    dedup: await query.queryRange(t.workload.workload.metric, { ...window, dedup: true }),
    noDedup: await query.queryRange(t.workload.workload.metric, { ...window, dedup: false }),
  });
  const storeLoads = async (n: number) => {
    await waitSumMetrics(store, t.url(store), equals(n), 'thanos_bucket_store_blocks_loaded', { onProgress: log });
    await waitForStores('query', query, { type: 'store', count: 1, checkedAfter: Date.now() }, { onProgress: log });
  };
  await storeLoads(storeReads.blocks.length);
  const answersBefore = await ask();

  for (const o of observees) await t.start(o.compactor);
  const [faulty, fixed] = observees;
  await Promise.all([
    waitSumMetrics(faulty!.compactor, t.url(faulty!.compactor), equals(1), COMPACTOR_METRICS.halted, { onProgress: log }),
    waitSumMetrics(fixed!.compactor, t.url(fixed!.compactor), greaterOrEqual(1), COMPACTOR_METRICS.iterations, { onProgress: log }),
  ]);

  const compactions = new Map<string, ObserveeCompaction>();
  for (const o of observees) {
    const b = before.get(o.cluster)!;
    compactions.set(o.cluster, {
      ...o,
      before: b,
      after: await prefixState(t, o.spec.bucketPrefix),
      expected: modelCompactorIteration(b.blocks.map(modelBlockOf), { replicaLabels: o.spec.deduplicationReplicaLabels, downsampling: o.spec.downsampling }),
      metrics: await compactorMetrics(t, o.compactor),
    });
  }
  // The iteration is over, so the bucket holds its final blocks; every state Store can have synced
  // in between held more (a merged block is uploaded before its sources go).
  await storeLoads(compactions.get(COMPACTOR_OVERLAP.replicaLabels)!.after.blocks.length);
  const answersAfter = await ask();
  return {
    t,
    workload,
    sameLabels: compactions.get(COMPACTOR_OVERLAP.sameLabels)!,
    replicaLabels: compactions.get(COMPACTOR_OVERLAP.replicaLabels)!,
    window,
    answers: { before: answersBefore, after: answersAfter },
  };
}

export interface DownsamplingRun {
  t: RunningTopology;
  /** The history promtool wrote: grid samples from fromMs to toMs, both included. */
  history: { fromMs: number; toMs: number };
  raw: BlockMeta[];
  before: PrefixState;
  after: PrefixState;
  expected: IterationOutcome;
  metrics: CompactorMetrics;
  /** How long promtool took to make the blocks and the harness to upload them. */
  timings: { promtoolMs: number; uploadMs: number };
}

/** Two days, the most one 54h promtool block holds with room to spare, and more than the 40h a raw block needs to be downsampled. */
export const DOWNSAMPLING_HISTORY_MS = 48 * HOUR_MS;

export async function prepareDownsampling(t: RunningTopology, log: (line: string) => void): Promise<DownsamplingRun> {
  const { compactor, prefix, store } = COMPACTOR_DOWNSAMPLING;
  const spec = t.topology.components.find((c): c is Compactor => refOf(c) === compactor)!;
  await t.stop(compactor);

  const history = oneBlockWindow(Date.now() - HOUR_MS, DOWNSAMPLING_HISTORY_MS);
  const dir = await mkdtemp(join(tmpdir(), 'thanos-ha-e2e-promtool-'));
  let raw: BlockMeta[];
  const timings = { promtoolMs: 0, uploadMs: 0 };
  try {
    let started = Date.now();
    const blockDirs = await promtoolBlocks(t.workload.workload, history, dir);
    timings.promtoolMs = Date.now() - started;
    started = Date.now();
    // As an observee's Prometheus (replica 0) would have labelled them.
    const labels = { ...clusterLabels(prefix), [PROMETHEUS_REPLICA_LABEL]: 'prometheus-0' };
    raw = [];
    for (const blockDir of blockDirs) raw.push(await uploadBlock(t.bucket, prefix, blockDir, { labels, source: 'bucket.upload' }));
    timings.uploadMs = Date.now() - started;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  log(`  promtool made ${raw.length} block(s) of ${new Date(history.fromMs).toISOString()}..${new Date(history.toMs).toISOString()} in ${timings.promtoolMs} ms, uploaded in ${timings.uploadMs} ms`);
  const before = await prefixState(t, prefix);
  const expected = modelCompactorIteration(before.blocks.map(modelBlockOf), { replicaLabels: spec.deduplicationReplicaLabels, downsampling: spec.downsampling });

  await t.start(compactor);
  await waitSumMetrics(compactor, t.url(compactor), greaterOrEqual(1), COMPACTOR_METRICS.iterations, { onProgress: log });
  const after = await prefixState(t, prefix);
  const metrics = await compactorMetrics(t, compactor);
  await waitSumMetrics(store, t.url(store), equals(after.blocks.length), 'thanos_bucket_store_blocks_loaded', { onProgress: log });
  await waitForStores('query', new PromApiClient(t.url(COMPACTOR_DOWNSAMPLING.query)), { type: 'store', count: 1, checkedAfter: Date.now() }, { onProgress: log });
  return { t, history, raw, before, after, expected, metrics, timings };
}
