// What one iteration of the Thanos Compactor makes of a bucket prefix's blocks: a model of its
// grouper, planner and downsampler, so a scenario can say how many blocks must be left, and how many
// compactions the Compactor's own metrics must show, before it runs.
//
// Modelled from Thanos v0.42.4 (pkg/compact/compact.go, planner.go, cmd/thanos/compact.go, downsample.go):
// - Groups: blocks with the same external labels, less the --deduplication.replica-label ones, and the
//   same resolution. A group of one block is skipped.
// - A group whose blocks overlap halts the Compactor ("pre compaction overlap check") unless vertical
//   compaction is on: --compact.enable-vertical-compaction, or a replica label, which implies it.
// - Each compaction of a group merges one plan: the first run of overlapping blocks (by minTime) if any,
//   otherwise, leaving out the newest block, the first part of an aligned range (2h, 8h, 2d, 14d) with
//   at least two blocks that fills the range or ends before the newest block left starts. The iteration
//   repeats until no group has a plan; with --delete-delay=0s the merged blocks are gone by then.
// - Then downsampling: a raw block spanning at least 40h gets a 5m block, a 5m block of at least 10d an
//   1h block (two passes), unless one with the same sources exists.
// Not modelled: tombstones, no-compact marks, index size limits, retention.
import { HOUR_MS } from '../time.ts';

const DAY_MS = 24 * HOUR_MS;
/** The Compactor's block ranges (cmd/thanos/compact.go `compactions`); the planner uses all but the first. */
export const COMPACTION_RANGES_MS = [1 * HOUR_MS, 2 * HOUR_MS, 8 * HOUR_MS, 2 * DAY_MS, 14 * DAY_MS];
export const RESOLUTION_5M_MS = 5 * 60_000;
export const RESOLUTION_1H_MS = HOUR_MS;
/** The shortest raw block downsampled to 5m, and 5m block to 1h (downsample.ResLevel1DownsampleRange, ResLevel2DownsampleRange). */
export const DOWNSAMPLE_5M_MIN_RANGE_MS = 40 * HOUR_MS;
export const DOWNSAMPLE_1H_MIN_RANGE_MS = 10 * DAY_MS;

export interface ModelBlock {
  minTime: number;
  /** Exclusive, as in meta.json. */
  maxTime: number;
  labels: Record<string, string>;
  /** Downsampling resolution in ms: 0 raw, 300000, 3600000. */
  resolution: number;
  /** Ids of the blocks it was made of (its own ULID for a block nobody compacted). */
  sources: string[];
}

export interface CompactorOptions {
  /** --deduplication.replica-label values: any turns vertical compaction on too. */
  replicaLabels: string[];
  /** --compact.enable-vertical-compaction: overlapping blocks of one label set are merged, not halted on. */
  verticalCompaction: boolean;
  /** false: --downsampling.disable. */
  downsampling: boolean;
}

export interface IterationOutcome {
  /** The blocks under the prefix after the iteration (delete-delay 0s), oldest first; unchanged when it halts. */
  blocks: ModelBlock[];
  /** Group compactions that made a new block (thanos_compact_group_compactions_total). */
  compactions: number;
  /** Of those, on a group whose blocks overlapped (thanos_compact_group_vertical_compactions_total). */
  verticalCompactions: number;
  /** New downsampled blocks (thanos_compact_downsample_total). */
  downsampled: number;
  /** Blocks compacted away: marked for deletion, then deleted (thanos_compact_blocks_cleaned_total). */
  deleted: number;
  /** Why it halts (the group's labels), when a group of overlapping blocks has vertical compaction off. */
  halted?: string;
}

const groupKey = (labels: Record<string, string>, resolution: number) =>
  `${resolution}@${JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)))}`;

const byMinTime = (a: ModelBlock, b: ModelBlock) => a.minTime - b.minTime;

function overlaps(sorted: ModelBlock[]): boolean {
  return sorted.some((b, i) => i > 0 && b.minTime < Math.max(...sorted.slice(0, i).map((p) => p.maxTime)));
}

/** planner.go selectOverlappingMetas: the first run of blocks that overlap the ones before them. */
function firstOverlappingRun(sorted: ModelBlock[]): ModelBlock[] {
  const run: ModelBlock[] = [];
  let maxTime = sorted[0]?.maxTime ?? 0;
  for (let i = 1; i < sorted.length; i++) {
    const b = sorted[i]!;
    if (b.minTime < maxTime) {
      if (run.length === 0) run.push(sorted[i - 1]!);
      run.push(b);
    } else if (run.length > 0) break;
    maxTime = Math.max(maxTime, b.maxTime);
  }
  return run;
}

