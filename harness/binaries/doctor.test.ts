import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cachePaths } from './cache.ts';
import { checkNode, doctor, formatDoctorReport, isAtLeast } from './doctor.ts';
import { writeFakeBinary } from './testdata/fake-binaries.ts';
import { tempDir } from './testdata/temp-dir.ts';
import { pinnedVersion } from './versions.ts';

describe('doctor', () => {
  it('shows each binary with its pin, what it reports, and where it comes from', async () => {
    const env = { THANOS_HA_E2E_CACHE: await tempDir('cache'), PATH: process.env.PATH };
    const prometheus = pinnedVersion('prometheus').version;
    await writeFakeBinary(cachePaths('prometheus', prometheus, env).binary, `prometheus, version ${prometheus} (fake)`);
    const override = await writeFakeBinary(join(await tempDir('bin'), 'thanos'), 'thanos, version 0.1.0 (fake)');

    const report = await doctor({ env: { ...env, THANOS_BIN: override } });

    expect(report.rows.find((row) => row.binary === 'thanos')).toMatchObject({ source: 'env', found: '0.1.0', mismatch: true });
    expect(report.rows.find((row) => row.binary === 'prometheus')).toMatchObject({ source: 'cache', found: prometheus, mismatch: false });
    expect(report.rows.find((row) => row.binary === 'versitygw')?.error).toMatch(/not provisioned.*run: node harness\/cli\.ts setup$/);
    expect(report.rows.find((row) => row.binary === 'kind')).toMatchObject({ pinned: pinnedVersion('kind').version, source: undefined });
    expect(report.rows.find((row) => row.binary === 'kind')?.error).toMatch(/^kind \S+ is not provisioned \(KIND_BIN unset, /);
    expect(report.ok).toBe(false); // versitygw & co. are missing

    const text = formatDoctorReport(report);
    expect(text).toMatch(/^binary +pinned +found +source +path$/m);
    expect(text).toContain(`warning: thanos reports 0.1.0, but ${pinnedVersion('thanos').version} is pinned`);
    expect(text).toMatch(/^versitygw +\S+ +- +MISSING +versitygw .* is not provisioned/m);
    expect(text).toMatch(/^node +ok +v\d+/m);
    expect(text).toMatch(/^doctor: not ready/m);
  });

  it('compares versions numerically', () => {
    expect(isAtLeast('22.18.0', '22.18.0')).toBe(true);
    expect(isAtLeast('22.9.1', '22.18.0')).toBe(false);
    expect(isAtLeast('24.0.0', '22.18.0')).toBe(true);
    expect(isAtLeast('1.26.8', '1.26.0')).toBe(true);
    expect(isAtLeast('1.25', '1.26.0')).toBe(false);
    expect(checkNode('20.19.0').status).toBe('fail');
  });
});
