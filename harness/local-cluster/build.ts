// The cluster's own binaries, built from upstream modules on the Go module proxy (k3s cannot be:
// the proxy refuses github.com/k3s-io/k3s and its Kubernetes fork).
//
//   kubernetes   k8s.io/kubernetes: kube-apiserver, kube-controller-manager, kube-scheduler, kubelet,
//                kube-proxy, kubectl, in one `go build` so the shared packages compile once.
//                Its go.mod replaces every k8s.io/<staging> module with ./staging/src/k8s.io/<name>,
//                but a module zip leaves out nested modules, so the copy has no staging/: the build
//                drops those replaces and requires the published k8s.io/<name> v0.<minor>.<patch>
//                instead (the same source, published from staging at each release).
//   etcd         go.etcd.io/etcd/server/v3 (main.go is the etcd binary); its replaces point at
//                sibling directories (../api, ...) the zip does not have: dropped, the go.mod already
//                requires the same release of each.
//   coredns      github.com/coredns/coredns, as is.
//
// Like harness/binaries: CGO_ENABLED=0 (static), GOWORK=off, niced, under a per-build lock, into
// <cache>/work/<id>.<pid>/ and then one atomic rename of the finished directory to <cache>/bin/<id>/.
import { appendFile, mkdir, readFile, rename, stat, writeFile, cp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { cacheRoot, removeWorkDir, type Env } from '../binaries/cache.ts';
import { findGo, formatElapsed, runLogged, type LoggedRunOptions } from '../binaries/go-build.ts';
import { withFileLock } from '../binaries/lock.ts';
import { CLUSTER_VERSIONS } from './versions.ts';

export const KUBE_BINARIES = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy', 'kubectl'] as const;
export type KubeBinary = (typeof KUBE_BINARIES)[number];

export interface ClusterBinaries {
  kube: Record<KubeBinary, string>;
  etcd: string;
  coredns: string;
}

/** One Go module build into <cache>/bin/<id>/ (also what harness/images/kind-node builds its node's parts with). */
export interface BuildSpec {
  /** Cache directory name: <cache>/bin/<id>/ */
  id: string;
  module: string;
  version: string;
  /** Packages to build, relative to the module root, and the binary names they produce. */
  packages: { pkg: string; out: string }[];
  ldflags: string;
  /** Build tags (-tags). */
  tags?: string[];
  /** CGO_ENABLED=1 (runc: its nsenter is C); static only if ldflags says -extldflags -static. Default off. */
  cgo?: boolean;
  /** Edits the copied go.mod so the module builds outside its repository. */
  fixGoMod?: (sourceDir: string, logged: GoLog) => Promise<void>;
  coldMinutes: number;
}

/** The Go environment, log file and build ID every go command of one build runs with. */
type GoLog = Pick<LoggedRunOptions, 'env' | 'log' | 'of'>;

const PROGRESS_EVERY_MS = 30_000;

function specs(now = new Date()): { kubernetes: BuildSpec; etcd: BuildSpec; coredns: BuildSpec; kubeadm: BuildSpec } {
  const { kubernetes, etcd, coredns } = CLUSTER_VERSIONS;
  const [major, minor, patch] = kubernetes.replace(/^v/, '').split('.');
  const buildDate = now.toISOString().replace(/\.\d+Z$/, 'Z');
  const kubeVersionFlags = ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap((pkg) =>
    Object.entries({
      gitVersion: `v${major}.${minor}.${patch}`,
      gitMajor: major,
      gitMinor: minor,
      gitCommit: `v${major}.${minor}.${patch}`,
      gitTreeState: 'clean',
      buildDate,
    }).map(([name, value]) => `-X ${pkg}.${name}=${value}`),
  );
  return {
    kubernetes: {
      id: `kubernetes-${kubernetes}`,
      module: 'k8s.io/kubernetes',
      version: `v${kubernetes}`,
      packages: KUBE_BINARIES.map((name) => ({ pkg: `./cmd/${name}`, out: name })),
      ldflags: ['-s', '-w', ...kubeVersionFlags].join(' '),
      fixGoMod: (dir, logged) => usePublishedStaging(dir, `v0.${minor}.${patch}`, logged),
      coldMinutes: 35,
    },
    // kubeadm (for a kind node image) on its own, so that an existing kubernetes-<v>/ build stays
    // complete; it shares the Go build cache with the kubernetes build, so it costs a few minutes.
    kubeadm: {
      id: `kubeadm-${kubernetes}`,
      module: 'k8s.io/kubernetes',
      version: `v${kubernetes}`,
      packages: [{ pkg: './cmd/kubeadm', out: 'kubeadm' }],
      ldflags: ['-s', '-w', ...kubeVersionFlags].join(' '),
      fixGoMod: (dir, logged) => usePublishedStaging(dir, `v0.${minor}.${patch}`, logged),
      coldMinutes: 6,
    },
    etcd: etcdSpec(etcd),
    coredns: {
      id: `coredns-${coredns}`,
      module: 'github.com/coredns/coredns',
      version: `v${coredns}`,
      packages: [{ pkg: '.', out: 'coredns' }],
      ldflags: `-s -w -X github.com/coredns/coredns/coremain.GitCommit=v${coredns}`,
      coldMinutes: 8,
    },
  };
}

/** etcd at a given release (the local cluster's, or the one kubeadm pins for a kind node image). */
export function etcdSpec(version: string): BuildSpec {
  return {
    id: `etcd-${version}`,
    module: 'go.etcd.io/etcd/server/v3',
    version: `v${version}`,
    packages: [{ pkg: '.', out: 'etcd' }],
    ldflags: `-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=v${version}`,
    fixGoMod: dropRelativeReplaces,
    coldMinutes: 3,
  };
}

/** Every cluster binary, built where missing. */
export async function ensureClusterBinaries(opts: { env?: Env; onProgress?: (line: string) => void } = {}): Promise<ClusterBinaries> {
  const env = opts.env ?? process.env;
  const all = specs();
  const kubeDir = await ensureBuilt(all.kubernetes, env, opts.onProgress);
  const etcdDir = await ensureBuilt(all.etcd, env, opts.onProgress);
  const corednsDir = await ensureBuilt(all.coredns, env, opts.onProgress);
  const kube = Object.fromEntries(KUBE_BINARIES.map((name) => [name, join(kubeDir, name)])) as Record<KubeBinary, string>;
  return { kube, etcd: join(etcdDir, 'etcd'), coredns: join(corednsDir, 'coredns') };
}

/** The binaries if all are built, else undefined (status must not start a 35-minute build). */
export async function builtClusterBinaries(env: Env = process.env): Promise<ClusterBinaries | undefined> {
  const all = specs();
  const dir = (spec: BuildSpec) => join(cacheRoot(env), 'bin', spec.id);
  for (const spec of [all.kubernetes, all.etcd, all.coredns]) {
    for (const { out } of spec.packages) if (!(await isFile(join(dir(spec), out)))) return undefined;
  }
  const kube = Object.fromEntries(KUBE_BINARIES.map((name) => [name, join(dir(all.kubernetes), name)])) as Record<KubeBinary, string>;
  return { kube, etcd: join(dir(all.etcd), 'etcd'), coredns: join(dir(all.coredns), 'coredns') };
}

/** The build recipes by name (harness/images/kind-node builds single ones of them with ensureBuilt). */
export function clusterBuildSpecs(): Record<'kubernetes' | 'etcd' | 'coredns' | 'kubeadm', BuildSpec> {
  return specs();
}

/** kubeadm at the local cluster's Kubernetes version, built where missing. */
export async function ensureKubeadm(opts: { env?: Env; onProgress?: (line: string) => void } = {}): Promise<string> {
  return join(await ensureBuilt(specs().kubeadm, opts.env ?? process.env, opts.onProgress), 'kubeadm');
}

/** Builds one Go module spec where missing and returns <cache>/bin/<id>/. */
export async function ensureBuilt(spec: BuildSpec, env: Env, onProgress: (line: string) => void = () => {}): Promise<string> {
  const root = cacheRoot(env);
  const finalDir = join(root, 'bin', spec.id);
  const complete = async () => {
    for (const { out } of spec.packages) if (!(await isFile(join(finalDir, out)))) return false;
    return true;
  };
  if (await complete()) return finalDir;
  await mkdir(join(root, 'bin'), { recursive: true });
  return withFileLock(
    join(root, 'bin', `${spec.id}.lock`),
    async () => {
      if (await complete()) return finalDir;
      await build(spec, env, onProgress);
      return finalDir;
    },
    { onWait: (pid) => onProgress(`waiting for another process (pid ${pid}) that is building ${spec.id}`), maxWaitMs: 3 * 60 * 60_000 },
  );
}

async function build(spec: BuildSpec, env: Env, progress: (line: string) => void): Promise<void> {
  const root = cacheRoot(env);
  const goVersion = await findGo(env);
  const goEnv: Env = { ...env, GOWORK: 'off', CGO_ENABLED: spec.cgo ? '1' : '0', GOFLAGS: '-mod=mod' };
  const workDir = join(root, 'work', `${spec.id}.${process.pid}`);
  const log = join(root, 'logs', `${spec.id}.go-build.log`);
  await mkdir(join(root, 'logs'), { recursive: true });
  await removeWorkDir(workDir);
  await mkdir(workDir, { recursive: true });
  await writeFile(log, `# ${spec.id} (${spec.module}@${spec.version}) with ${goVersion}\n`);
  const started = Date.now();
  progress(`building ${spec.id} from the Go module proxy with ${goVersion}; a first build takes ~${spec.coldMinutes} min on 2 cores (log: ${log})`);
  const ticker = setInterval(() => progress(`  still building ${spec.id}: ${formatElapsed(Date.now() - started)} elapsed`), PROGRESS_EVERY_MS);
  const logged: GoLog = { env: goEnv, log, of: spec.id };
  try {
    const download = await runLogged('go', ['mod', 'download', '-json', `${spec.module}@${spec.version}`], { ...logged, cwd: workDir, captureStdout: true });
    const dir = (JSON.parse(download) as { Dir?: string; Error?: string });
    if (!dir.Dir) throw new Error(`go mod download ${spec.module}@${spec.version}: ${dir.Error ?? 'no directory'} (log: ${log})`);
    const sourceDir = join(workDir, 'src');
    await cp(dir.Dir, sourceDir, { recursive: true });
    await execa('chmod', ['-R', 'u+w', sourceDir]);
    await rm(join(sourceDir, 'vendor'), { recursive: true, force: true });
    await spec.fixGoMod?.(sourceDir, logged);

    const outDir = join(workDir, 'out');
    await mkdir(outDir);
    const args = ['build', '-trimpath', '-buildvcs=false', `-ldflags=${spec.ldflags}`];
    if (spec.tags?.length) args.push(`-tags=${spec.tags.join(',')}`);
    const [only] = spec.packages;
    if (spec.packages.length === 1 && only) args.push('-o', join(outDir, only.out), only.pkg);
    else args.push('-o', `${outDir}/`, ...spec.packages.map((p) => p.pkg));
    await runLogged('go', args, { ...logged, cwd: sourceDir, niced: true });
    for (const { out } of spec.packages) {
      if (!(await isFile(join(outDir, out)))) throw new Error(`go build of ${spec.id} produced no ${out} (log: ${log})`);
    }
    await rename(outDir, join(root, 'bin', spec.id)); // atomic: the directory appears complete
    progress(`built ${spec.id} in ${formatElapsed(Date.now() - started)}`);
    await appendFile(log, `\n# built in ${formatElapsed(Date.now() - started)}\n`);
  } finally {
    clearInterval(ticker);
    await removeWorkDir(workDir);
  }
}

/** k8s.io/kubernetes: replace ./staging/src/k8s.io/<name> with the published k8s.io/<name> at `stagingVersion`. */
async function usePublishedStaging(sourceDir: string, stagingVersion: string, logged: GoLog): Promise<void> {
  const goMod = await readFile(join(sourceDir, 'go.mod'), 'utf8');
  const staged = [...goMod.matchAll(/^\s*(k8s\.io\/[\w.-]+)\s*=>\s*\.\/staging\//gm)].map((m) => m[1] ?? '');
  if (staged.length === 0) throw new Error('k8s.io/kubernetes go.mod has no ./staging replaces: this build recipe does not fit the release');
  const args = ['mod', 'edit'];
  for (const module of staged) {
    args.push(`-dropreplace=${module}`);
    // Required as v0.0.0 (only meaningful with the replace); some staged modules are not required at all.
    if (new RegExp(`^\\s*${module.replaceAll('.', '\\.')} v0\\.0\\.0\\s*$`, 'm').test(goMod)) args.push(`-require=${module}@${stagingVersion}`);
  }
  await runLogged('go', args, { ...logged, cwd: sourceDir });
}

/** etcd's modules: drop replaces that point into the repository (../api, ./FORBIDDEN_DEPENDENCY stays harmless). */
async function dropRelativeReplaces(sourceDir: string, logged: GoLog): Promise<void> {
  const goMod = await readFile(join(sourceDir, 'go.mod'), 'utf8');
  const relative = [...goMod.matchAll(/^\s*(?:replace\s+)?([\w./-]+)\s*=>\s*\.\.\//gm)].map((m) => m[1] ?? '');
  if (relative.length) await runLogged('go', ['mod', 'edit', ...relative.map((m) => `-dropreplace=${m}`)], { ...logged, cwd: sourceDir });
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}