/** planner.go splitByRange: consecutive blocks within one aligned range of tr (blocks that fit none are skipped). */
function splitByRange(sorted: ModelBlock[], tr: number): ModelBlock[][] {
  const parts: ModelBlock[][] = [];
  for (let i = 0; i < sorted.length; ) {
    const t0 = tr * Math.floor(sorted[i]!.minTime / tr);
    if (sorted[i]!.maxTime > t0 + tr) {
      i++;
      continue;
    }
    const part: ModelBlock[] = [];
    for (; i < sorted.length && sorted[i]!.maxTime <= t0 + tr; i++) part.push(sorted[i]!);
    parts.push(part);
  }
  return parts;
}

/** planner.go plan: what one compaction of a group merges; empty when there is nothing to do. */
export function planGroup(sorted: ModelBlock[]): ModelBlock[] {
  const overlapping = firstOverlappingRun(sorted);
  if (overlapping.length > 0) return overlapping;
  // The newest block is left out: another one of its size may still be on its way.
  const candidates = sorted.slice(0, -1);
  if (candidates.length === 0) return [];
  const highTime = candidates[candidates.length - 1]!.minTime;
  for (const tr of COMPACTION_RANGES_MS.slice(1)) {
    for (const part of splitByRange(candidates, tr)) {
      if (part.length < 2) continue;
      const span = part[part.length - 1]!.maxTime - part[0]!.minTime;
      if (span === tr || part[part.length - 1]!.maxTime <= highTime) return part;
    }
  }
  return [];
}

const strip = (labels: Record<string, string>, replicaLabels: string[]) =>
  Object.fromEntries(Object.entries(labels).filter(([k]) => !replicaLabels.includes(k)));

/** One Compactor iteration (--wait runs one at start, then one every --wait-interval) over a prefix's blocks. */
export function modelCompactorIteration(input: ModelBlock[], opts: CompactorOptions): IterationOutcome {
  const vertical = opts.verticalCompaction || opts.replicaLabels.length > 0;
  const groups = new Map<string, ModelBlock[]>();
  for (const b of input) {
    const labels = strip(b.labels, opts.replicaLabels);
    const key = groupKey(labels, b.resolution);
    groups.set(key, [...(groups.get(key) ?? []), b]);
  }
  let compactions = 0;
  let verticalCompactions = 0;
  let deleted = 0;
  const keys = [...groups.keys()].sort();
  for (const key of keys) {
    let blocks = groups.get(key)!.sort(byMinTime);
    if (blocks.length < 2) continue;
    if (!vertical && overlaps(blocks)) {
      return { blocks: [...input].sort(byMinTime), compactions, verticalCompactions, downsampled: 0, deleted: 0, halted: key };
    }
    for (let plan = planGroup(blocks); plan.length > 0; plan = planGroup(blocks)) {
      compactions++;
      if (overlaps(blocks)) verticalCompactions++;
      deleted += plan.length;
      const merged: ModelBlock = {
        minTime: Math.min(...plan.map((b) => b.minTime)),
        maxTime: Math.max(...plan.map((b) => b.maxTime)),
        labels: strip(plan[0]!.labels, opts.replicaLabels),
        resolution: plan[0]!.resolution,
        sources: [...new Set(plan.flatMap((b) => b.sources))].sort(),
      };
      blocks = [...blocks.filter((b) => !plan.includes(b)), merged].sort(byMinTime);
    }
    groups.set(key, blocks);
  }
  let blocks = [...groups.values()].flat();
  let downsampled = 0;
  if (opts.downsampling) {
    for (const [from, to, minRange] of [
      [0, RESOLUTION_5M_MS, DOWNSAMPLE_5M_MIN_RANGE_MS],
      [RESOLUTION_5M_MS, RESOLUTION_1H_MS, DOWNSAMPLE_1H_MIN_RANGE_MS],
    ] as const) {
      const done = new Set(blocks.filter((b) => b.resolution === to).flatMap((b) => b.sources));
      const made = blocks
        .filter((b) => b.resolution === from && b.maxTime - b.minTime >= minRange && b.sources.some((s) => !done.has(s)))
        .map((b) => ({ ...b, labels: strip(b.labels, opts.replicaLabels), resolution: to }));
      downsampled += made.length;
      blocks = [...blocks, ...made];
    }
  }
  return { blocks: blocks.sort((a, b) => byMinTime(a, b) || a.resolution - b.resolution), compactions, verticalCompactions, downsampled, deleted };
}
