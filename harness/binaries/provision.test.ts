import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { cachePaths, type Env } from './cache.ts';
import { GoNotFoundError, type Builder } from './go-build.ts';
import { parseReportedVersion, resolveBinary, type ResolvedBinary } from './provision.ts';
import { slowFakeBuilder, slowFakeBuilderOutput, writeFakeBinary } from './testdata/fake-binaries.ts';
import { tempDir } from './testdata/temp-dir.ts';
import { pinnedVersion } from './versions.ts';

const THANOS = pinnedVersion('thanos').version;
const VERSION_LINE = `thanos, version ${THANOS} (fake)`;

async function isolatedEnv(extra: Env = {}): Promise<Env> {
  return { THANOS_HA_E2E_CACHE: await tempDir('cache'), THANOS_HA_E2E_NO_DOWNLOAD: '1', PATH: process.env.PATH, ...extra };
}

const mustNotBuild: Builder = async () => {
  throw new Error('the builder must not be called here');
};

describe('resolveBinary: environment override', () => {
  it('uses an executable override and reads its real version', async () => {
    const bin = await writeFakeBinary(join(await tempDir('bin'), 'thanos'), 'thanos, version 0.1.0 (branch: main)');
    const resolved = await resolveBinary('thanos', { env: await isolatedEnv({ THANOS_BIN: bin }), build: mustNotBuild });
    expect(resolved).toEqual({ name: 'thanos', path: bin, version: THANOS, reportedVersion: '0.1.0', source: 'env' });
  });

  it('names the variable when the file is missing', async () => {
    const env = await isolatedEnv({ THANOS_BIN: '/nonexistent/thanos' });
    await expect(resolveBinary('thanos', { env })).rejects.toThrow(/^THANOS_BIN=\/nonexistent\/thanos: no such file$/);
  });

  it('names the variable when the file is not executable', async () => {
    const bin = await writeFakeBinary(join(await tempDir('bin'), 'promtool'), 'promtool, version 3.9.1', 0o644);
    const env = await isolatedEnv({ PROMTOOL_BIN: bin });
    await expect(resolveBinary('promtool', { env })).rejects.toThrow(`PROMTOOL_BIN=${bin}: not executable (chmod +x it)`);
  });
});

describe('resolveBinary: cache', () => {
  it('uses a cached binary without downloading or building', async () => {
    const env = await isolatedEnv();
    const cached = await writeFakeBinary(cachePaths('thanos', THANOS, env).binary, VERSION_LINE);
    const resolved = await resolveBinary('thanos', { env, build: mustNotBuild });
    expect(resolved).toMatchObject({ path: cached, source: 'cache', reportedVersion: THANOS });
  });

  it('only looks, and says how to provision, when asked to (doctor)', async () => {
    await expect(resolveBinary('thanos', { env: await isolatedEnv(), lookOnly: true, build: mustNotBuild })).rejects.toThrow(
      /^thanos \S+ is not provisioned \(THANOS_BIN unset, nothing at .*\); run: node harness\/cli.ts setup$/,
    );
  });
});

describe('resolveBinary: build', () => {
  it('builds into the cache by atomic rename and removes its scratch directory', async () => {
    const env = await isolatedEnv();
    const buildsLog = join(env.THANOS_HA_E2E_CACHE!, 'builds.log');
    const resolved = await resolveBinary('thanos', { env, build: slowFakeBuilder(buildsLog, VERSION_LINE, 1) });
    expect(resolved).toMatchObject({ path: cachePaths('thanos', THANOS, env).binary, source: 'go-build', reportedVersion: THANOS });
    expect(await readdir(join(env.THANOS_HA_E2E_CACHE!, 'work'))).toEqual([]);
    expect(existsSync(cachePaths('thanos', THANOS, env).lock)).toBe(false);
  });

  it('says how to get the binary when there is no Go', async () => {
    const env = await isolatedEnv();
    const noGo: Builder = async () => {
      throw new GoNotFoundError('no usable go on PATH');
    };
    const failure = resolveBinary('thanos', { env, build: noGo });
    await expect(failure).rejects.toThrow(/^thanos \S+ is not available: set THANOS_BIN=\/path\/to\/thanos, or install Go >= 1\.26 .*github\.com/);
    await expect(failure).rejects.toThrow(/^[^\n]+$/); // one line
  });

  it('leaves nothing at the final path and releases the lock when the build fails', async () => {
    const env = await isolatedEnv();
    const failing: Builder = async () => {
      throw new Error('go build of thanos failed (exit 1): boom; full log: /x.log');
    };
    await expect(resolveBinary('thanos', { env, build: failing })).rejects.toThrow(/^thanos \S+: go build of thanos failed .*\/x\.log$/);
    const paths = cachePaths('thanos', THANOS, env);
    expect(existsSync(paths.binary)).toBe(false);
    expect(existsSync(paths.lock)).toBe(false);
  });

  it('takes over the lock of a process that died, and clears its scratch directory', async () => {
    const env = await isolatedEnv();
    const dead = execa('true');
    await dead;
    const paths = cachePaths('thanos', THANOS, env);
    await mkdir(join(paths.lock, '..'), { recursive: true });
    await writeFile(paths.lock, `${dead.pid}\n`);
    const leftover = join(paths.workDir, '..', `thanos-${THANOS}.${dead.pid}`);
    await mkdir(join(leftover, 'src'), { recursive: true });

    const progress: string[] = [];
    const buildsLog = join(env.THANOS_HA_E2E_CACHE!, 'builds.log');
    const resolved = await resolveBinary('thanos', { env, build: slowFakeBuilder(buildsLog, VERSION_LINE, 1), onProgress: (l) => progress.push(l) });
    expect(resolved.source).toBe('go-build');
    expect(progress.filter((line) => line.includes('waiting'))).toEqual([]);
    expect(existsSync(leftover)).toBe(false);
  });
});

