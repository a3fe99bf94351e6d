// The Compactor's own account of what it did (its /metrics), what a prefix holds before and after,
// and the one wait a Compactor scenario needs: its first iteration over, whichever way it ended.
import { PromApiClient } from '../promql/client.ts';
import { metricSum } from '../promql/metrics.ts';
import { greaterOrEqual, waitSumMetrics } from '../promql/wait-metrics.ts';
import type { BlockMeta } from '../s3/bucket.ts';
import type { CompactorOptions, ModelBlock } from '../models/compaction.ts';
import type { Handle } from '../presets/handles.ts';
import type { RunningTopology } from '../substrates/index.ts';

// How a Compactor says it halted on overlapping blocks: Thanos' HaltError around the group's overlap
// check (pkg/compact/compact.go Group.compact), logged by cmd/thanos/compact.go; the error names
// every overlapping block's ULID and range (tsdb.Overlaps).
export const OVERLAP_ERROR = 'pre compaction overlap check';
export const HALT_LOG = 'critical error detected; halting';

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

/** The model's options: what the Compactor's spec (its flags) says it does. */
export const compactorOptionsOf = (c: Handle<'compactor'>): CompactorOptions => ({
  replicaLabels: c.spec.deduplicationReplicaLabels,
  downsampling: c.spec.downsampling,
  verticalCompaction: c.spec.verticalCompaction,
});

export async function prefixState(t: RunningTopology, prefix: string): Promise<PrefixState> {
  return { blocks: await t.bucket.blocks(prefix), bytes: await t.bucket.bytes(prefix) };
}



/**
 * Waits until a Compactor's first iteration is over, however it ended: completed
 * (thanos_compact_iterations_total) or halted (thanos_compact_halted). Either counts, so the wait
 * never presumes the outcome a test then judges: a Compactor that should halt and does not, or one
 * that should not and does, fails its own test, not every test of the file.
 */
export async function waitForFirstIteration(t: RunningTopology, compactor: Handle<'compactor'>, log: (line: string) => void): Promise<CompactorMetrics> {
  await waitSumMetrics(compactor.ref, t.url(compactor.ref), greaterOrEqual(1), [COMPACTOR_METRICS.halted, COMPACTOR_METRICS.iterations], { onProgress: log });
  return compactorMetrics(t, compactor.ref);
}
