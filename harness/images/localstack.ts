// A LocalStack image where none can be pulled: the pinned runtime (fixtures/versions.json
// "localstack": localstack-core from PyPI) in a Debian trixie root file system, whose Python 3.13 it
// needs, built here as the kind node image is (debootstrap, then `docker import`; no registry, no
// base image). Tagged thanos-ha-e2e/localstack:<pin>; kind and k3s run it through the same
// LocalStack path as localstack/localstack:<tag> (substrates/kind, substrates/k3s), chosen by
// chooseLocalstackImage below.
//
//   node harness/cli.ts images localstack     root; a few minutes cold, seconds when up to date
//
// The recipe's hash is the image's content label: an unchanged recipe is not rebuilt. The pip
// install runs inside the new root file system (chroot) with the host's resolver and CA bundle,
// which are removed again before the image is made.
import { createHash } from 'node:crypto';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { cacheRoot, type Env } from '../binaries/cache.ts';
import { formatElapsed } from '../binaries/go-build.ts';
import { localstackPin, pipFailure, requirement, type LocalstackPin } from '../binaries/localstack.ts';
import { withFileLock } from '../binaries/lock.ts';
import { CONTENT_LABEL, imageExists, imageLabel, lastLine, pullImage, pullTimeoutMs } from './image.ts';
import { ensureDocker } from './docker.ts';

export const LOCALSTACK_IMAGE_SUITE = 'trixie';
/** python3 is 3.13 in trixie; the venv module and the CA bundle besides. */
export const LOCALSTACK_IMAGE_PACKAGES = ['python3', 'python3-venv', 'ca-certificates'];
const VENV = '/opt/localstack';
const PORT = 4566;

/** The tag of the image built here: thanos-ha-e2e/localstack:2026.3.0 */
export function builtLocalstackImage(pin: LocalstackPin = localstackPin()): string {
  return `thanos-ha-e2e/localstack:${pin.version}`;
}

function mirror(env: Env): string {
  return env.THANOS_HA_E2E_DEBIAN_MIRROR || 'http://deb.debian.org/debian';
}

/** What the container runs with, beside what the substrate passes (SERVICES, credentials). */
export const IMAGE_ENV: Record<string, string> = {
  GATEWAY_LISTEN: `0.0.0.0:${PORT}`,
  SERVICES: 's3',
  DNS_ADDRESS: '0',
  SKIP_SSL_CERT_DOWNLOAD: '1',
  DISABLE_EVENTS: '1',
  PYTHONUNBUFFERED: '1',
};

export function recipeHash(pin: LocalstackPin, env: Env): string {
  return createHash('sha256')
    .update(JSON.stringify({ suite: LOCALSTACK_IMAGE_SUITE, packages: LOCALSTACK_IMAGE_PACKAGES, mirror: mirror(env), requirement: requirement(pin), pip: pin.pip, uploadedPriorTo: pin.uploadedPriorTo, env: IMAGE_ENV, venv: VENV }))
    .digest('hex');
}

/** `docker import --change` instructions of the image. */
export function localstackImageChanges(hash: string): string[] {
  return [
    `ENTRYPOINT ${JSON.stringify([`${VENV}/bin/python`, '-m', 'localstack.runtime.main'])}`,
    `EXPOSE ${PORT}`,
    ...Object.entries(IMAGE_ENV).map(([k, v]) => `ENV ${k}=${v}`),
    `LABEL ${CONTENT_LABEL}=${JSON.stringify(hash)}`,
  ];
}

export type LocalstackImageChoice = { image: string; how: string; why?: undefined } | { image?: undefined; why: string };

/**
 * The LocalStack image a Docker substrate runs when LocalStack is asked for: THANOS_HA_E2E_LOCALSTACK_IMAGE
 * if set; else the pinned upstream image (localstack/localstack:4.14.0) where the engine has it or can
 * pull it; else the one built here from the pinned runtime. Otherwise why not, in one line.
 */
