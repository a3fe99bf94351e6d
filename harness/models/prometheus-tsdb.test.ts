import { describe, expect, it } from 'vitest';
import { planHistory, simulateHead, EMPTY_TSDB, type HistoryPlan } from './prometheus-tsdb.ts';
import { HOUR_MS } from '../time.ts';

const BLOCK = 2 * HOUR_MS;
const RETENTION = 4 * HOUR_MS;
const STEP = 15_000;
const CYCLE_START = Date.UTC(2025, 10, 24, 0, 0, 0); // a 2 h boundary

/**
 * A second, sample-by-sample model of the Prometheus TSDB (written independently of
 * simulateHead, in the shape of the Go code) plus a pessimistic sidecar: it has uploaded exactly
 * the blocks the caller waited for, and nothing else.
 */
class ReferenceTsdb {
  headMin: number | undefined;
  headMax = -Infinity;
  blocks: { minTime: number; maxTime: number; uploaded: boolean; deleted: boolean }[] = [];
  lostBeforeUpload: { minTime: number; maxTime: number }[] = [];

  write(t: number): void {
    let mint = this.headMin ?? t;
    this.headMax = t;
    // Head.compactable / DB.Compact / rangeForTimestamp
    while (this.headMax - mint > (BLOCK / 2) * 3) {
      const maxt = (Math.trunc(mint / BLOCK) + 1) * BLOCK;
      this.blocks.push({ minTime: mint, maxTime: maxt, uploaded: false, deleted: false });
      mint = maxt;
      this.applyRetention();
    }
    this.headMin = mint;
  }

  // deletableBlocks / BeyondTimeRetention: newest first, delete from the first block that is too old.
  applyRetention(): void {
    const live = this.blocks.filter((b) => !b.deleted).sort((a, b) => b.maxTime - a.maxTime);
    for (let i = 1; i < live.length; i++) {
      if (live[0]!.maxTime - live[i]!.maxTime >= RETENTION) {
        for (const b of live.slice(i)) {
          b.deleted = true;
          if (!b.uploaded) this.lostBeforeUpload.push({ minTime: b.minTime, maxTime: b.maxTime });
        }
        break;
      }
    }
  }

  /** The caller's wait: returns false if it could never be satisfied. */
  waitForUploads(count: number): boolean {
    if (count > this.blocks.length) return false;
    for (const b of this.blocks.slice(0, count)) {
      if (b.deleted && !b.uploaded) return false;
      b.uploaded = true;
    }
    return true;
  }
}

/**
 * Runs a plan against the reference model. `extraPointAfterChunk`: write one more sample after
 * that chunk, and stop. `liveMs`: then keep writing "live" samples for that long, the sidecar
 * having uploaded plan.live.waitForUploads blocks by the next cut (and nothing more).
 */
function execute(plan: HistoryPlan, opts: { extraPointAfterChunk?: number; liveMs?: number } = {}): ReferenceTsdb {
  const tsdb = new ReferenceTsdb();
  for (const [k, chunk] of plan.chunks.entries()) {
    expect(tsdb.waitForUploads(chunk.waitForUploadsBefore), `chunk ${k} waits for an impossible upload count`).toBe(true);
    for (let t = chunk.fromMs; t <= chunk.toMs; t += STEP) tsdb.write(t);
    if (k === opts.extraPointAfterChunk) {
      tsdb.write(chunk.toMs + STEP);
      return tsdb;
    }
  }
  if (opts.liveMs !== undefined && plan.live) {
    const end = plan.chunks.at(-1)!.toMs + opts.liveMs;
    for (let t = plan.chunks.at(-1)!.toMs + STEP; t <= end; t += STEP) {
      if (t > plan.live.nextCutAfterMs) expect(tsdb.waitForUploads(plan.live.waitForUploads)).toBe(true);
      tsdb.write(t);
    }
  }
  return tsdb;
}

function sixHoursEndingAt(toMs: number): HistoryPlan {
  return planHistory({ fromMs: toMs - 6 * HOUR_MS, toMs, stepMs: STEP, blockMs: BLOCK, retentionMs: RETENTION });
}

