import { describe, expect, it } from 'vitest';
import { alignDown, alignUp, DEFAULT_WORKLOAD, describeValue, gridPoints, seriesLabels, valueAt } from './series.ts';

const T0 = Date.UTC(2025, 10, 24, 12, 0, 0);
const STEP = DEFAULT_WORKLOAD.stepMs;

describe('valueAt', () => {
  it('is a safe integer, so it is exact in float64 and in every wire format', () => {
    for (const t of gridPoints(T0, T0 + 3_600_000, STEP)) {
      for (let i = 0; i < DEFAULT_WORKLOAD.seriesCount; i++) {
        const v = valueAt(i, t);
        expect(Number.isSafeInteger(v)).toBe(true);
        expect(Number(String(v))).toBe(v);
      }
    }
  });

  it('differs at every grid timestamp of a series over a week, and between series', () => {
    const points = gridPoints(T0, T0 + 7 * 24 * 3_600_000, STEP);
    const seen = new Set<number>();
    for (let i = 0; i < 3; i++) for (const t of points) seen.add(valueAt(i, t));
    expect(seen.size).toBe(3 * points.length);
  });

  it('can be read back into series and second', () => {
    expect(describeValue(valueAt(7, T0))).toEqual({ series: 7, secondsMod: (T0 / 1000) % 1e6 });
    expect(describeValue(1.5)).toBeUndefined();
  });
});

describe('grid helpers', () => {
  it('aligns down and up', () => {
    expect(alignDown(T0 + 14_999, STEP)).toBe(T0);
    expect(alignDown(T0, STEP)).toBe(T0);
    expect(alignUp(T0 + 1, STEP)).toBe(T0 + STEP);
  });

  it('gridPoints includes both aligned ends and only grid timestamps', () => {
    expect(gridPoints(T0, T0 + 30_000, STEP)).toEqual([T0, T0 + 15_000, T0 + 30_000]);
    expect(gridPoints(T0 + 1, T0 + 29_999, STEP)).toEqual([T0 + 15_000]);
    expect(gridPoints(T0 + 1, T0 + 2, STEP)).toEqual([]);
  });

  it('labels carry name, job, instance and series index', () => {
    expect(seriesLabels(DEFAULT_WORKLOAD, 3)).toEqual({
      __name__: 'e2e_workload_value',
      job: DEFAULT_WORKLOAD.job,
      instance: DEFAULT_WORKLOAD.instance,
      series: '3',
    });
  });
});