export async function chooseLocalstackImage(env: Env, opts: { pull: boolean; onProgress?: (line: string) => void }): Promise<LocalstackImageChoice> {
  const pin = localstackPin();
  const pullable = async (image: string): Promise<string | undefined> => {
    if (await imageExists(image, env)) return undefined;
    if (!opts.pull) return 'not in the local Docker engine, not pulled by this check';
    opts.onProgress?.(`pulling ${image} (at most ${Math.round(pullTimeoutMs(env) / 1000)}s)`);
    return pullImage(image, { env, timeoutMs: pullTimeoutMs(env) });
  };
  const override = env.THANOS_HA_E2E_LOCALSTACK_IMAGE;
  if (override) {
    const why = await pullable(override);
    return why ? { why: `THANOS_HA_E2E_LOCALSTACK_IMAGE=${override} is neither in the local Docker engine nor pullable (${why})` } : { image: override, how: 'THANOS_HA_E2E_LOCALSTACK_IMAGE' };
  }
  const upstream = await pullable(pin.image);
  if (!upstream) return { image: pin.image, how: 'the pinned upstream image' };
  const built = builtLocalstackImage(pin);
  if (await imageExists(built, env)) return { image: built, how: `built here from localstack-core ${pin.version}, since ${pin.image} cannot be had (${upstream})` };
  return { why: `${pin.image} is neither in the local Docker engine nor pullable (${upstream}), and ${built} is not built: node harness/cli.ts images localstack builds it (root)` };
}

