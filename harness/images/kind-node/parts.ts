// What goes into a node besides the Debian rootfs, all from the Go module proxy through the local
// cluster's builder (harness/local-cluster/build.ts: cached in <cache>/bin/<id>/, per-build lock,
// progress lines, one log per build):
//
//   containerd   github.com/containerd/containerd/v2: containerd, containerd-shim-runc-v2, ctr
//                (static, without the btrfs/zfs/devmapper/aufs snapshotters, as kind builds it)
//   runc         github.com/opencontainers/runc: needs cgo (its nsenter is C), linked static with
//                glibc's libc.a and libseccomp.a (Debian's libseccomp-dev + pkg-config, apt-installed
//                here where missing): kubeadm's static pods ask for seccomp RuntimeDefault, which a
//                runc without the seccomp tag refuses ("config provided but seccomp not supported")
//   crictl       sigs.k8s.io/cri-tools (kubeadm's preflight requires it; kind calls it)
//   CNI plugins  github.com/containernetworking/plugins: bridge, host-local, portmap, loopback
//   kubernetes   kubelet, kubectl and the control-plane binaries (the local cluster's build), kubeadm
//   etcd         the release kubeadm 1.34 pins (3.6.5), CoreDNS the local cluster's (1.12.1, also pinned)
//   pause        the harness's own pause binary
//   local-path-provisioner  github.com/rancher/local-path-provisioner (the node's default StorageClass)
// The versions are kind v0.33.0's base image pins where it has one (containerd, runc, CNI plugins),
// and crictl at the Kubernetes minor.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { cacheRoot, type Env } from '../../binaries/cache.ts';
import { clusterBuildSpecs, ensureBuilt, ensureKubeadm, etcdSpec, KUBE_BINARIES, type BuildSpec } from '../../local-cluster/build.ts';
import { CLUSTER_VERSIONS } from '../../local-cluster/versions.ts';
import { buildPauseBinary } from '../pause.ts';

export const NODE_VERSIONS = {
  kubernetes: CLUSTER_VERSIONS.kubernetes,
  containerd: '2.3.4',
  runc: '1.4.3',
  crictl: '1.34.0',
  cniPlugins: '1.9.1',
  /** kubeadm 1.34's DefaultEtcdVersion is 3.6.5-0 (the image tag); CoreDNSVersion v1.12.1; PauseVersion 3.10.1. */
  etcd: '3.6.5',
  etcdImageTag: '3.6.5-0',
  coredns: CLUSTER_VERSIONS.coredns,
  pauseImageTag: '3.10.1',
  /** The only version the Go module proxy lists. */
  localPathProvisioner: '0.0.30',
} as const;

export const CNI_PLUGINS = ['bridge', 'host-local', 'portmap', 'loopback'] as const;

function partSpecs(): Record<'containerd' | 'runc' | 'crictl' | 'cni' | 'localPath', BuildSpec> {
  const v = NODE_VERSIONS;
  return {
    containerd: {
      id: `containerd-${v.containerd}`,
      module: 'github.com/containerd/containerd/v2',
      version: `v${v.containerd}`,
      packages: ['containerd', 'containerd-shim-runc-v2', 'ctr'].map((out) => ({ pkg: `./cmd/${out}`, out })),
      ldflags: `-s -w -X github.com/containerd/containerd/v2/version.Version=v${v.containerd} -X github.com/containerd/containerd/v2/version.Revision=v${v.containerd}`,
      tags: ['no_aufs', 'no_zfs', 'no_btrfs', 'no_devmapper', 'netgo', 'osusergo'],
      coldMinutes: 6,
    },
    runc: {
      id: `runc-${v.runc}-seccomp`,
      module: 'github.com/opencontainers/runc',
      version: `v${v.runc}`,
      packages: [{ pkg: '.', out: 'runc' }],
      ldflags: `-s -w -X main.version=${v.runc} -X main.gitCommit=v${v.runc} -extldflags -static`,
      tags: ['seccomp', 'netgo', 'osusergo'],
      cgo: true,
      coldMinutes: 2,
    },
    crictl: {
      id: `crictl-${v.crictl}`,
      module: 'sigs.k8s.io/cri-tools',
      version: `v${v.crictl}`,
      packages: [{ pkg: './cmd/crictl', out: 'crictl' }],
      ldflags: `-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=v${v.crictl}`,
      coldMinutes: 3,
    },
    cni: {
      id: `cni-plugins-${v.cniPlugins}`,
      module: 'github.com/containernetworking/plugins',
      version: `v${v.cniPlugins}`,
      packages: [
        { pkg: './plugins/main/bridge', out: 'bridge' },
        { pkg: './plugins/ipam/host-local', out: 'host-local' },
        { pkg: './plugins/meta/portmap', out: 'portmap' },
        { pkg: './plugins/main/loopback', out: 'loopback' },
      ],
      ldflags: `-s -w -X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=v${v.cniPlugins}`,
      coldMinutes: 2,
    },
    localPath: {
      id: `local-path-provisioner-${v.localPathProvisioner}`,
      module: 'github.com/rancher/local-path-provisioner',
      version: `v${v.localPathProvisioner}`,
      packages: [{ pkg: '.', out: 'local-path-provisioner' }],
      ldflags: `-s -w -X main.VERSION=v${v.localPathProvisioner}`,
      coldMinutes: 3,
    },
  };
}

