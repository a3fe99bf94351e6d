import { describe, expect, it } from 'vitest';
import { estimate, MEMORY_HEADROOM_BYTES, memAvailable, parsePoints, remainingTime, wontFit, type PointCost } from './plan.ts';

const GiB = 2 ** 30;

describe('the sweep plan', () => {
  it('reads the points ascending and refuses a bad or repeated one in one line', () => {
    expect(parsePoints('100k,1k,10k')).toEqual([1_000, 10_000, 100_000]);
    expect(() => parsePoints('1k,abc')).toThrow(/^--series abc: give a series count/);
    expect(() => parsePoints('1k,1000')).toThrow('--series 1k,1000: a series count is given twice');
  });

  it('estimates a cost from the measured points: in proportion to one, along the fitted line through more', () => {
    const one: PointCost[] = [{ series: 1_000, peakBytes: 2 * GiB, seconds: 60 }];
    expect(estimate(one, 10_000, (p) => p.peakBytes)).toBe(20 * GiB);
    const two: PointCost[] = [...one, { series: 10_000, peakBytes: 3 * GiB, seconds: 150 }];
    // 2 GiB + 1 GiB per 9000 series: 100k -> 2 + 99000/9000 = 13 GiB.
    expect(estimate(two, 100_000, (p) => p.peakBytes)! / GiB).toBeCloseTo(13, 9);
    expect(estimate([], 5, (p) => p.seconds)).toBeUndefined();
  });

  it('skips a point that would not fit with the headroom kept free, saying what it would need', () => {
    const measured: PointCost[] = [
      { series: 1_000, peakBytes: 2 * GiB, seconds: 60 },
      { series: 10_000, peakBytes: 3 * GiB, seconds: 150 },
    ];
    expect(wontFit(measured, 100_000, 13.1 * GiB + MEMORY_HEADROOM_BYTES)).toBeUndefined();
    expect(wontFit(measured, 100_000, 12.9 * GiB + MEMORY_HEADROOM_BYTES)).toMatch(/^skipped 100,000 series: it would need about 13.0 GiB/);
    expect(wontFit(measured, 1_000_000, 22 * GiB)).toBe(
      'skipped 1,000,000 series: it would need about 113.0 GiB (from 1,000: 2.0 GiB, 10,000: 3.0 GiB), and 22.0 GiB is available with 2.0 GiB kept free',
    );
    expect(wontFit([], 1_000_000, 1 * GiB)).toBeUndefined(); // nothing measured yet: the first point runs, watched
  });

  it('estimates the time left from the points measured', () => {
    expect(remainingTime([], [1000])).toBeUndefined();
    expect(remainingTime([{ series: 1_000, peakBytes: 0, seconds: 282 }], [10_000, 100_000])).toBe('at least 9 min left');
    expect(remainingTime([{ series: 1_000, peakBytes: 0, seconds: 60 }, { series: 10_000, peakBytes: 0, seconds: 150 }], [100_000])).toBe('about 18 min left');
  });

  it('reads MemAvailable', () => {
    expect(memAvailable('MemTotal:       24000000 kB\nMemAvailable:   20000000 kB\n')).toBe(20_000_000 * 1024);
    expect(() => memAvailable('MemTotal: 1 kB')).toThrow('/proc/meminfo has no MemAvailable line');
  });
});