/** Builds thanos-ha-e2e/localstack:<pin> unless it is up to date. Root (debootstrap, chroot). */
export async function buildLocalstackImage(opts: { env?: Env; onProgress?: (line: string) => void } = {}): Promise<{ tag: string; rebuilt: boolean; ms: number }> {
  const env = opts.env ?? process.env;
  const progress = opts.onProgress ?? (() => {});
  const pin = localstackPin();
  const tag = builtLocalstackImage(pin);
  const started = Date.now();
  await ensureDocker({ env, onProgress: progress });
  const hash = recipeHash(pin, env);
  if ((await imageLabel(tag, CONTENT_LABEL, env)) === hash) return { tag, rebuilt: false, ms: Date.now() - started };
  if (process.getuid?.() !== 0) throw new Error(`building ${tag} needs root (debootstrap and chroot): run node harness/cli.ts images localstack as root, or docker load a LocalStack image and set THANOS_HA_E2E_LOCALSTACK_IMAGE`);
  const dir = join(cacheRoot(env), 'localstack-image');
  await mkdir(dir, { recursive: true });
  await mkdir(join(cacheRoot(env), 'logs'), { recursive: true });
  return withFileLock(
    join(dir, 'build.lock'),
    async () => {
      if ((await imageLabel(tag, CONTENT_LABEL, env)) === hash) return { tag, rebuilt: false, ms: Date.now() - started };
      if ((await execa('sh', ['-c', 'command -v debootstrap'], { reject: false })).exitCode !== 0) {
        progress('debootstrap is not installed: apt-get install -y debootstrap');
        const installed = await execa('apt-get', ['install', '-y', '--no-install-recommends', 'debootstrap'], { env: { ...env, DEBIAN_FRONTEND: 'noninteractive' }, reject: false, all: true, stdin: 'ignore' });
        if (installed.exitCode !== 0) throw new Error(`apt-get install debootstrap failed: ${lastLine(installed.all)}`);
      }
      const work = join(cacheRoot(env), 'work', `localstack-image.${process.pid}`);
      const rootfs = join(work, 'rootfs');
      const log = join(cacheRoot(env), 'logs', `localstack-image-${pin.version}.log`);
      await rm(work, { recursive: true, force: true });
      await mkdir(work, { recursive: true });
      const ticker = setInterval(() => progress(`  still building ${tag}: ${formatElapsed(Date.now() - started)} elapsed`), 30_000);
      const step = async (what: string, file: string, args: string[], extraEnv: Env = {}) => {
        const result = await execa('nice', ['-n', '19', file, ...args], { env: { ...env, ...extraEnv }, reject: false, all: true, stdin: 'ignore', timeout: 30 * 60_000 });
        await writeFile(log, `$ ${file} ${args.join(' ')}\n${result.all ?? ''}\n`, { flag: 'a' });
        if (result.exitCode !== 0) throw Object.assign(new Error(`${what} failed (exit ${result.exitCode}): ${lastLine(result.all)} (log: ${log})`), { output: result.all ?? '' });
        return result.all ?? '';
      };
      try {
        await writeFile(log, '');
        progress(`building ${tag}: debootstrap ${LOCALSTACK_IMAGE_SUITE} (minbase + ${LOCALSTACK_IMAGE_PACKAGES.join(', ')}) from ${mirror(env)}, then ${requirement(pin)} from PyPI (log: ${log})`);
        await step('debootstrap', 'debootstrap', ['--variant=minbase', `--include=${LOCALSTACK_IMAGE_PACKAGES.join(',')}`, LOCALSTACK_IMAGE_SUITE, rootfs, mirror(env)]);
        // pip reaches PyPI from inside the chroot with the host's resolver and CA bundle, which may hold
        // a CA the image's own bundle lacks (pip verifies through the system store too): both are put
        // back as the image had them before it is made.
        const bundle = join(rootfs, 'etc', 'ssl', 'certs', 'ca-certificates.crt');
        await copyFile(bundle, `${bundle}.image`);
        await copyFile(env.PIP_CERT || '/etc/ssl/certs/ca-certificates.crt', bundle);
        await copyFile('/etc/resolv.conf', join(rootfs, 'etc', 'resolv.conf'));
        const pipEnv: Env = { PIP_CERT: '/etc/ssl/certs/ca-certificates.crt', SSL_CERT_FILE: '/etc/ssl/certs/ca-certificates.crt', PIP_FIND_LINKS: '', PIP_NO_CACHE_DIR: '1', PIP_DISABLE_PIP_VERSION_CHECK: '1', HOME: '/root', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };
        const inRoot = (what: string, args: string[]) =>
          step(what, 'chroot', [rootfs, ...args], pipEnv).catch((error: Error & { output?: string }) => {
            throw /pip install/.test(what) ? new Error(`${pipFailure(error.output ?? error.message, pin)} (log: ${log})`) : error;
          });
        await inRoot('python3 -m venv', ['/usr/bin/python3', '-m', 'venv', VENV]);
        const net = ['--retries', '2', '--timeout', '30'];
        await inRoot(`pip install pip==${pin.pip}`, [`${VENV}/bin/python`, '-m', 'pip', 'install', ...net, `pip==${pin.pip}`]);
        await inRoot('pip install localstack-core', [`${VENV}/bin/python`, '-m', 'pip', 'install', ...net, '--uploaded-prior-to', pin.uploadedPriorTo, requirement(pin)]);
        await execa('sh', ['-c', 'mv etc/ssl/certs/ca-certificates.crt.image etc/ssl/certs/ca-certificates.crt && : > etc/resolv.conf && rm -rf root/.cache var/cache/apt/archives/*.deb var/lib/apt/lists/* usr/share/doc/* usr/share/man/* usr/share/locale/* && mkdir -p var/lib/localstack'], { cwd: rootfs });
        const rootfsTar = join(work, 'rootfs.tar');
        await step('tar', 'tar', ['--numeric-owner', '-C', rootfs, '-cf', rootfsTar, '.']);
        await step('docker import', 'docker', ['import', ...localstackImageChanges(hash).flatMap((c) => ['--change', c]), rootfsTar, tag]);
        progress(`${tag} built in ${formatElapsed(Date.now() - started)}`);
        return { tag, rebuilt: true, ms: Date.now() - started };
      } finally {
        clearInterval(ticker);
        await rm(work, { recursive: true, force: true });
      }
    },
    { onWait: (pid) => progress(`waiting for another process (pid ${pid}) that is building ${tag}`) },
  );
}