describe('planHistory for 6 h of history (every 15 s offset within a 2 h cycle)', () => {
  const offsets = Array.from({ length: BLOCK / STEP }, (_, k) => k * STEP);
  const plans = offsets.map((offset) => ({ offset, plan: sixHoursEndingAt(CYCLE_START + 10 * HOUR_MS + offset) }));

  it('never lets retention delete a block before the sidecar uploaded it', () => {
    for (const { offset, plan } of plans) {
      expect(execute(plan).lostBeforeUpload, `offset ${offset / 1000}s`).toEqual([]);
    }
  });

  it('says what the live scrape needs uploaded before its first cut, which comes at the predicted time', () => {
    const liveNeedsUploads = new Set<number>();
    for (const { offset, plan } of plans) {
      // Two hours of live samples after the backfill: the first live cut, and the next.
      const tsdb = execute(plan, { liveMs: 2 * HOUR_MS });
      expect(tsdb.lostBeforeUpload, `offset ${offset / 1000}s`).toEqual([]);
      expect(tsdb.blocks.length).toBe(plan.blocks.length + 1);
      const firstLiveCut = tsdb.blocks[plan.blocks.length]!;
      expect(firstLiveCut.minTime).toBe(plan.head!.minTime);
      expect(plan.live!.nextCutAfterMs).toBe(firstLiveCut.minTime + 1.5 * BLOCK);
      liveNeedsUploads.add(plan.live!.waitForUploads);
    }
    // After 6 h of history the first live cut always deletes the oldest block still on disk
    // (the count is cumulative: 2 when the backfill itself already deleted one).
    expect([...liveNeedsUploads].sort()).toEqual([1, 2]);
  });

  it('predicts exactly the blocks the reference model cuts: 2 h aligned except the first minTime', () => {
    for (const { offset, plan } of plans) {
      const toMs = CYCLE_START + 10 * HOUR_MS + offset;
      const cut = execute(plan).blocks.map(({ minTime, maxTime }) => ({ minTime, maxTime }));
      expect(plan.blocks, `offset ${offset / 1000}s`).toEqual(cut);
      expect(plan.blocks.length).toBeGreaterThanOrEqual(2);
      expect(plan.blocks[0]!.minTime).toBe(toMs - 6 * HOUR_MS);
      plan.blocks.forEach((b, k) => {
        expect(b.maxTime % BLOCK).toBe(0);
        if (k > 0) expect(b.minTime % BLOCK).toBe(0);
        expect(b.maxTime - b.minTime).toBeLessThanOrEqual(BLOCK);
      });
    }
  });

  it('writes every grid point exactly once, in order, in as few chunks as possible', () => {
    const chunkCounts = new Set<number>();
    for (const { offset, plan } of plans) {
      const toMs = CYCLE_START + 10 * HOUR_MS + offset;
      chunkCounts.add(plan.chunks.length);
      expect(plan.chunks[0]!.fromMs).toBe(toMs - 6 * HOUR_MS);
      expect(plan.chunks.at(-1)!.toMs).toBe(toMs);
      plan.chunks.slice(1).forEach((c, k) => expect(c.fromMs).toBe(plan.chunks[k]!.toMs + STEP));
      // Minimal: one more sample in any chunk but the last would lose a block it cut itself.
      for (let k = 0; k < plan.chunks.length - 1; k++) {
        expect(execute(plan, { extraPointAfterChunk: k }).lostBeforeUpload.length, `offset ${offset / 1000}s chunk ${k}`).toBeGreaterThan(0);
      }
    }
    // Both shapes occur across the cycle: one chunk, and two with a wait for the first upload.
    expect([...chunkCounts].sort()).toEqual([1, 2]);
  });
});

describe('simulateHead', () => {
  it('shows the hazard: 6 h written at once from just before a boundary cuts 3 blocks and deletes the first', () => {
    const from = CYCLE_START - STEP;
    const { cut, deleted } = simulateHead(EMPTY_TSDB, from, from + 6 * HOUR_MS, { blockMs: BLOCK, retentionMs: RETENTION });
    expect(cut).toEqual([
      { minTime: from, maxTime: CYCLE_START },
      { minTime: CYCLE_START, maxTime: CYCLE_START + BLOCK },
      { minTime: CYCLE_START + BLOCK, maxTime: CYCLE_START + 2 * BLOCK },
    ]);
    expect(deleted).toEqual([cut[0]]);
  });

  it('the plan for that case waits for the first upload before the chunk that deletes it', () => {
    const plan = sixHoursEndingAt(CYCLE_START - STEP + 6 * HOUR_MS);
    expect(plan.chunks.map((c) => [c.waitForUploadsBefore, c.blocksCutAfter.length, c.blocksDeletedAfter.length])).toEqual([
      [0, 2, 0],
      [1, 1, 1],
    ]);
    // The first chunk ends where the head spans exactly 1.5 block ranges: one more sample would cut.
    expect(plan.chunks[0]!.toMs).toBe(CYCLE_START + BLOCK + 1.5 * BLOCK);
  });

  it('retention 0 disables deletion, as in Prometheus', () => {
    const { deleted } = simulateHead(EMPTY_TSDB, 0, 24 * HOUR_MS, { blockMs: BLOCK, retentionMs: 0 });
    expect(deleted).toEqual([]);
  });
});
