// An invalid version override is one error for every binary (the versions are read once per process):
// resolveAll and `setup` must report it once, and provision nothing.
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Builder } from './go-build.ts';
import { tempDir } from './testdata/temp-dir.ts';

const CLI = fileURLToPath(new URL('../cli.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// Malformed, so that it fails without asking the Go module proxy (a well-formed version the proxy
// lacks, e.g. 0.41.1, fails the same way after one `go list`).
const BAD = 'THANOS_HA_E2E_THANOS_VERSION="0.41.x" is not a release version';

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

describe('an invalid version override', () => {
  it('fails resolveAll with one line, before anything is provisioned', async () => {
    vi.stubEnv('THANOS_HA_E2E_THANOS_VERSION', '0.41.x');
    vi.resetModules(); // versions.ts reads the environment once per module instance
    const { resolveAll } = await import('./provision.ts');
    const cache = await tempDir('cache');
    const builds: string[] = [];
    const build: Builder = async ({ name }) => {
      builds.push(name);
      throw new Error('must not build');
    };

    const failure = resolveAll({ env: { THANOS_HA_E2E_CACHE: cache, THANOS_HA_E2E_NO_DOWNLOAD: '1', PATH: process.env.PATH }, build });
    await expect(failure).rejects.toThrow(BAD);
    await expect(failure).rejects.toThrow(/^[^\n]+$/);
    expect(builds).toEqual([]);
    expect(await readdir(cache)).toEqual([]);
  });

  it('makes `setup` print it once and exit non-zero', async () => {
    const cache = await tempDir('cache');
    const result = await execa(process.execPath, [CLI, 'setup'], {
      cwd: ROOT,
      env: { THANOS_HA_E2E_THANOS_VERSION: '0.41.x', THANOS_HA_E2E_CACHE: cache, THANOS_HA_E2E_NO_DOWNLOAD: '1' },
      reject: false,
      stdin: 'ignore',
      timeout: 20_000,
    });
    expect(result.exitCode).not.toBe(0);
    const lines = result.stderr.split('\n').filter((line) => line.trim() !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(BAD);
    expect(result.stdout).toBe('');
    expect(await readdir(cache)).toEqual([]);
  });
});
