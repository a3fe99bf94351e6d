// A kind node image built here from upstream parts, for machines where kindest/node cannot be pulled
// (no registry): `node harness/images/kind-node/cli.ts` (README.md). Not part of npm test.
//
//   rootfs.ts   Debian bookworm by debootstrap (systemd + node packages), one cached tar
//   parts.ts    containerd, runc, crictl, CNI plugins, kubeadm/kubelet/kubectl, control-plane
//               binaries, etcd, CoreDNS, pause: Go module proxy, through local-cluster/build.ts
//   files.ts    entrypoint, systemd units, containerd/crictl/CNI config, kind's two manifests
//   here        the control-plane images FROM scratch (image.ts), tagged as kubeadm 1.34 expects
//               them (registry.k8s.io/...), and local-path-provisioner with its busybox helper
//               (thanos-ha-e2e/local-path-*), saved under <cache>/images/kind-node/ and put into the
//               node at /kind/images, which a oneshot unit imports into containerd at first boot;
//               then the node image itself: one `docker import` of the staged tree.
//
// The node image carries a label with the hash of everything in it; when it matches, nothing is
// staged again (a cached build takes seconds). Its `docker save` tar is kept beside the images, so
// a wiped Docker gets it back by `docker load`.
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, readdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { cacheRoot, type Env } from '../../binaries/cache.ts';
import { formatElapsed } from '../../binaries/go-build.ts';
import { withFileLock } from '../../binaries/lock.ts';
import { ensureDocker } from '../docker.ts';
import { buildImage, CONTENT_LABEL, fileSha256, imageLabel, lastLine, type BuiltImage, type ImageSpec } from '../image.ts';
import * as F from './files.ts';
import { ensureNodeParts, NODE_VERSIONS, type NodeParts } from './parts.ts';
import { ensureRootfs, rootfsId } from './rootfs.ts';

export const KIND_NODE_IMAGE = `thanos-ha-e2e/kind-node:v${NODE_VERSIONS.kubernetes}`;

export interface KindNodeImage {
  tag: string;
  tarFile: string;
  contentHash: string;
  rebuilt: boolean;
  images: BuiltImage[];
  ms: number;
}

const PATH_ENV = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function controlPlaneSpecs(parts: NodeParts): ImageSpec[] {
  const v = NODE_VERSIONS;
  const scratch = (tag: string, binary: string, path: string, title: string, version: string): ImageSpec => ({
    tag,
    files: { [path]: binary },
    entrypoint: [path],
    env: { PATH: PATH_ENV },
    labels: { 'org.opencontainers.image.title': title, 'org.opencontainers.image.version': version },
  });
  const k = `v${v.kubernetes}`;
  return [
    scratch(`registry.k8s.io/kube-apiserver:${k}`, parts.kube['kube-apiserver'], '/usr/local/bin/kube-apiserver', 'kube-apiserver', k),
    scratch(`registry.k8s.io/kube-controller-manager:${k}`, parts.kube['kube-controller-manager'], '/usr/local/bin/kube-controller-manager', 'kube-controller-manager', k),
    scratch(`registry.k8s.io/kube-scheduler:${k}`, parts.kube['kube-scheduler'], '/usr/local/bin/kube-scheduler', 'kube-scheduler', k),
    scratch(`registry.k8s.io/etcd:${v.etcdImageTag}`, parts.etcd, '/usr/local/bin/etcd', 'etcd', v.etcd),
    scratch(`registry.k8s.io/coredns/coredns:v${v.coredns}`, parts.coredns, '/coredns', 'coredns', v.coredns),
    scratch(`registry.k8s.io/pause:${v.pauseImageTag}`, parts.pause, '/pause', 'pause', v.pauseImageTag),
    scratch(LOCAL_PATH_IMAGES.provisioner, parts.localPathProvisioner, '/usr/local/bin/local-path-provisioner', 'local-path-provisioner', `v${v.localPathProvisioner}`),
  ];
}

export const LOCAL_PATH_IMAGES = {
  provisioner: `thanos-ha-e2e/local-path-provisioner:v${NODE_VERSIONS.localPathProvisioner}`,
  helper: 'thanos-ha-e2e/local-path-helper:1',
} as const;

/** The helper pod's image: the rootfs's static busybox as the sh, mkdir and rm the setup and teardown scripts run. */
function localPathHelperSpec(rootfs: string): ImageSpec {
  const busybox = join(rootfs, '/bin/busybox');
  return {
    tag: LOCAL_PATH_IMAGES.helper,
    files: { '/bin/sh': busybox, '/bin/mkdir': busybox, '/bin/rm': busybox },
    entrypoint: ['/bin/sh'],
    env: { PATH: '/bin' },
    labels: { 'org.opencontainers.image.title': 'local-path-provisioner helper (busybox from the node rootfs)' },
  };
}