describe('resolveBinary: two at once', () => {
  it('builds once in one process; the second waits and uses the result; no partial file is ever visible', async () => {
    const env = await isolatedEnv();
    const finalPath = cachePaths('thanos', THANOS, env).binary;
    const complete = slowFakeBuilderOutput(VERSION_LINE);
    const buildsLog = join(env.THANOS_HA_E2E_CACHE!, 'builds.log');
    // 1 s, so that the watcher below gets to look during the build even on a loaded machine.
    const build = slowFakeBuilder(buildsLog, VERSION_LINE, 100);

    // Watch the final path the whole time: it may be absent or complete, never anything in between.
    const seen = new Set<string>();
    const watcher = setInterval(() => {
      readFile(finalPath, 'utf8').then((text) => seen.add(text), () => seen.add('<absent>'));
    }, 2);
    // Either call may win the lock: each gets its own progress log.
    const progress: string[][] = [[], []];
    let results: ResolvedBinary[];
    try {
      results = await Promise.all(
        progress.map((lines) => resolveBinary('thanos', { env, build, onProgress: (line) => lines.push(line) })),
      );
    } finally {
      clearInterval(watcher);
    }

    expect((await readFile(buildsLog, 'utf8')).trim().split('\n')).toHaveLength(1);
    expect(results.map((r) => r.path)).toEqual([finalPath, finalPath]);
    expect(results.map((r) => r.source).sort()).toEqual(['cache', 'go-build']);
    // The one that found the result in the cache is the one that waited, and only it.
    const waited = progress.map((lines) => lines.some((line) => line.startsWith('waiting for another process')));
    expect(waited).toEqual(results.map((r) => r.source === 'cache'));
    expect(await readFile(finalPath, 'utf8')).toBe(complete);
    expect(seen).toContain('<absent>'); // the watcher did run while the build was under way
    expect([...seen].filter((text) => text !== '<absent>' && text !== complete)).toEqual([]);
  });

  it('builds once across two processes', async () => {
    const cacheDir = await tempDir('cache');
    const buildsLog = join(cacheDir, 'builds.log');
    const child = () => execa('node', [join(import.meta.dirname, 'testdata/resolve-in-child.ts'), cacheDir, buildsLog], { all: false });
    const [first, second] = await Promise.all([child(), child()]);

    const builds = (await readFile(buildsLog, 'utf8')).trim().split('\n');
    expect(builds).toHaveLength(1);
    const results = [first, second].map((run) => JSON.parse(run.stdout) as ResolvedBinary);
    expect(results[0]?.path).toBe(results[1]?.path);
    expect(results.map((r) => r.source).sort()).toEqual(['cache', 'go-build']);
    expect(`${first.stderr}${second.stderr}`).toMatch(/waiting for another process \(pid \d+\) that is provisioning thanos/);
    expect(await readFile(results[0]!.path, 'utf8')).toBe(slowFakeBuilderOutput(`thanos, version 0.42.4 (fake)`));
  });
});

describe('parseReportedVersion', () => {
  it.each([
    ['thanos, version 0.42.4 (branch: HEAD, revision: v0.42.4)\n  go version: go1.26.8', '0.42.4'],
    ['prometheus, version 3.9.1 (branch: HEAD, revision: abc)', '3.9.1'],
    ['Version  : 1.8.0\nBuild    : norev', '1.8.0'],
    ['alertmanager, version v0.31.1-rc.0 (branch: x)', '0.31.1-rc.0'],
    // an unstamped `go install` build: no version on the first line, and go1.26.8 further down is not it
    ['thanos, version  (branch: , revision: unknown)\n  go version:       go1.26.8', undefined],
    ['Version  : git\nBuild    : norev', undefined],
    ['', undefined],
  ])('%j → %s', (output, expected) => {
    expect(parseReportedVersion(output)).toBe(expected);
  });
});
