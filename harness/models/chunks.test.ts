import { describe, expect, it } from 'vitest';
import { gridChunks, SAMPLES_PER_CHUNK } from './chunks.ts';
import { HOUR_MS } from '../time.ts';

const STEP = 15_000;
const BLOCK = 2 * HOUR_MS;
const B = Date.UTC(2026, 11, 2, 4); // a 2h boundary
const MIN = 60_000;

describe('Prometheus head chunks on a regular grid', () => {
  it('cuts a whole 2h range of 15s samples into four 30-minute chunks of 120 samples', () => {
    const chunks = gridChunks(B, B + BLOCK, STEP, BLOCK);
    expect(chunks).toEqual([0, 1, 2, 3].map((k) => ({ minTime: B + k * 30 * MIN, maxTime: B + (k + 1) * 30 * MIN - STEP })));
    for (const c of chunks) expect((c.maxTime - c.minTime) / STEP + 1).toBe(SAMPLES_PER_CHUNK);
  });

  it('never lets a chunk span a chunk-range boundary', () => {
    const chunks = gridChunks(B - 50 * MIN, B + 70 * MIN, STEP, BLOCK);
    expect(chunks.some((c) => c.minTime < B && c.maxTime >= B)).toBe(false);
    expect(chunks.find((c) => c.minTime === B)).toBeDefined();
    // Every sample in exactly one chunk, in order.
    const samples = chunks.reduce((n, c) => n + (c.maxTime - c.minTime) / STEP + 1, 0);
    expect(samples).toBe(120 * MIN / STEP);
  });

  it('splits the rest of a partial range into equal chunks, as computeChunkEndTime predicts at 30 samples', () => {
    // 50 minutes before the boundary: 200 samples; at 30 samples n = 3000s/(435s*4) = 1.7 -> one chunk to the boundary.
    expect(gridChunks(B - 50 * MIN, B, STEP, BLOCK)).toEqual([{ minTime: B - 50 * MIN, maxTime: B - STEP }]);
    // 70 minutes: n = 4200/(1740.001) = 2.4 -> two chunks of 35 minutes.
    expect(gridChunks(B - 70 * MIN, B, STEP, BLOCK)).toEqual([
      { minTime: B - 70 * MIN, maxTime: B - 35 * MIN - STEP },
      { minTime: B - 35 * MIN, maxTime: B - STEP },
    ]);
  });

  it('predicts the same way on other grids: 1s samples give chunks of about 116 s', () => {
    // At 30 samples: n = 7200/(29.001*4) = 62.07 -> the first chunk ends 7200/62 = 116.1 s after its start.
    const chunks = gridChunks(B, B + BLOCK, 1000, BLOCK);
    expect(Math.max(...chunks.map((c) => (c.maxTime - c.minTime) / 1000 + 1))).toBeLessThanOrEqual(2 * SAMPLES_PER_CHUNK);
    expect(chunks[0]).toEqual({ minTime: B, maxTime: B + 116_000 });
  });

  it('has no chunks for an empty range', () => {
    expect(gridChunks(B, B, STEP, BLOCK)).toEqual([]);
  });
});
