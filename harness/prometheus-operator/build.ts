// prometheus-operator from the Go module proxy: the operator and prometheus-config-reloader binaries
// (static, one `go build` so shared packages compile once), plus the release's CRDs and operator
// ClusterRole copied out of the same module, all under <cache>/bin/prometheus-operator-<version>/.
//
// The module's go.mod replaces its nested modules pkg/apis/monitoring and pkg/client with ./pkg/...,
// which a module zip leaves out; the build drops those replaces and uses the published modules of the
// same version (the go.mod already requires them at that version).
//
// Like harness/binaries: CGO_ENABLED=0, GOWORK=off, niced, under a lock, in <cache>/work/<id>.<pid>/,
// then one atomic rename of the finished directory.
import { appendFile, cp, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { cacheRoot, removeWorkDir, type Env } from '../binaries/cache.ts';
import { findGo, formatElapsed, runLogged } from '../binaries/go-build.ts';
import { withFileLock } from '../binaries/lock.ts';
import { PROMETHEUS_OPERATOR } from './versions.ts';

export interface OperatorBuild {
  version: string;
  operator: string;
  configReloader: string;
  /** The release's CRD manifests (example/prometheus-operator-crd/*.yaml). */
  crdDir: string;
  /** The release's operator ClusterRole (example/rbac/prometheus-operator/prometheus-operator-cluster-role.yaml). */
  clusterRole: string;
}

const ID = `prometheus-operator-${PROMETHEUS_OPERATOR.version}`;
const PACKAGES = [
  { pkg: './cmd/operator', out: 'operator' },
  { pkg: './cmd/prometheus-config-reloader', out: 'prometheus-config-reloader' },
];
const NESTED_MODULES = ['pkg/apis/monitoring', 'pkg/client'].map((p) => `${PROMETHEUS_OPERATOR.module}/${p}`);

function layout(dir: string): OperatorBuild {
  return {
    version: PROMETHEUS_OPERATOR.version,
    operator: join(dir, 'operator'),
    configReloader: join(dir, 'prometheus-config-reloader'),
    crdDir: join(dir, 'crds'),
    clusterRole: join(dir, 'cluster-role.yaml'),
  };
}

/** The build, made now if missing (a first build takes ~6 min on 2 cores). */
export async function ensureOperatorBuild(opts: { env?: Env; onProgress?: (line: string) => void } = {}): Promise<OperatorBuild> {
  const env = opts.env ?? process.env;
  const progress = opts.onProgress ?? (() => {});
  const root = cacheRoot(env);
  const finalDir = join(root, 'bin', ID);
  const built = layout(finalDir);
  const complete = async () => (await isFile(built.operator)) && (await isFile(built.configReloader)) && (await isFile(built.clusterRole));
  if (await complete()) return built;
  await mkdir(join(root, 'bin'), { recursive: true });
  await withFileLock(
    join(root, 'bin', `${ID}.lock`),
    async () => {
      if (!(await complete())) await build(env, progress);
    },
    { onWait: (pid) => progress(`waiting for another process (pid ${pid}) that is building ${ID}`) },
  );
  return built;
}

async function build(env: Env, progress: (line: string) => void): Promise<void> {
  const root = cacheRoot(env);
  const goVersion = await findGo(env);
  const goEnv: Env = { ...env, GOWORK: 'off', CGO_ENABLED: '0', GOFLAGS: '-mod=mod' };
  const workDir = join(root, 'work', `${ID}.${process.pid}`);
  const log = join(root, 'logs', `${ID}.go-build.log`);
  const moduleAtVersion = `${PROMETHEUS_OPERATOR.module}@v${PROMETHEUS_OPERATOR.version}`;
  await mkdir(join(root, 'logs'), { recursive: true });
  await removeWorkDir(workDir);
  await mkdir(workDir, { recursive: true });
  await writeFile(log, `# ${ID} (${moduleAtVersion}) with ${goVersion}\n`);
  const started = Date.now();
  progress(`building ${ID} (operator, prometheus-config-reloader) from the Go module proxy with ${goVersion}; ~6 min on 2 cores (log: ${log})`);
  const ticker = setInterval(() => progress(`  still building ${ID}: ${formatElapsed(Date.now() - started)} elapsed`), 30_000);
  const logged = { env: goEnv, log, of: ID };
  try {
    const download = JSON.parse(await runLogged('go', ['mod', 'download', '-json', moduleAtVersion], { ...logged, cwd: workDir, captureStdout: true })) as { Dir?: string; Error?: string };
    if (!download.Dir) throw new Error(`go mod download ${moduleAtVersion}: ${download.Error ?? 'no directory'} (log: ${log})`);
    const sourceDir = join(workDir, 'src');
    await cp(download.Dir, sourceDir, { recursive: true });
    await execa('chmod', ['-R', 'u+w', sourceDir]);
    await rm(join(sourceDir, 'vendor'), { recursive: true, force: true });
    await runLogged('go', ['mod', 'edit', ...NESTED_MODULES.map((m) => `-dropreplace=${m}`)], { ...logged, cwd: sourceDir });

    const outDir = join(workDir, 'out');
    await mkdir(outDir);
    const stamp = Object.entries({
      Version: PROMETHEUS_OPERATOR.version,
      Revision: `v${PROMETHEUS_OPERATOR.version}`,
      Branch: 'HEAD',
      BuildUser: 'thanos-ha-e2e',
      BuildDate: new Date().toISOString().replace(/-/g, '').replace('T', '-').slice(0, 17), // 20060102-15:04:05, as promu
    }).map(([k, v]) => `-X github.com/prometheus/common/version.${k}=${v}`);
    const ldflags = ['-s', '-w', ...stamp].join(' ');
    await runLogged('go', ['build', '-trimpath', '-buildvcs=false', `-ldflags=${ldflags}`, '-o', `${outDir}/`, ...PACKAGES.map((p) => p.pkg)], { ...logged, cwd: sourceDir, niced: true });
    for (const { out } of PACKAGES) if (!(await isFile(join(outDir, out)))) throw new Error(`go build of ${ID} produced no ${out} (log: ${log})`);
    await cp(join(sourceDir, 'example', 'prometheus-operator-crd'), join(outDir, 'crds'), { recursive: true });
    await cp(join(sourceDir, 'example', 'rbac', 'prometheus-operator', 'prometheus-operator-cluster-role.yaml'), join(outDir, 'cluster-role.yaml'));
    await rm(join(root, 'bin', ID), { recursive: true, force: true }); // an incomplete leftover
    await rename(outDir, join(root, 'bin', ID)); // atomic: the directory appears complete
    progress(`built ${ID} in ${formatElapsed(Date.now() - started)}`);
    await appendFile(log, `\n# built in ${formatElapsed(Date.now() - started)}\n`);
  } finally {
    clearInterval(ticker);
    await removeWorkDir(workDir);
  }
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}
