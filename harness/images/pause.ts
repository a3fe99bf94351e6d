// The pod sandbox ("pause") image, built here from pause/main.go: a static Go binary in an otherwise
// empty image. k3s takes it with `--pause-image thanos-ha-e2e/pause:3.10` (its default,
// rancher/mirrored-pause, comes from a registry this machine cannot reach).
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { cacheRoot, removeWorkDir, type Env } from '../binaries/cache.ts';
import { findGo } from '../binaries/go-build.ts';
import { withFileLock } from '../binaries/lock.ts';
import { buildImage, lastLine, type BuiltImage } from './image.ts';
import { IMAGE_REPOSITORY } from './components.ts';

/** The upstream pause version this stands in for (what Kubernetes 1.33/1.34 default to). */
export const PAUSE_VERSION = '3.10';
export const PAUSE_IMAGE = `${IMAGE_REPOSITORY}/pause:${PAUSE_VERSION}`;

const SOURCE = fileURLToPath(new URL('./pause/main.go', import.meta.url));

/** Builds the pause binary once per source version into <cache>/bin/pause-<hash12>/pause. */
export async function buildPauseBinary(opts: { env?: Env; onProgress?: (line: string) => void } = {}): Promise<string> {
  const env = opts.env ?? process.env;
  const source = await readFile(SOURCE, 'utf8');
  const id = `pause-${createHash('sha256').update(source).digest('hex').slice(0, 12)}`;
  const binary = join(cacheRoot(env), 'bin', id, 'pause');
  if (await isFile(binary)) return binary;

  await mkdir(dirname(dirname(binary)), { recursive: true });
  return withFileLock(join(cacheRoot(env), 'bin', `${id}.lock`), async () => {
    if (await isFile(binary)) return binary;
    const goVersion = await findGo(env);
    opts.onProgress?.(`building the pause binary with ${goVersion} (a few seconds)`);
    const workDir = join(cacheRoot(env), 'work', `${id}.${process.pid}`);
    try {
      await mkdir(workDir, { recursive: true });
      await writeFile(join(workDir, 'go.mod'), 'module pause\n\ngo 1.22\n');
      await writeFile(join(workDir, 'main.go'), source);
      const output = join(workDir, 'pause');
      const build = await execa(
        'nice',
        ['-n', '19', 'go', 'build', '-trimpath', '-buildvcs=false', '-ldflags=-s -w', '-o', output, '.'],
        { cwd: workDir, env: { ...env, GOWORK: 'off', CGO_ENABLED: '0', GOFLAGS: '' }, reject: false, all: true, stdin: 'ignore' },
      );
      if (build.exitCode !== 0) throw new Error(`go build of pause failed (exit ${build.exitCode}): ${lastLine(build.all)}`);
      await mkdir(dirname(binary), { recursive: true });
      await rename(output, binary);
      return binary;
    } finally {
      await removeWorkDir(workDir);
    }
  });
}

export async function buildPauseImage(opts: { env?: Env; onProgress?: (line: string) => void } = {}): Promise<BuiltImage> {
  const binary = await buildPauseBinary(opts);
  return buildImage(
    {
      tag: PAUSE_IMAGE,
      files: { '/pause': binary },
      entrypoint: ['/pause'],
      labels: { 'org.opencontainers.image.title': 'pause', 'org.opencontainers.image.version': PAUSE_VERSION },
    },
    opts,
  );
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}