/**
 * kube-proxy (iptables mode) runs iptables-save/-restore and conntrack: its image gets them, with
 * the libraries and xtables modules they load, from the node's own Debian rootfs (nft backend,
 * the same one the node's iptables uses).
 */
async function kubeProxySpec(parts: NodeParts, rootfs: string): Promise<ImageSpec> {
  const k = `v${NODE_VERSIONS.kubernetes}`;
  const files: Record<string, string> = { '/usr/local/bin/kube-proxy': parts.kube['kube-proxy'] };
  const multi = '/usr/sbin/xtables-nft-multi';
  for (const name of ['iptables', 'iptables-save', 'iptables-restore', 'ip6tables', 'ip6tables-save', 'ip6tables-restore']) files[`/usr/sbin/${name}`] = join(rootfs, multi);
  files['/usr/sbin/conntrack'] = join(rootfs, '/usr/sbin/conntrack');
  const xtablesDir = '/usr/lib/x86_64-linux-gnu/xtables';
  const modules = (await readdir(join(rootfs, xtablesDir))).filter((f) => f.endsWith('.so'));
  for (const m of modules) files[`${xtablesDir}/${m}`] = join(rootfs, xtablesDir, m);
  const needLibs = [multi, '/usr/sbin/conntrack', ...modules.map((m) => `${xtablesDir}/${m}`)];
  for (const lib of await chrootLibraries(rootfs, needLibs)) files[lib] = join(rootfs, lib);
  for (const etc of ['/etc/protocols', '/etc/services', '/etc/ethertypes']) if (await isFile(join(rootfs, etc))) files[etc] = join(rootfs, etc);
  return {
    tag: `registry.k8s.io/kube-proxy:${k}`,
    files,
    entrypoint: ['/usr/local/bin/kube-proxy'],
    env: { PATH: PATH_ENV },
    labels: { 'org.opencontainers.image.title': 'kube-proxy', 'org.opencontainers.image.version': k },
  };
}

