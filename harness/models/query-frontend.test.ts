import { describe, expect, it } from 'vitest';
import { cacheableSplits, labelsSplits, rangeSplits } from './query-frontend.ts';

const H = 3_600_000;
const T0 = Date.UTC(2026, 11, 2, 4, 0, 0); // on an hour
const step = 15_000;

describe('rangeSplits (the Query Frontend split by interval)', () => {
  it('cuts a range before each hour, each part on the query steps', () => {
    const window = { start: T0 - 30 * 60_000, end: T0 + 2 * H + 10 * 60_000, step };
    expect(rangeSplits(window, H)).toEqual([
      { start: T0 - 30 * 60_000, end: T0 - step },
      { start: T0, end: T0 + H - step },
      { start: T0 + H, end: T0 + 2 * H - step },
      { start: T0 + 2 * H, end: T0 + 2 * H + 10 * 60_000 },
    ]);
  });

  it('keeps the last point of a range ending on the hour in the part before it', () => {
    expect(rangeSplits({ start: T0 - H, end: T0, step }, H)).toEqual([{ start: T0 - H, end: T0 }]);
    expect(rangeSplits({ start: T0 - H, end: T0 + step, step }, H)).toEqual([
      { start: T0 - H, end: T0 - step },
      { start: T0, end: T0 + step },
    ]);
  });

  it('keeps steps that do not divide the hour on the query grid', () => {
    const splits = rangeSplits({ start: T0 - 10 * 60_000, end: T0 + 10 * 60_000, step: 7 * 60_000 }, H);
    expect(splits).toEqual([
      { start: T0 - 10 * 60_000, end: T0 - 3 * 60_000 },
      { start: T0 + 4 * 60_000, end: T0 + 10 * 60_000 },
    ]);
  });

  it('gives an instant range one part', () => {
    expect(rangeSplits({ start: T0, end: T0, step }, H)).toEqual([{ start: T0, end: T0 }]);
  });
});

describe('cacheableSplits and labelsSplits', () => {
  const window = { start: T0 - 6 * H + step, end: T0 + 30_000, step };
  it('leaves out splits that start within the freshness window', () => {
    expect(rangeSplits(window, H)).toHaveLength(7);
    expect(cacheableSplits(window, { splitMs: H, maxFreshnessMs: 0 }, T0 + 30_000)).toBe(7);
    expect(cacheableSplits(window, { splitMs: H, maxFreshnessMs: 60_000 }, T0 + 30_000)).toBe(6);
    expect(cacheableSplits(window, { splitMs: H, maxFreshnessMs: 60_000 }, T0 + 60_000)).toBe(7);
  });

  it('cuts a labels request into pieces of the split interval from its start', () => {
    expect(labelsSplits({ start: T0, end: T0 + 6 * H }, H)).toBe(6);
    expect(labelsSplits({ start: T0, end: T0 + 6 * H + 1 }, H)).toBe(7);
    expect(labelsSplits({ start: T0, end: T0 }, H)).toBe(1);
  });
});
