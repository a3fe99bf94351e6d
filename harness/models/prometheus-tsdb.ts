// Planning a fast backfill of hours of history into a Prometheus that has a Thanos sidecar.
//
// Pure code: it models the Prometheus 3.x TSDB head/retention rules and says how to split the
// write so that no block is deleted locally before the sidecar has uploaded it.
//
// The rules modelled (prometheus/tsdb, checked against 3.9.1 source and a real run):
// - The head is compacted when head.maxTime - head.minTime > 1.5 * blockMs (Head.compactable).
//   Each cut takes [head.minTime, next multiple of blockMs after head.minTime) — so the first block
//   starts at the first sample and later ones on the aligned boundary — then head.minTime becomes
//   that boundary. This repeats while the condition holds. A commit triggers it within seconds.
// - Block maxTime (meta.json) is exclusive: the boundary.
// - Right after each cut, time retention deletes every block with
//   newest.maxTime - block.maxTime >= retentionMs, uploaded by the sidecar (every 30 s) or not.
//   So writing 6 h in one go can cut three blocks and delete the first before it is shipped.
// Everything is monotone in head.maxTime, so the state after writing up to t does not depend on
// how many requests the write was split into or when the asynchronous compaction ran.
//
// How a caller uses a plan (uploads = the sidecar's thanos_shipper_uploads_total):
//   1. per chunk: wait until uploads >= chunk.waitForUploadsBefore, then backfill the chunk;
//   2. wait until uploads >= plan.live.waitForUploads: the first live cut can come seconds after
//      toMs, and it always deletes the oldest block still on disk;
//   3. exporter.arm(toMs + step). Nothing may scrape this Prometheus before that (see exporter.ts);
//      named scrapers catch up on the slots that passed meanwhile.

import { HOUR_MS } from '../time.ts';

export interface BlockRange {
  minTime: number;
  /** Exclusive, as in meta.json. */
  maxTime: number;
}

export interface TsdbParams {
  blockMs: number;
  retentionMs: number;
}

export interface TsdbState {
  /** undefined while nothing has been written. */
  head: { minTime: number; maxTime: number } | undefined;
  /** Every block cut so far, oldest first (including those retention has deleted). */
  blocks: BlockRange[];
  /** blocks[0 .. deletedCount) have been deleted by retention. */
  deletedCount: number;
}

export const EMPTY_TSDB: TsdbState = { head: undefined, blocks: [], deletedCount: 0 };

export interface WriteOutcome {
  state: TsdbState;
  /** Blocks cut because of this write. */
  cut: BlockRange[];
  /** Blocks retention deleted because of this write. */
  deleted: BlockRange[];
}

/**
 * The TSDB after in-order samples with timestamps firstMs..lastMs are written to it
 * (firstMs only matters when the head is empty: it becomes head.minTime).
 */
export function simulateHead(state: TsdbState, firstMs: number, lastMs: number, params: TsdbParams): WriteOutcome {
  let minTime = state.head?.minTime ?? firstMs;
  const maxTime = Math.max(state.head?.maxTime ?? lastMs, lastMs);
  const blocks = [...state.blocks];
  const cut: BlockRange[] = [];
  while (maxTime - minTime > 1.5 * params.blockMs) {
    const boundary = Math.floor(minTime / params.blockMs) * params.blockMs + params.blockMs;
    const block = { minTime, maxTime: boundary };
    blocks.push(block);
    cut.push(block);
    minTime = boundary;
  }
  let deletedCount = state.deletedCount;
  const newest = blocks[blocks.length - 1];
  // retentionMs 0 disables time retention, as in Prometheus.
  while (newest && params.retentionMs > 0 && deletedCount < blocks.length && newest.maxTime - blocks[deletedCount]!.maxTime >= params.retentionMs) {
    deletedCount++;
  }
  return {
    state: { head: { minTime, maxTime }, blocks, deletedCount },
    cut,
    deleted: blocks.slice(state.deletedCount, deletedCount),
  };
}

