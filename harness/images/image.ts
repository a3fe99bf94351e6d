// Building an image without a registry or a base image: a root file system staged in a directory,
// imported with `docker import` (one layer, FROM scratch in effect), then saved to a tar under the
// cache, which is what k3s loads (`ctr images import`, or its agent/images/ airgap directory).
//
// Every image carries a label with the hash of what went into it; when the label matches, nothing
// is rebuilt, so a second run takes seconds.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { execa } from 'execa';
import { cacheRoot, type Env } from '../binaries/cache.ts';

export const CONTENT_LABEL = 'org.thanos-ha-e2e.content';

export interface ImageSpec {
  /** e.g. thanos-ha-e2e/thanos:0.42.4 */
  tag: string;
  /** Files to put into the image: path inside the image -> path on this machine. */
  files: Record<string, string>;
  /** Extra text files: path inside the image -> content. */
  texts?: Record<string, string>;
  entrypoint: string[];
  cmd?: string[];
  env?: Record<string, string>;
  workdir?: string;
  labels?: Record<string, string>;
}

export interface BuiltImage {
  tag: string;
  /** The `docker save` tar of the image under the cache. */
  tarFile: string;
  contentHash: string;
  /** False when an image with the same content was already there. */
  rebuilt: boolean;
  ms: number;
}

/** sha256 of a file, hex. */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The hash of everything that ends up in the image, so a changed binary or layout means a new image. */
export async function contentHash(spec: ImageSpec): Promise<string> {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ ...spec, files: undefined, tag: undefined }));
  for (const [inside, outside] of Object.entries(spec.files).sort(([a], [b]) => a.localeCompare(b))) {
    hash.update(`${inside}\0${await fileSha256(outside)}\0`);
  }
  return hash.digest('hex');
}

/** The Dockerfile-like instructions `docker import --change` takes for this spec. */
export function importChanges(spec: ImageSpec, hash: string): string[] {
  const changes = [`ENTRYPOINT ${JSON.stringify(spec.entrypoint)}`];
  if (spec.cmd) changes.push(`CMD ${JSON.stringify(spec.cmd)}`);
  if (spec.workdir) changes.push(`WORKDIR ${spec.workdir}`);
  for (const [key, value] of Object.entries(spec.env ?? {})) changes.push(`ENV ${key}=${value}`);
  for (const [key, value] of Object.entries({ ...spec.labels, [CONTENT_LABEL]: hash })) changes.push(`LABEL ${key}=${JSON.stringify(value)}`);
  return changes;
}

/** The value of one label of a local image, or undefined when the image (or label) is absent. */
export async function imageLabel(tag: string, label: string, env: Env = process.env): Promise<string | undefined> {
  const result = await execa('docker', ['image', 'inspect', '--format', `{{ index .Config.Labels ${JSON.stringify(label)} }}`, tag], {
    env,
    reject: false,
    stdin: 'ignore',
  });
  const value = result.stdout?.trim();
  return result.exitCode === 0 && value && value !== '<no value>' ? value : undefined;
}

export async function imageExists(tag: string, env: Env = process.env): Promise<boolean> {
  const result = await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', tag], { env, reject: false, stdin: 'ignore' });
  return result.exitCode === 0;
}

/**
 * Pulls an image from its registry into the local engine, as testcontainers does for an image it does
 * not find. undefined once it is there; otherwise why not, in one line (no registry answers, unknown
 * tag, or no answer within timeoutMs: a blackholed registry must not hold a check up).
 */
export async function pullImage(tag: string, opts: { env?: Env; timeoutMs: number }): Promise<string | undefined> {
  const result = await execa('docker', ['pull', '--quiet', tag], { env: opts.env ?? process.env, reject: false, all: true, stdin: 'ignore', timeout: opts.timeoutMs });
  if (result.timedOut) return `docker pull did not finish within ${Math.round(opts.timeoutMs / 1000)}s`;
  if (result.exitCode !== 0) return `docker pull failed: ${lastLine(result.all) || `exit ${result.exitCode}`}`;
  return undefined;
}

const DEFAULT_PULL_TIMEOUT_S = 300;

/** How long one `docker pull` of an image a substrate needs may take: THANOS_HA_E2E_PULL_TIMEOUT seconds (default 300). */
export function pullTimeoutMs(env: Env = process.env): number {
  const value = env.THANOS_HA_E2E_PULL_TIMEOUT;
  if (value === undefined || value === '') return DEFAULT_PULL_TIMEOUT_S * 1000;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`THANOS_HA_E2E_PULL_TIMEOUT="${value}" is not a number of seconds above 0`);
  return seconds * 1000;
}

/** Where the saved tar of an image goes: <cache>/images/<repo>_<tag>-<hash12>.tar */
export function imageTarPath(tag: string, hash: string, env: Env = process.env): string {
  return join(cacheRoot(env), 'images', `${tarPrefix(tag)}${hash.slice(0, 12)}.tar`);
}

