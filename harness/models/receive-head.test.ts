import { describe, expect, it } from 'vitest';
import { afterAppend, kept, minValidTimeMs, outOfOrderBlockRanges, outOfOrderCompactedSince, verdictOf, type HeadOptions, type HeadState } from './receive-head.ts';

const H = 3_600_000;
const NOW = 1_800_000_000_000;
const defaults: HeadOptions = { blockMs: 2 * H, outOfOrderWindowMs: 0, tooFarInFutureWindowMs: 0 };

describe("the model of a Receive head's verdict on a sample", () => {
  it('appends in order within half a block of its newest sample, and refuses older ones as out of bounds', () => {
    const head = { maxTimeMs: NOW };
    expect(minValidTimeMs(head, defaults)).toBe(NOW - H);
    expect(verdictOf(NOW - H, NOW, head, defaults)).toBe('appended');
    expect(verdictOf(NOW - H - 1, NOW, head, defaults)).toBe('out-of-bounds');
    expect(verdictOf(NOW - 60_000, NOW, head, defaults, NOW - 30_000)).toBe('out-of-order');
  });

  it('never appends before the end of the last block it cut', () => {
    expect(verdictOf(NOW - 10 * 60_000, NOW, { maxTimeMs: NOW, lastBlockEndMs: NOW - 5 * 60_000 }, defaults)).toBe('out-of-bounds');
  });

  it('#6167 faulty: with no future window a sample 2h ahead is appended, and from then on the present is out of bounds', () => {
    let head: HeadState = { maxTimeMs: NOW };
    const future = verdictOf(NOW + 2 * H, NOW, head, defaults);
    expect(future).toBe('appended');
    head = afterAppend(head, NOW + 2 * H);
    expect(verdictOf(NOW + 15_000, NOW + 15_000, head, defaults, NOW)).toBe('out-of-bounds');
    // ...until the clock passes the future sample minus half a block.
    expect(verdictOf(NOW + H, NOW + H, head, defaults, NOW)).toBe('appended');
  });

  it('#6167 fixed: a 1m future window refuses only the sample from the future', () => {
    const fixed = { ...defaults, tooFarInFutureWindowMs: 60_000 };
    const head = { maxTimeMs: NOW };
    expect(verdictOf(NOW + 2 * H, NOW, head, fixed)).toBe('too-far-in-future');
    expect(verdictOf(NOW + 60_000, NOW, head, fixed)).toBe('appended');
    expect(verdictOf(NOW + 15_000, NOW + 15_000, head, fixed, NOW)).toBe('appended');
  });

  it('with an out-of-order window keeps an old sample back to head max - window, and refuses older ones as too old', () => {
    const ooo = { ...defaults, outOfOrderWindowMs: 2 * H };
    const head = { maxTimeMs: NOW };
    expect(verdictOf(NOW - 90 * 60_000, NOW, head, ooo, NOW - 60_000)).toBe('out-of-order-appended');
    expect(verdictOf(NOW - 2 * H - 1, NOW, head, ooo)).toBe('too-old');
    expect(kept('out-of-order-appended')).toBe(true);
    expect(kept('too-old')).toBe(false);
  });

  it('appends anything to an empty head', () => {
    expect(verdictOf(NOW - 10 * H, NOW, { maxTimeMs: undefined }, defaults)).toBe('appended');
  });
});

describe("the model of where a Receive's out-of-order samples go", () => {
  const M = 60_000;
  const T = Date.UTC(2026, 11, 7, 6);

  it('cuts one block per block-aligned range that holds any of them, and none for a range between', () => {
    expect(outOfOrderBlockRanges([T + 50_000, T + 55_000, T + 57_500, T + 60_000, T + 3 * M], M)).toEqual([
      { minTime: T, maxTime: T + M },
      { minTime: T + M, maxTime: T + 2 * M },
      { minTime: T + 3 * M, maxTime: T + 4 * M },
    ]);
    expect(outOfOrderBlockRanges([], M)).toEqual([]);
  });

  it('knows an out-of-order compaction begun since a reading finished: a new WBL segment, and as many truncations', () => {
    const idle = { segment: 2, truncations: 2 };
    expect(outOfOrderCompactedSince(idle, idle)).toBe(false);
    expect(outOfOrderCompactedSince(idle, { segment: 3, truncations: 2 })).toBe(false); // begun, not finished
    expect(outOfOrderCompactedSince(idle, { segment: 3, truncations: 3 })).toBe(true);
    // One under way when first read (segment cut, no truncation yet): its end alone does not count.
    const busy = { segment: 3, truncations: 2 };
    expect(outOfOrderCompactedSince(busy, { segment: 3, truncations: 3 })).toBe(false);
    expect(outOfOrderCompactedSince(busy, { segment: 4, truncations: 3 })).toBe(false);
    expect(outOfOrderCompactedSince(busy, { segment: 4, truncations: 4 })).toBe(true);
  });
});