/** Absolute library paths (inside the rootfs) that `ldd` lists for the given files, run in the rootfs. */
async function chrootLibraries(rootfs: string, paths: string[]): Promise<string[]> {
  const result = await execa('chroot', [rootfs, '/usr/bin/ldd', ...paths], { reject: false, all: true, stdin: 'ignore', env: { ...process.env, LC_ALL: 'C' } });
  const libs = new Set<string>();
  for (const line of (result.all ?? '').split('\n')) {
    if (/not found/.test(line)) throw new Error(`ldd in the node rootfs: ${line.trim()}`);
    const path = /=>\s*(\/\S+)/.exec(line)?.[1] ?? /^\s*(\/\S+)\s+\(0x/.exec(line)?.[1];
    if (path) libs.add(path);
  }
  if (libs.size === 0) throw new Error(`ldd in the node rootfs listed no libraries: ${lastLine(result.all)}`);
  return [...libs].sort();
}

/** Files from this machine, path inside the node -> path here. */
function nodeFiles(parts: NodeParts): Record<string, string> {
  const files: Record<string, string> = {
    '/usr/local/bin/containerd': parts.containerd.containerd,
    '/usr/local/bin/containerd-shim-runc-v2': parts.containerd.shim,
    '/usr/local/bin/ctr': parts.containerd.ctr,
    '/usr/local/sbin/runc': parts.runc,
    '/usr/local/bin/crictl': parts.crictl,
    '/usr/bin/kubeadm': parts.kube.kubeadm,
    '/usr/bin/kubelet': parts.kube.kubelet,
    '/usr/bin/kubectl': parts.kube.kubectl,
  };
  for (const [name, path] of Object.entries(parts.cni)) files[`/opt/cni/bin/${name}`] = path;
  return files;
}

/** Text files: path inside the node -> [content, mode]. */
function nodeTexts(): Record<string, [string, number]> {
  return {
    '/usr/local/bin/thanos-ha-e2e-node-entrypoint': [F.ENTRYPOINT, 0o755],
    '/usr/local/bin/thanos-ha-e2e-import-images': [F.IMPORT_IMAGES, 0o755],
    '/usr/local/bin/thanos-ha-e2e-kubelet-cgroups': [F.KUBELET_CGROUPS, 0o755],
    '/usr/local/bin/thanos-ha-e2e-pod-dns': [F.POD_DNS, 0o755],
    '/etc/systemd/system/containerd.service': [F.CONTAINERD_UNIT, 0o644],
    '/etc/systemd/system/thanos-ha-e2e-images.service': [F.IMPORT_UNIT, 0o644],
    '/etc/systemd/system/kubelet.service': [F.KUBELET_UNIT, 0o644],
    '/etc/systemd/system/kubelet.slice': [F.KUBELET_SLICE, 0o644],
    '/etc/containerd/config.toml': [F.CONTAINERD_CONFIG, 0o644],
    '/etc/crictl.yaml': [F.CRICTL_CONFIG, 0o644],
    '/etc/cni/net.d/10-thanos-ha-e2e.conflist': [F.CNI_CONFIG, 0o644],
    '/kind/manifests/default-cni.yaml': [F.DEFAULT_CNI_MANIFEST, 0o644],
    '/kind/manifests/default-storage.yaml': [F.defaultStorageManifest(LOCAL_PATH_IMAGES), 0o644],
    '/kind/version': [`v${NODE_VERSIONS.kubernetes}\n`, 0o644],
    '/etc/machine-id': ['', 0o444],
  };
}

const IMPORT_CHANGES = (hash: string) => [
  'ENTRYPOINT ["/usr/local/bin/thanos-ha-e2e-node-entrypoint", "/sbin/init"]',
  'ENV container=docker',
  // (docker import takes no STOPSIGNAL; kind removes nodes with `docker rm -f` anyway)
  `LABEL ${CONTENT_LABEL}=${JSON.stringify(hash)}`,
  `LABEL org.opencontainers.image.title="thanos-ha-e2e kind node" org.opencontainers.image.version="v${NODE_VERSIONS.kubernetes}"`,
];

export async function buildKindNodeImage(opts: { env?: Env; onProgress?: (line: string) => void } = {}): Promise<KindNodeImage> {
  const env = opts.env ?? process.env;
  const progress = opts.onProgress ?? (() => {});
  const started = Date.now();
  const docker = await ensureDocker({ env, onProgress: progress });
  progress(`Docker engine ${docker.serverVersion} (${docker.how})`);
  const dir = join(cacheRoot(env), 'images', 'kind-node');
  await mkdir(dir, { recursive: true });

  return withFileLock(join(dir, 'build.lock'), async () => {
    progress('node parts (Go module proxy builds, cached in <cache>/bin/)');
    const parts = await ensureNodeParts(env, progress);
    const rootfsTar = await ensureRootfs({ env, onProgress: progress });

    // Everything that decides the node's content, so that an unchanged recipe is not staged again.
    const hash = createHash('sha256');
    hash.update(`${rootfsId(env)}\0${F.MASKED_UNITS.join(',')}\0${F.ENABLED_UNITS.join(',')}\0${JSON.stringify(nodeTexts())}\0${JSON.stringify(IMPORT_CHANGES(''))}\0`);
    for (const [inside, outside] of Object.entries(nodeFiles(parts))) hash.update(`${inside}\0${await fileSha256(outside)}\0`);
    for (const spec of controlPlaneSpecs(parts)) hash.update(`${spec.tag}\0${await fileSha256(Object.values(spec.files)[0] ?? '')}\0`);
    // This file decides the layout (the kube-proxy image's contents, paths, import changes): its text too.
    hash.update(`kube-proxy\0${await fileSha256(parts.kube['kube-proxy'])}\0${await readFile(new URL(import.meta.url), 'utf8')}\0`);
    const contentHash = hash.digest('hex');
    const tarFile = join(dir, `${KIND_NODE_IMAGE.replace(/[/:]/g, '_')}-${contentHash.slice(0, 12)}.tar`);

    if ((await imageLabel(KIND_NODE_IMAGE, CONTENT_LABEL, env)) === contentHash && (await isFile(tarFile))) {
      progress(`  ${KIND_NODE_IMAGE} up to date (${contentHash.slice(0, 12)})`);
      return { tag: KIND_NODE_IMAGE, tarFile, contentHash, rebuilt: false, images: [], ms: Date.now() - started };
    }
    if (await isFile(tarFile)) {
      progress(`  docker load ${tarFile}`);
      const loaded = await execa('docker', ['load', '-i', tarFile], { env, reject: false, all: true, stdin: 'ignore' });
      if (loaded.exitCode === 0 && (await imageLabel(KIND_NODE_IMAGE, CONTENT_LABEL, env)) === contentHash) {
        return { tag: KIND_NODE_IMAGE, tarFile, contentHash, rebuilt: false, images: [], ms: Date.now() - started };
      }
    }

    const work = join(cacheRoot(env), 'work', `kind-node.${process.pid}`);
    const stage = join(work, 'rootfs');
    try {
      await rm(work, { recursive: true, force: true });
      await mkdir(stage, { recursive: true });
      let t = Date.now();
      const unpacked = await execa('tar', ['--numeric-owner', '--xattrs', '-xf', rootfsTar, '-C', stage], { reject: false, all: true, stdin: 'ignore' });
      if (unpacked.exitCode !== 0) throw new Error(`unpacking ${rootfsTar} failed: ${lastLine(unpacked.all)}`);
      progress(`  unpacked the rootfs in ${formatElapsed(Date.now() - t)}`);

      // The control-plane images, FROM scratch, tagged as kubeadm pulls them.
      const images: BuiltImage[] = [];
      for (const spec of [...controlPlaneSpecs(parts), await kubeProxySpec(parts, stage), localPathHelperSpec(stage)]) {
        const image = await buildImage(spec, { env, onProgress: progress, tarDir: dir });
        images.push(image);
        progress(`  ${image.tag.padEnd(48)} ${image.rebuilt ? 'built' : 'up to date'} in ${formatElapsed(image.ms)}`);
        const inside = join(stage, F.IMAGES_DIR, `${spec.tag.replace(/[/:]/g, '_')}.tar`);
        await mkdir(dirname(inside), { recursive: true });
        await copyFile(image.tarFile, inside);
      }

      for (const [inside, outside] of Object.entries(nodeFiles(parts))) {
        const target = join(stage, inside);
        await mkdir(dirname(target), { recursive: true });
        await copyFile(outside, target);
        await chmod(target, 0o755);
      }
      for (const [inside, [content, mode]] of Object.entries(nodeTexts())) {
        const target = join(stage, inside);
        await mkdir(dirname(target), { recursive: true });
        await rm(target, { force: true });
        await writeFile(target, content);
        await chmod(target, mode);
      }
      const unitDir = join(stage, 'etc/systemd/system');
      for (const unit of F.MASKED_UNITS) {
        await rm(join(unitDir, unit), { force: true });
        await symlink('/dev/null', join(unitDir, unit));
      }
      await mkdir(join(unitDir, 'multi-user.target.wants'), { recursive: true });
      for (const unit of F.ENABLED_UNITS) {
        await rm(join(unitDir, 'multi-user.target.wants', unit), { force: true });
        await symlink(`/etc/systemd/system/${unit}`, join(unitDir, 'multi-user.target.wants', unit));
      }
      await mkdir(join(stage, 'var/lib/kubelet'), { recursive: true });
      await mkdir(join(stage, 'etc/kubernetes/manifests'), { recursive: true });

      t = Date.now();
      const nodeTar = join(work, 'node.tar');
      const packed = await execa('tar', ['--numeric-owner', '--xattrs', '-C', stage, '-cf', nodeTar, '.'], { reject: false, all: true, stdin: 'ignore' });
      if (packed.exitCode !== 0) throw new Error(`tar of the node rootfs failed: ${lastLine(packed.all)}`);
      const changes = IMPORT_CHANGES(contentHash).flatMap((c) => ['--change', c]);
      const imported = await execa('docker', ['import', ...changes, nodeTar, KIND_NODE_IMAGE], { env, reject: false, all: true, stdin: 'ignore' });
      if (imported.exitCode !== 0) throw new Error(`docker import ${KIND_NODE_IMAGE} failed: ${lastLine(imported.all)}`);
      progress(`  imported ${KIND_NODE_IMAGE} in ${formatElapsed(Date.now() - t)}`);

      t = Date.now();
      const partial = `${tarFile}.${process.pid}.partial`;
      const saved = await execa('docker', ['save', '-o', partial, KIND_NODE_IMAGE], { env, reject: false, all: true, stdin: 'ignore' });
      if (saved.exitCode !== 0) throw new Error(`docker save ${KIND_NODE_IMAGE} failed: ${lastLine(saved.all)}`);
      await rename(partial, tarFile);
      for (const f of await readdir(dir)) {
        if (f.startsWith(`${KIND_NODE_IMAGE.replace(/[/:]/g, '_')}-`) && f.endsWith('.tar') && join(dir, f) !== tarFile) await rm(join(dir, f), { force: true });
      }
      progress(`  saved ${tarFile} in ${formatElapsed(Date.now() - t)}`);
      return { tag: KIND_NODE_IMAGE, tarFile, contentHash, rebuilt: true, images, ms: Date.now() - started };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }, { onWait: (pid) => progress(`waiting for another process (pid ${pid}) that is building the kind node image`), maxWaitMs: 3 * 60 * 60_000 });
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}