/** <repo>_<tag>- : an image's tar file name up to the content hash, which TAR_SUFFIX matches. */
function tarPrefix(tag: string): string {
  return `${tag.replace(/[/:]/g, '_')}-`;
}
const TAR_SUFFIX = /^[0-9a-f]{12}\.tar$/;

/**
 * The saved tar of an image whose content hash the caller does not know (what `node harness/cli.ts images`
 * or an earlier buildImage wrote): the newest <cache>/images/<repo>_<tag>-<hash12>.tar, or a one-line error.
 */
export async function savedImageTar(tag: string, env: Env = process.env): Promise<string> {
  const dir = join(cacheRoot(env), 'images');
  const prefix = tarPrefix(tag);
  const names = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.startsWith(prefix) && TAR_SUFFIX.test(f.slice(prefix.length)));
  // More than one only while buildImage replaces a tar (removeOlderTars), which may also delete one under us.
  const tars = await Promise.all(names.map(async (f) => ({ path: join(dir, f), mtime: await stat(join(dir, f)).then((st) => st.mtimeMs, () => -1) })));
  const newest = tars.filter((t) => t.mtime >= 0).sort((a, b) => b.mtime - a.mtime)[0];
  if (!newest) throw new Error(`no image tar for ${tag} in ${dir}: run node harness/cli.ts images`);
  return newest.path;
}

/** Builds the image unless one with the same content is already there, and saves its tar to the cache. */
export async function buildImage(
  spec: ImageSpec,
  opts: { env?: Env; onProgress?: (line: string) => void; /** Where the tar goes instead of <cache>/images/ */ tarDir?: string } = {},
): Promise<BuiltImage> {
  const env = opts.env ?? process.env;
  const started = Date.now();
  const hash = await contentHash(spec);
  const tarFile = opts.tarDir ? join(opts.tarDir, basename(imageTarPath(spec.tag, hash, env))) : imageTarPath(spec.tag, hash, env);
  let rebuilt = false;

  if ((await imageLabel(spec.tag, CONTENT_LABEL, env)) !== hash) {
    rebuilt = true;
    const staging = join(cacheRoot(env), 'work', `image-${spec.tag.replace(/[/:]/g, '_')}.${process.pid}`);
    try {
      await stageRootfs(spec, staging);
      const changes = importChanges(spec, hash).flatMap((change) => ['--change', change]);
      // A tar of the staging directory, owned by root inside the image whoever builds it.
      const rootfsTar = `${staging}.tar`;
      const tar = await execa('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', staging, '-cf', rootfsTar, '.'], {
        env,
        reject: false,
        all: true,
        stdin: 'ignore',
      });
      if (tar.exitCode !== 0) throw new Error(`tar of ${spec.tag}'s root file system failed: ${lastLine(tar.all)}`);
      const imported = await execa('docker', ['import', ...changes, rootfsTar, spec.tag], { env, reject: false, all: true, stdin: 'ignore' });
      if (imported.exitCode !== 0) throw new Error(`docker import ${spec.tag} failed: ${lastLine(imported.all)}`);
    } finally {
      await rm(staging, { recursive: true, force: true });
      await rm(`${staging}.tar`, { force: true });
    }
  }

  if (!(await isFile(tarFile))) {
    await mkdir(dirname(tarFile), { recursive: true });
    const partial = `${tarFile}.${process.pid}.partial`;
    const saved = await execa('docker', ['save', '-o', partial, spec.tag], { env, reject: false, stdin: 'ignore', all: true });
    if (saved.exitCode !== 0) {
      await rm(partial, { force: true });
      throw new Error(`docker save ${spec.tag} failed: ${lastLine(saved.all)}`);
    }
    await rename(partial, tarFile); // atomic: a reader never sees a partial tar
    await removeOlderTars(tarFile);
  }
  return { tag: spec.tag, tarFile, contentHash: hash, rebuilt, ms: Date.now() - started };
}

/** Tars of earlier contents of the same tag (a rebuilt binary) are hundreds of MB each: keep only the newest. */
async function removeOlderTars(tarFile: string): Promise<void> {
  const prefix = basename(tarFile).replace(/-[0-9a-f]{12}\.tar$/, '-');
  for (const entry of await readdir(dirname(tarFile))) {
    if (entry.startsWith(prefix) && TAR_SUFFIX.test(entry.slice(prefix.length)) && entry !== basename(tarFile)) {
      await rm(join(dirname(tarFile), entry), { force: true });
    }
  }
}

async function stageRootfs(spec: ImageSpec, dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'tmp'), { recursive: true });
  await chmod(join(dir, 'tmp'), 0o1777);
  for (const [inside, outside] of Object.entries(spec.files)) {
    const target = join(dir, inside);
    await mkdir(dirname(target), { recursive: true });
    const source = await realpath(outside); // libraries are often symlinks: copy what they point at
    await copyFile(source, target);
    await chmod(target, (await stat(source)).mode & 0o777);
  }
  for (const [inside, content] of Object.entries(spec.texts ?? {})) {
    const target = join(dir, inside);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
  }
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}

export function lastLine(text: string | undefined): string {
  const line = (text ?? '').trim().split('\n').at(-1) ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