export interface NodeParts {
  containerd: { containerd: string; shim: string; ctr: string };
  runc: string;
  crictl: string;
  cni: Record<(typeof CNI_PLUGINS)[number], string>;
  kube: { kubeadm: string; kubelet: string; kubectl: string; 'kube-apiserver': string; 'kube-controller-manager': string; 'kube-scheduler': string; 'kube-proxy': string };
  etcd: string;
  coredns: string;
  pause: string;
  localPathProvisioner: string;
}

/** Only the node runtime's parts (quick): containerd, runc, crictl, CNI plugins. */
export async function ensureRuntimeParts(env: Env, progress: (line: string) => void): Promise<Pick<NodeParts, 'containerd' | 'runc' | 'crictl' | 'cni'>> {
  const specs = partSpecs();
  const containerd = await ensureBuilt(specs.containerd, env, progress);
  if (!(await isFile(join(cacheRoot(env), 'bin', specs.runc.id, 'runc')))) await ensureStaticSeccomp(env, progress);
  const runc = await ensureBuilt(specs.runc, env, progress);
  const crictl = await ensureBuilt(specs.crictl, env, progress);
  const cni = await ensureBuilt(specs.cni, env, progress);
  return {
    containerd: { containerd: join(containerd, 'containerd'), shim: join(containerd, 'containerd-shim-runc-v2'), ctr: join(containerd, 'ctr') },
    runc: join(runc, 'runc'),
    crictl: join(crictl, 'crictl'),
    cni: Object.fromEntries(CNI_PLUGINS.map((p) => [p, join(cni, p)])) as NodeParts['cni'],
  };
}

/**
 * Every part, in two lanes at once: Kubernetes (the longest build by far, then kubeadm) next to the
 * rest one after another. Go builds wait on module downloads as much as on the 2 cores, so two lanes
 * take less wall time than one.
 */
export async function ensureNodeParts(env: Env, progress: (line: string) => void): Promise<NodeParts> {
  const cluster = clusterBuildSpecs();
  // The local cluster's recipes one by one: the node needs neither its etcd release nor all of it.
  const kubeLane = (async () => {
    const kubeDir = await ensureBuilt(cluster.kubernetes, env, progress);
    return { kubeDir, kubeadm: await ensureKubeadm({ env, onProgress: progress }) };
  })();
  const restLane = (async () => {
    const runtime = await ensureRuntimeParts(env, progress);
    const coredns = join(await ensureBuilt(cluster.coredns, env, progress), 'coredns');
    const etcd = join(await ensureBuilt(etcdSpec(NODE_VERSIONS.etcd), env, progress), 'etcd');
    const localPathProvisioner = join(await ensureBuilt(partSpecs().localPath, env, progress), 'local-path-provisioner');
    const pause = await buildPauseBinary({ env, onProgress: progress });
    return { runtime, coredns, etcd, localPathProvisioner, pause };
  })();
  // Both lanes run to the end even if one fails, so that no build is left running behind a rejection.
  const [kubeResult, restResult] = await Promise.allSettled([kubeLane, restLane]);
  if (kubeResult.status === 'rejected') throw kubeResult.reason;
  if (restResult.status === 'rejected') throw restResult.reason;
  const { kubeDir, kubeadm } = kubeResult.value;
  const { runtime, coredns, etcd, localPathProvisioner, pause } = restResult.value;
  const kube = Object.fromEntries(KUBE_BINARIES.map((name) => [name, join(kubeDir, name)])) as Record<(typeof KUBE_BINARIES)[number], string>;
  return {
    ...runtime,
    kube: {
      kubeadm,
      kubelet: kube.kubelet,
      kubectl: kube.kubectl,
      'kube-apiserver': kube['kube-apiserver'],
      'kube-controller-manager': kube['kube-controller-manager'],
      'kube-scheduler': kube['kube-scheduler'],
      'kube-proxy': kube['kube-proxy'],
    },
    etcd,
    coredns,
    pause,
    localPathProvisioner,
  };
}

/** runc's seccomp support links libseccomp statically: Debian's libseccomp-dev has libseccomp.a. */
async function ensureStaticSeccomp(env: Env, progress: (line: string) => void): Promise<void> {
  const have = async () => (await isFile('/usr/lib/x86_64-linux-gnu/libseccomp.a')) && (await execa('pkg-config', ['--exists', 'libseccomp'], { reject: false })).exitCode === 0;
  if (await have()) return;
  if (process.getuid?.() !== 0) throw new Error('runc needs a static libseccomp to build: apt-get install libseccomp-dev pkg-config (as root)');
  progress('runc needs a static libseccomp: apt-get install -y libseccomp-dev pkg-config');
  const installed = await execa('apt-get', ['install', '-y', '--no-install-recommends', 'libseccomp-dev', 'pkg-config'], { env: { ...env, DEBIAN_FRONTEND: 'noninteractive' }, reject: false, all: true, stdin: 'ignore' });
  if (installed.exitCode !== 0 || !(await have())) throw new Error(`apt-get install libseccomp-dev pkg-config failed: ${(installed.all ?? '').trim().split('\n').at(-1)}`);
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}
