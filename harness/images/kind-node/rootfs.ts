// The node's base root file system: Debian bookworm by debootstrap (minbase plus what a node needs),
// kept as one tar under <cache>/kind-node/ and named by the hash of the recipe, so a second build
// reuses it. Root only (debootstrap chroots and makes device nodes).
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { cacheRoot, type Env } from '../../binaries/cache.ts';
import { formatElapsed } from '../../binaries/go-build.ts';
import { withFileLock } from '../../binaries/lock.ts';
import { lastLine } from '../image.ts';

export const ROOTFS_SUITE = 'bookworm';

/**
 * What a node runs besides the Go-built parts: systemd as PID 1, the tools kubelet, kubeadm's
 * preflight and kube-proxy call (iptables, conntrack, ethtool, socat, nsenter/mount from util-linux,
 * ip/tc), and what kind itself runs inside a node (bash, cat, cp, mkdir, pgrep from procps).
 */
export const ROOTFS_PACKAGES = [
  'systemd',
  'systemd-sysv',
  'dbus',
  'bash',
  'ca-certificates',
  'iptables',
  'ebtables',
  'conntrack',
  'ethtool',
  'socat',
  'mount',
  'util-linux',
  'iproute2',
  'procps',
  'kmod',
  'libseccomp2',
  'pigz',
  'less',
  // a static shell and coreutils for local-path-provisioner's helper image (index.ts), not for the node
  'busybox-static',
];

export function rootfsMirror(env: Env): string {
  return env.THANOS_HA_E2E_DEBIAN_MIRROR || 'http://deb.debian.org/debian';
}

export function rootfsId(env: Env): string {
  const hash = createHash('sha256').update(JSON.stringify({ suite: ROOTFS_SUITE, packages: ROOTFS_PACKAGES, variant: 'minbase', mirror: rootfsMirror(env) })).digest('hex');
  return `debian-${ROOTFS_SUITE}-${hash.slice(0, 12)}`;
}

/** The base rootfs tar (built where missing): <cache>/kind-node/<id>.tar */
export async function ensureRootfs(opts: { env?: Env; onProgress?: (line: string) => void } = {}): Promise<string> {
  const env = opts.env ?? process.env;
  const progress = opts.onProgress ?? (() => {});
  const dir = join(cacheRoot(env), 'kind-node');
  const id = rootfsId(env);
  const tar = join(dir, `${id}.tar`);
  if (await isFile(tar)) return tar;
  await mkdir(dir, { recursive: true });
  return withFileLock(join(dir, `${id}.lock`), async () => {
    if (await isFile(tar)) return tar;
    if (process.getuid?.() !== 0) throw new Error('building the kind node rootfs needs root (debootstrap)');
    if ((await execa('sh', ['-c', 'command -v debootstrap'], { reject: false })).exitCode !== 0) {
      progress('debootstrap is not installed: apt-get install -y debootstrap');
      const installed = await execa('apt-get', ['install', '-y', '--no-install-recommends', 'debootstrap'], { env: { ...env, DEBIAN_FRONTEND: 'noninteractive' }, reject: false, all: true, stdin: 'ignore' });
      if (installed.exitCode !== 0) throw new Error(`apt-get install debootstrap failed: ${lastLine(installed.all)}`);
    }
    const work = join(cacheRoot(env), 'work', `${id}.${process.pid}`);
    const log = join(cacheRoot(env), 'logs', `${id}.debootstrap.log`);
    await mkdir(join(cacheRoot(env), 'logs'), { recursive: true });
    await rm(work, { recursive: true, force: true });
    const started = Date.now();
    progress(`debootstrap ${ROOTFS_SUITE} (minbase + ${ROOTFS_PACKAGES.length} packages) from ${rootfsMirror(env)}: a few minutes (log: ${log})`);
    const ticker = setInterval(() => progress(`  still bootstrapping: ${formatElapsed(Date.now() - started)} elapsed`), 30_000);
    try {
      const boot = await execa(
        'nice',
        ['-n', '10', 'debootstrap', '--variant=minbase', `--include=${ROOTFS_PACKAGES.join(',')}`, ROOTFS_SUITE, join(work, 'rootfs'), rootfsMirror(env)],
        { env, reject: false, all: true, stdin: 'ignore' },
      );
      await execa('sh', ['-c', `cat > ${JSON.stringify(log)}`], { input: boot.all ?? '', reject: false });
      if (boot.exitCode !== 0) throw new Error(`debootstrap failed (exit ${boot.exitCode}): ${lastLine(boot.all)} (log: ${log})`);
      // Package caches and lists are not needed in a node: smaller image.
      await execa('sh', ['-c', 'rm -rf var/cache/apt/archives/*.deb var/lib/apt/lists/* var/log/*.log usr/share/doc/* usr/share/man/* usr/share/locale/*'], { cwd: join(work, 'rootfs') });
      const partial = `${tar}.${process.pid}.partial`;
      const packed = await execa('tar', ['--numeric-owner', '--xattrs', '-C', join(work, 'rootfs'), '-cf', partial, '.'], { reject: false, all: true, stdin: 'ignore' });
      if (packed.exitCode !== 0) throw new Error(`tar of the rootfs failed: ${lastLine(packed.all)}`);
      await rename(partial, tar);
      progress(`rootfs ${id} ready in ${formatElapsed(Date.now() - started)}`);
      return tar;
    } finally {
      clearInterval(ticker);
      await rm(work, { recursive: true, force: true });
    }
  }, { onWait: (pid) => progress(`waiting for another process (pid ${pid}) that is bootstrapping ${id}`) });
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}