export interface HistoryChunk {
  /** First and last grid timestamp to write in this chunk (inclusive). */
  fromMs: number;
  toMs: number;
  /**
   * Before writing this chunk, wait until the sidecar has uploaded at least this many blocks
   * (it ships them oldest first). 0: no wait.
   */
  waitForUploadsBefore: number;
  /** Blocks Prometheus cuts once this chunk is written. */
  blocksCutAfter: BlockRange[];
  /** Blocks retention deletes locally once this chunk is written (all uploaded by then). */
  blocksDeletedAfter: BlockRange[];
}

export interface HistoryPlan {
  chunks: HistoryChunk[];
  /** Every block the backfill makes Prometheus cut, oldest first. */
  blocks: BlockRange[];
  /** The head once all chunks are written (the live scrape continues from here). */
  head: { minTime: number; maxTime: number } | undefined;
  /**
   * The live scrape keeps writing: once it stores a sample later than nextCutAfterMs, Prometheus
   * cuts the next block and retention may delete backfilled blocks. waitForUploads: the upload
   * count the sidecar must have reached by then (0: that cut deletes nothing). When nextCutAfterMs
   * is close to toMs, wait for it before arming the exporter.
   */
  live: { nextCutAfterMs: number; waitForUploads: number } | undefined;
}

export interface HistoryRequest {
  fromMs: number;
  toMs: number;
  stepMs: number;
  /** Default 2 h. */
  blockMs?: number;
  /** Default 4 h. */
  retentionMs?: number;
}

/**
 * Splits the write of grid samples in [fromMs, toMs] into as few in-order chunks as possible,
 * such that a chunk never deletes a block it cut itself (that block could not have been uploaded).
 * Blocks a chunk does delete were cut by earlier chunks, so the caller can wait for their upload.
 * Greedy is optimal here: "chunk [a, b] is safe" only gets harder as b grows.
 */
export function planHistory(req: HistoryRequest): HistoryPlan {
  const params: TsdbParams = { blockMs: req.blockMs ?? 2 * HOUR_MS, retentionMs: req.retentionMs ?? 4 * HOUR_MS };
  const first = Math.ceil(req.fromMs / req.stepMs) * req.stepMs;
  const last = Math.floor(req.toMs / req.stepMs) * req.stepMs;

  let state = EMPTY_TSDB;
  const chunks: HistoryChunk[] = [];
  for (let chunkStart = first; chunkStart <= last; ) {
    // A write is unsafe when retention deletes a block that the same write cut.
    const blocksBefore = state.blocks.length;
    const isSafe = (o: WriteOutcome) => o.state.deletedCount <= blocksBefore;

    let chunkEnd = chunkStart;
    let outcome = simulateHead(state, chunkStart, chunkEnd, params);
    if (!isSafe(outcome)) {
      // Cannot happen with a step below blockMs / 2: one more sample then cuts at most one block,
      // and a block only deletes blocks whose maxTime is retentionMs older than its own.
      throw new Error(`planHistory: writing the single sample at ${chunkStart} already deletes a block it cuts`);
    }
    for (let next = chunkEnd + req.stepMs; next <= last; next += req.stepMs) {
      const candidate = simulateHead(state, chunkStart, next, params);
      if (!isSafe(candidate)) break;
      chunkEnd = next;
      outcome = candidate;
    }
    chunks.push({
      fromMs: chunkStart,
      toMs: chunkEnd,
      // Blocks are deleted oldest first, so "the newest deleted block is uploaded" is a count.
      waitForUploadsBefore: outcome.deleted.length > 0 ? outcome.state.deletedCount : 0,
      blocksCutAfter: outcome.cut,
      blocksDeletedAfter: outcome.deleted,
    });
    state = outcome.state;
    chunkStart = chunkEnd + req.stepMs;
  }
  let live: HistoryPlan['live'];
  if (state.head) {
    const nextCutAfterMs = state.head.minTime + 1.5 * params.blockMs;
    const nextCut = simulateHead(state, nextCutAfterMs + req.stepMs, nextCutAfterMs + req.stepMs, params);
    live = { nextCutAfterMs, waitForUploads: nextCut.deleted.length > 0 ? nextCut.state.deletedCount : 0 };
  }
  return { chunks, blocks: state.blocks, head: state.head, live };
}
