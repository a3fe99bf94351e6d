import { describe, expect, it } from 'vitest';
import { arch1 } from '../presets/arch1.ts';
import { churnFromEnv, churnText, parseChurn, parseSeries, seriesFromEnv, withSeries } from './series-override.ts';

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

describe('--churn', () => {
  it('reads a share, as a percentage or a fraction, and a period', () => {
    expect(parseChurn('10%/10m')).toEqual({ fraction: 0.1, period: '10m' });
    expect(parseChurn('0.25/1h')).toEqual({ fraction: 0.25, period: '1h' });
    expect(parseChurn(' 100% / 30s ')).toEqual({ fraction: 1, period: '30s' });
    expect(churnText(parseChurn('12.5%/2h'))).toBe('12.5%/2h');
    expect(churnFromEnv({ THANOS_HA_E2E_CHURN: '5%/15m' })).toEqual({ fraction: 0.05, period: '15m' });
    expect(churnFromEnv({})).toBeUndefined();
  });

  it('refuses what is not a share and a period in one line naming the fix', () => {
    for (const bad of ['10%', '10m', '10%/10', '10%/0m', 'x/10m', '10%/1.5h', '']) {
      expect(() => parseChurn(bad)).toThrow(/^--churn .*: give the share of pods replaced and how often, such as 10%\/10m or 0\.25\/1h \(a share above 0 and at most 100%, a period in whole s, m or h\)$/);
    }
    for (const bad of ['0%/10m', '150%/10m', '1.5/10m']) expect(() => parseChurn(bad)).toThrow(/^--churn .*: the share .* is not above 0 and at most (100%|1); give/);
    expect(() => churnFromEnv({ THANOS_HA_E2E_CHURN: 'x' })).toThrow(/^THANOS_HA_E2E_CHURN x: give the share/);
  });

  it('gives the topology churn beside its series, and refuses a period off its grid', () => {
    const preset = arch1('side-by-side').topology;
    expect(withSeries(preset, 1000, parseChurn('10%/10m')).workload).toMatchObject({ series: 1000, shape: 'cluster', churn: { fraction: 0.1, period: '10m' } });
    expect(withSeries(preset, 1000).workload.churn).toBeUndefined();
    expect(() => withSeries(preset, 1000, parseChurn('10%/20s'))).toThrow(/^--churn 10%\/20s: arch1-side-by-side samples every 15s, and the period must be a multiple of it/);
  });
});
