// Time-partitioned Stores: what a Store bounded by --min-time/--max-time loads, advertises and
// serves (a model of Thanos v0.42.4, checked against its source).
//
// Thanos Store, for bounds [min, max] (inclusive; defaults 0000-01-01 and 9999-12-31):
// - loads every block that overlaps them, comparing with the block's exclusive maxTime inclusively
//   (block.TimePartitionMetaFilter: maxTime >= min && minTime <= max), so a Store ending at a block
//   boundary B also loads the block that starts at B, and one starting at B the block ending at B;
// - advertises (Info API, Query's Stores page) the loaded blocks' range clipped to the bounds
//   (BucketStore.TimeRange with limitMinTime/limitMaxTime);
// - answers Series for the request range clipped to the bounds, but with whole chunks: every
//   chunk whose [first, last] sample overlaps the clipped range, untrimmed (decodeSeriesForTime).
//   So it serves samples up to the end of the chunk that holds (or starts at) its maxTime, and
//   from the start of the chunk that holds its minTime; Query's PromQL uses them all.
import type { Store } from '../topology/model.ts';
import { refOf } from '../topology/model.ts';
import { alignUp } from '../time.ts';
import { gridChunks } from './chunks.ts';
import type { BlockRange } from './prometheus-tsdb.ts';

/** A Store's --min-time/--max-time in ms; -Infinity/Infinity where the flag is not set (Thanos' far defaults). */
export interface StoreBounds {
  minTime: number;
  maxTime: number;
}

/** A grid range [startMs, endMs] (both on the grid and included) and its number of points. */
export interface GridRange {
  startMs: number;
  endMs: number;
  points: number;
}

/** The bounds of a Store spec; only absolute (RFC 3339) bounds have a value the model can use. */
export function boundsOf(store: Store): StoreBounds {
  const parse = (flag: string, value: string | undefined, none: number) => {
    if (value === undefined) return none;
    const ms = Date.parse(value);
    if (!/^\d{4}-/.test(value) || Number.isNaN(ms)) throw new Error(`store "${refOf(store)}": ${flag} ${value} is relative to now; the model needs an RFC 3339 time`);
    return ms;
  };
  return { minTime: parse('minTime', store.minTime, -Infinity), maxTime: parse('maxTime', store.maxTime, Infinity) };
}

/** The blocks a Store with these bounds loads (TimePartitionMetaFilter). */
export function blocksLoaded<B extends BlockRange>(bounds: StoreBounds, blocks: B[]): B[] {
  return blocks.filter((b) => b.maxTime >= bounds.minTime && b.minTime <= bounds.maxTime);
}

/** The time range a Store advertises (Query's Stores page): its loaded blocks' range, clipped to its bounds. */
export function advertisedRange(bounds: StoreBounds, loaded: BlockRange[]): { minTime: number; maxTime: number } {
  if (loaded.length === 0) throw new Error('a Store with no blocks advertises MaxInt64..MinInt64 (thanos-io/thanos#4478): not modelled');
  return {
    minTime: Math.max(Math.min(...loaded.map((b) => b.minTime)), bounds.minTime),
    maxTime: Math.min(Math.max(...loaded.map((b) => b.maxTime)), bounds.maxTime),
  };
}

/**
 * The grid points in [fromMs, toMs] that none of the Stores serves, as ranges, given the bucket's
 * blocks (each holding one sample per grid point in [minTime, maxTime)) and the head's chunk range
 * (the block duration), which decides where the chunks are cut.
 */
export function unservedRanges(stores: StoreBounds[], blocks: BlockRange[], window: { fromMs: number; toMs: number; stepMs: number; blockMs: number }): GridRange[] {
  const served: { minTime: number; maxTime: number }[] = [];
  for (const bounds of stores) {
    for (const block of blocksLoaded(bounds, blocks)) {
      for (const chunk of gridChunks(block.minTime, block.maxTime, window.stepMs, window.blockMs)) {
        if (chunk.maxTime >= bounds.minTime && chunk.minTime <= bounds.maxTime) served.push(chunk);
      }
    }
  }
  const ranges: GridRange[] = [];
  for (let t = alignUp(window.fromMs, window.stepMs); t <= window.toMs; t += window.stepMs) {
    if (served.some((c) => c.minTime <= t && t <= c.maxTime)) continue;
    const last = ranges.at(-1);
    if (last && last.endMs + window.stepMs === t) {
      last.endMs = t;
      last.points++;
    } else ranges.push({ startMs: t, endMs: t, points: 1 });
  }
  return ranges;
}
