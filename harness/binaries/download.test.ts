import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it, onTestFinished } from 'vitest';
import { cachePaths } from './cache.ts';
import { findChecksum, releaseArchive } from './download.ts';
import { GoNotFoundError, type Builder } from './go-build.ts';
import { resolveBinary } from './provision.ts';
import { writeFakeBinary } from './testdata/fake-binaries.ts';
import { tempDir } from './testdata/temp-dir.ts';
import { pinnedVersion } from './versions.ts';

const noGo: Builder = async () => {
  throw new GoNotFoundError('no usable go on PATH');
};

/** Serves the given files on 127.0.0.1; returns the base URL. */
async function serveFiles(files: Record<string, Buffer | string>): Promise<string> {
  const server: Server = createServer((request, response) => {
    const body = files[request.url ?? ''];
    response.writeHead(body === undefined ? 404 : 200).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A port that was just free and is now closed: connecting to it is refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A release archive laid out like the official one, holding a stand-in binary. */
async function fakeReleaseArchive(archiveName: string, memberPath: string, versionLine: string): Promise<Buffer> {
  const dir = await tempDir('release');
  await writeFakeBinary(join(dir, memberPath), versionLine);
  await execa('tar', ['-czf', archiveName, memberPath.split('/')[0]!], { cwd: dir });
  return readFile(join(dir, archiveName));
}

describe('releaseArchive', () => {
  it('knows where each project publishes its archives', () => {
    const at = (name: Parameters<typeof releaseArchive>[0], arch: string) =>
      releaseArchive(name, '1.2.3', 'https://github.com', 'linux', arch);
    expect(at('thanos', 'x64')).toEqual({
      archiveUrl: 'https://github.com/thanos-io/thanos/releases/download/v1.2.3/thanos-1.2.3.linux-amd64.tar.gz',
      checksumsUrl: 'https://github.com/thanos-io/thanos/releases/download/v1.2.3/sha256sums.txt',
      archiveName: 'thanos-1.2.3.linux-amd64.tar.gz',
      memberPath: 'thanos-1.2.3.linux-amd64/thanos',
    });
    expect(at('promtool', 'arm64').archiveUrl).toBe(
      'https://github.com/prometheus/prometheus/releases/download/v1.2.3/prometheus-1.2.3.linux-arm64.tar.gz',
    );
    expect(at('promtool', 'arm64').memberPath).toBe('prometheus-1.2.3.linux-arm64/promtool');
    expect(at('alertmanager', 'x64').memberPath).toBe('alertmanager-1.2.3.linux-amd64/alertmanager');
    expect(at('versitygw', 'x64')).toMatchObject({
      archiveUrl: 'https://github.com/versity/versitygw/releases/download/v1.2.3/versitygw_v1.2.3_Linux_x86_64.tar.gz',
      checksumsUrl: 'https://github.com/versity/versitygw/releases/download/v1.2.3/checksums.txt',
      memberPath: 'versitygw_v1.2.3_Linux_x86_64/versitygw',
    });
    // kind publishes plain binaries, each with its own sha256sum file: nothing to extract.
    expect(at('kind', 'x64')).toEqual({
      archiveUrl: 'https://github.com/kubernetes-sigs/kind/releases/download/v1.2.3/kind-linux-amd64',
      checksumsUrl: 'https://github.com/kubernetes-sigs/kind/releases/download/v1.2.3/kind-linux-amd64.sha256sum',
      archiveName: 'kind-linux-amd64',
    });
    expect(releaseArchive('kind', '1.2.3', 'https://github.com', 'darwin', 'arm64').archiveName).toBe('kind-darwin-arm64');
    expect(() => releaseArchive('thanos', '1.2.3', 'https://github.com', 'linux', 'ia32')).toThrow('no release archive for linux-ia32');
  });

  it('finds a checksum in a sha256sums file', () => {
    const sums = `${'a'.repeat(64)}  other.tar.gz\n${'B'.repeat(64)} *thanos.tar.gz\n`;
    expect(findChecksum(sums, 'thanos.tar.gz')).toBe('b'.repeat(64));
    expect(findChecksum(sums, 'missing.tar.gz')).toBeUndefined();
  });
});

describe('resolveBinary: download step', () => {
  it('downloads, verifies and extracts the release archive', async () => {
    const version = pinnedVersion('thanos').version;
    const archive = releaseArchive('thanos', version, '');
    const bytes = await fakeReleaseArchive(archive.archiveName, archive.memberPath!, `thanos, version ${version} (fake)`);
    const sha = createHash('sha256').update(bytes).digest('hex');
    const baseUrl = await serveFiles({
      [new URL(archive.checksumsUrl, 'http://x').pathname]: `${sha}  ${archive.archiveName}\n`,
      [new URL(archive.archiveUrl, 'http://x').pathname]: bytes,
    });
    const env = { THANOS_HA_E2E_CACHE: await tempDir('cache'), PATH: process.env.PATH };

    const resolved = await resolveBinary('thanos', { env, releaseBaseUrl: baseUrl, build: noGo });
    expect(resolved).toMatchObject({ source: 'download', path: cachePaths('thanos', version, env).binary, reportedVersion: version });
  });

  it('downloads and verifies a plain release binary (kind), asking it `kind version`', async () => {
    const version = pinnedVersion('kind').version;
    const release = releaseArchive('kind', version, '');
    // Answers only `kind version`, as kind does, so that the pin's versionArgs are what is asked.
    const bytes = Buffer.from(`#!/bin/sh\n[ "$1" = version ] && echo 'kind v${version} go1.26.8 linux/amd64' || exit 1\n`);
    const sha = createHash('sha256').update(bytes).digest('hex');
    const baseUrl = await serveFiles({
      [new URL(release.checksumsUrl, 'http://x').pathname]: `${sha}  ${release.archiveName}\n`, // as `shasum -a 256 kind-linux-amd64` writes it
      [new URL(release.archiveUrl, 'http://x').pathname]: bytes,
    });
    const env = { THANOS_HA_E2E_CACHE: await tempDir('cache'), PATH: process.env.PATH };

    const resolved = await resolveBinary('kind', { env, releaseBaseUrl: baseUrl, build: noGo });
    expect(resolved).toMatchObject({ source: 'download', path: cachePaths('kind', version, env).binary, reportedVersion: version });
    expect(await readFile(resolved.path)).toEqual(bytes);
  });

  it('refuses a plain binary whose checksum does not match', async () => {
    const version = pinnedVersion('kind').version;
    const release = releaseArchive('kind', version, '');
    const baseUrl = await serveFiles({
      [new URL(release.checksumsUrl, 'http://x').pathname]: `${'0'.repeat(64)}  ${release.archiveName}\n`,
      [new URL(release.archiveUrl, 'http://x').pathname]: '#!/bin/sh\n',
    });
    const env = { THANOS_HA_E2E_CACHE: await tempDir('cache'), PATH: process.env.PATH };

    await expect(resolveBinary('kind', { env, releaseBaseUrl: baseUrl, build: noGo })).rejects.toThrow(
      /^kind \S+ is not available: set KIND_BIN=.*\(download: sha256 mismatch for http:\/\/127\.0\.0\.1:\d+\/kubernetes-sigs\/kind\/.*0{64}; build: /,
    );
    expect(existsSync(cachePaths('kind', version, env).binary)).toBe(false);
  });

  it('refuses an archive whose checksum does not match', async () => {
    const version = pinnedVersion('alertmanager').version;
    const archive = releaseArchive('alertmanager', version, '');
    const bytes = await fakeReleaseArchive(archive.archiveName, archive.memberPath!, `alertmanager, version ${version}`);
    const baseUrl = await serveFiles({
      [new URL(archive.checksumsUrl, 'http://x').pathname]: `${'0'.repeat(64)}  ${archive.archiveName}\n`,
      [new URL(archive.archiveUrl, 'http://x').pathname]: bytes,
    });
    const env = { THANOS_HA_E2E_CACHE: await tempDir('cache'), PATH: process.env.PATH };

    await expect(resolveBinary('alertmanager', { env, releaseBaseUrl: baseUrl, build: noGo })).rejects.toThrow(
      /download: sha256 mismatch for http:\/\/127\.0\.0\.1:\d+\/prometheus\/alertmanager\/.*the release publishes 0{64}/,
    );
    expect(existsSync(cachePaths('alertmanager', version, env).binary)).toBe(false);
  });

  it('fails fast where the host is unreachable, then says how to get the binary', async () => {
    const baseUrl = `http://127.0.0.1:${await closedPort()}`;
    const env = { THANOS_HA_E2E_CACHE: await tempDir('cache'), PATH: process.env.PATH };
    const started = Date.now();
    await expect(resolveBinary('thanos', { env, releaseBaseUrl: baseUrl, build: noGo })).rejects.toThrow(
      /^thanos \S+ is not available: set THANOS_BIN=.*\(download: GET http:\/\/127\.0\.0\.1:\d+\/.*: ECONNREFUSED; build: no usable go on PATH\)$/,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('skips the download when THANOS_HA_E2E_NO_DOWNLOAD=1', async () => {
    const env = { THANOS_HA_E2E_CACHE: await tempDir('cache'), PATH: process.env.PATH, THANOS_HA_E2E_NO_DOWNLOAD: '1' };
    await expect(resolveBinary('versitygw', { env, releaseBaseUrl: 'http://127.0.0.1:1', build: noGo })).rejects.toThrow(
      /\(download: downloads disabled by THANOS_HA_E2E_NO_DOWNLOAD; build: /,
    );
  });
});
