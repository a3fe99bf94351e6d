import { describe, expect, it } from 'vitest';
import { arch1 } from '../presets/arch1.ts';
import { parseSeries, seriesFromEnv, withSeries } from './series-override.ts';

describe('--series', () => {
  it('reads plain counts and k/M suffixes', () => {
    expect([parseSeries('10000'), parseSeries('10k'), parseSeries('1M'), parseSeries('1')]).toEqual([10_000, 10_000, 1_000_000, 1]);
  });

  it('refuses what is not a count in one line naming the fix', () => {
    for (const bad of ['0', '-5', '1.5k', 'lots', '20M', '']) {
      expect(() => parseSeries(bad)).toThrow(/^--series .*: give a series count from 1 to 10,000,000, such as 10000, 10k or 1M$/);
    }
    expect(() => seriesFromEnv({ THANOS_HA_E2E_SERIES: 'x' })).toThrow(/^THANOS_HA_E2E_SERIES x: give a series count/);
    expect(seriesFromEnv({})).toBeUndefined();
  });

  it('gives the topology that many series of the cluster shape, and leaves the preset alone', () => {
    const preset = arch1('side-by-side').topology;
    expect(preset.workload).toMatchObject({ series: 10, shape: 'flat' });
    expect(withSeries(preset, 10_000).workload).toMatchObject({ series: 10_000, shape: 'cluster', namespaces: 10, containersPerPod: 2 });
    expect(preset.workload.series).toBe(10);
  });
});
