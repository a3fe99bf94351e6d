// The harness's own small Go programs (the local cluster's probe, the workload relay), each built
// static into a FROM-scratch image. The binary is cached by the hash of its source.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { cacheRoot, removeWorkDir, type Env } from '../binaries/cache.ts';
import { withFileLock } from '../binaries/lock.ts';
import { IMAGE_REPOSITORY } from './components.ts';
import { buildImage, type BuiltImage } from './image.ts';

export interface GoTool {
  /** Binary and image name: thanos-ha-e2e/<name>:1. */
  name: string;
  /** Path of its single main.go (standard library only). */
  source: string;
}

export function goToolImageTag(name: string): string {
  return `${IMAGE_REPOSITORY}/${name}:1`;
}

export async function buildGoToolBinary(tool: GoTool, env: Env, progress: (line: string) => void): Promise<string> {
  const source = await readFile(tool.source, 'utf8');
  const id = `${tool.name}-${createHash('sha256').update(source).digest('hex').slice(0, 12)}`;
  const binDir = join(cacheRoot(env), 'bin');
  const binary = join(binDir, id, tool.name);
  if (await isFile(binary)) return binary;
  await mkdir(binDir, { recursive: true });
  await withFileLock(join(binDir, `${id}.lock`), async () => {
    if (await isFile(binary)) return;
    progress(`building ${tool.name} (a few seconds)`);
    const workDir = join(cacheRoot(env), 'work', `${id}.${process.pid}`);
    try {
      await mkdir(workDir, { recursive: true });
      await writeFile(join(workDir, 'go.mod'), `module ${tool.name}\n\ngo 1.22\n`);
      await writeFile(join(workDir, 'main.go'), source);
      const built = await execa('nice', ['-n', '19', 'go', 'build', '-trimpath', '-buildvcs=false', '-ldflags=-s -w', '-o', tool.name, '.'], {
        cwd: workDir,
        env: { ...env, GOWORK: 'off', CGO_ENABLED: '0', GOFLAGS: '' },
        reject: false,
        all: true,
        stdin: 'ignore',
      });
      if (built.exitCode !== 0) throw new Error(`go build of ${tool.name} failed: ${(built.all ?? '').trim().split('\n').at(-1)}`);
      await mkdir(dirname(binary), { recursive: true });
      await rename(join(workDir, tool.name), binary);
    } finally {
      await removeWorkDir(workDir);
    }
  });
  return binary;
}

export async function buildGoToolImage(tool: GoTool, opts: { env?: Env; onProgress?: (line: string) => void } = {}): Promise<BuiltImage> {
  const env = opts.env ?? process.env;
  const progress = opts.onProgress ?? (() => {});
  const binary = await buildGoToolBinary(tool, env, progress);
  return buildImage({ tag: goToolImageTag(tool.name), files: { [`/${tool.name}`]: binary }, entrypoint: [`/${tool.name}`] }, { env, onProgress: progress });
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}
