// Step 4 of provisioning: build from source fetched through the Go module proxy.
//
// `go install module/cmd/x@version` does not work for Thanos and Prometheus: their go.mod files have
// replace/exclude directives, which Go only honours in the main module. So we download the module,
// copy it to a scratch directory (making it the main module) and `go build` there.
import { existsSync } from 'node:fs';
import { appendFile, cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import type { Env } from './cache.ts';
import { fetchGoMod, pinnedNewerToolchain, toolchainFor } from './go-toolchain.ts';
import { embedKubernetesSchemas, KUBERNETES_MODULE } from './kube-schemas.ts';
import type { PinnedVersion } from './versions.ts';
import type { BinaryName } from './names.ts';

export interface BuildRequest {
  name: BinaryName;
  pin: PinnedVersion;
  /** Scratch directory for this build; the caller removes it afterwards. */
  workDir: string;
  /** All go output goes here, so that a failure can point at it. */
  logFile: string;
  onProgress: (line: string) => void;
  env: Env;
}

/** Builds a binary and returns the path of the finished file (inside workDir). Injectable for tests. */
export type Builder = (request: BuildRequest) => Promise<string>;

/** Thrown when there is no `go` to build with, so the caller can say how to get the binary instead. */
export class GoNotFoundError extends Error {}

const PROGRESS_EVERY_MS = 20_000;

// Rough first-build times on 2 cores with a cold Go build cache, to set expectations in the progress line.
const COLD_BUILD_MINUTES: Record<BinaryName, number> = {
  thanos: 10,
  prometheus: 8,
  promtool: 3, // shares most packages with prometheus, built just before
  alertmanager: 3,
  versitygw: 3,
  helm: 4,
  'kubectl-validate': 3,
  kind: 1, // ten small dependencies: ~50 s with empty module and build caches, ~2 s with warm ones
};

export const goBuild: Builder = async ({ name, pin, workDir, logFile, onProgress, env }) => {
  const goVersion = await findGo(env);
  // GOWORK off: a go.work somewhere above the cache must not interfere. CGO off: static binaries,
  // as the upstream releases are, so the same file also runs in a FROM-scratch container image.
  const goEnv: Env = { ...env, GOWORK: 'off', CGO_ENABLED: '0' };
  await mkdir(workDir, { recursive: true });
  await mkdir(dirname(logFile), { recursive: true });
  await writeFile(logFile, `# ${name} ${pin.version} (${pin.goModule}@${pin.goModuleVersion}) with ${goVersion}\n`);

  onProgress(
    `building ${name} ${pin.version} from the Go module proxy with ${goVersion}; ` +
      `a first build takes ~${COLD_BUILD_MINUTES[name]} min on 2 cores (log: ${logFile})`,
  );
  const started = Date.now();
  const ticker = setInterval(() => {
    onProgress(`  still building ${name} ${pin.version}: ${formatElapsed(Date.now() - started)} elapsed`);
  }, PROGRESS_EVERY_MS);

  try {
    // A release may need a newer Go than this machine's: under GOTOOLCHAIN=local even its download is refused.
    const goMod = await fetchGoMod(pin.goModule, pin.goModuleVersion, await goEnvValue('GOPROXY', goEnv));
    const toolchain = goMod && toolchainFor(`${name} ${pin.version}`, goMod, goVersion, pinnedNewerToolchain(env));
    if (toolchain) {
      goEnv.GOTOOLCHAIN = toolchain;
      onProgress(`  ${name} ${pin.version} needs a newer Go than ${goVersion}: building with ${toolchain}, fetched from the Go module proxy`);
      await appendFile(logFile, `\n# GOTOOLCHAIN=${toolchain} (the module needs a newer Go than ${goVersion})\n`);
    }
    const moduleDir = await downloadModule(pin.goModule, pin.goModuleVersion, workDir, goEnv, logFile);
    const sourceDir = join(workDir, 'src');
    await cp(moduleDir, sourceDir, { recursive: true });
    // The module cache is read-only; go build may need to write (go.sum), and we must be able to delete it.
    await execa('chmod', ['-R', 'u+w', sourceDir]);
    // A module zip keeps vendor/modules.txt but none of the vendored packages (kubectl-validate has
    // one): without this, go build would insist on the incomplete vendor directory.
    await rm(join(sourceDir, 'vendor'), { recursive: true, force: true });
    for (const dir of pin.uiEmbedDirs) {
      if (existsSync(join(sourceDir, dir))) continue;
      await mkdir(join(sourceDir, dir), { recursive: true });
      await writeFile(join(sourceDir, dir, 'NOT-BUILT.txt'), `${name} ${pin.version} built from its Go module, which has no built web UI; its API is unchanged.\n`);
      await appendFile(logFile, `\n# ${dir}: absent from the module (the release builds it with npm); a placeholder file lets //go:embed compile, so this binary serves no web UI\n`);
    }
    if (pin.kubernetesSchemas) {
      const k8sDir = await downloadModule(KUBERNETES_MODULE, `v${pin.kubernetesSchemas}`, workDir, goEnv, logFile);
      const files = await embedKubernetesSchemas(k8sDir, pin.kubernetesSchemas, sourceDir);
      await appendFile(logFile, `\n# built-in schemas: ${files} OpenAPI v3 files of Kubernetes ${pin.kubernetesSchemas}\n`);
    }

    const output = join(workDir, name);
    const tags = pin.buildTags.length ? [`-tags=${pin.buildTags.join(',')}`] : [];
    const args = ['build', '-trimpath', '-buildvcs=false', ...tags, `-ldflags=${ldflags(pin)}`, '-o', output, pin.buildPackage];
    await appendFile(logFile, `\n$ go ${args.map((arg) => (arg.includes(' ') ? `'${arg}'` : arg)).join(' ')}\n`);
    const build = await execa('go', args, {
      cwd: sourceDir,
      env: goEnv,
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
      stdout: { file: logFile, append: true },
      stderr: { file: logFile, append: true },
    });
    if (build.exitCode !== 0) {
      throw new Error(
        `go build of ${name} ${pin.version} failed (exit ${build.exitCode}): ${await lastLine(logFile)}; full log: ${logFile}`,
      );
    }
    onProgress(`built ${name} ${pin.version} in ${formatElapsed(Date.now() - started)}`);
    return output;
  } finally {
    clearInterval(ticker);
  }
};

/** `go mod download -json` fetches the module into the module cache and tells us where it is. */
async function downloadModule(module: string, version: string, workDir: string, env: Env, logFile: string): Promise<string> {
  const moduleAtVersion = `${module}@${version}`;
  await appendFile(logFile, `\n$ go mod download -json ${moduleAtVersion}\n`);
  const download = await execa('go', ['mod', 'download', '-json', moduleAtVersion], {
    cwd: workDir, // not inside any module
    env,
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    stderr: { file: logFile, append: true },
  });
  await appendFile(logFile, `${download.stdout}\n`);
  let info: { Dir?: string; Error?: string } = {};
  try {
    info = JSON.parse(download.stdout) as typeof info;
  } catch {
    // not JSON: go failed before it could say anything useful on stdout; the log has stderr
  }
  if (info.Error) throw new Error(`go mod download ${moduleAtVersion}: ${info.Error} (log: ${logFile})`);
  if (download.exitCode !== 0 || !info.Dir) {
    throw new Error(`go mod download ${moduleAtVersion} failed (exit ${download.exitCode}): ${await lastLine(logFile)}; log: ${logFile}`);
  }
  return info.Dir;
}

export interface LoggedRunOptions {
  cwd: string;
  env: Env;
  /** Gets a `$ command` line, then the command's stderr and stdout. */
  log: string;
  /** Return stdout (still copied to the log afterwards) instead of streaming it into the log. */
  captureStdout?: boolean;
  /** Lowest CPU and I/O priority (nice -n 19 ionice -c3): other work shares these 2 cores. */
  niced?: boolean;
  /** What the command works on, for the error: "go build of <of> failed ...". */
  of?: string;
}

/**
 * Runs a build step with its output in a log file, for builds that are not a plain `goBuild` (the
 * kube substrate's cluster binaries and prometheus-operator). Returns stdout when captured, else ''.
 * A non-zero exit throws one line: "go mod edit of <of> failed (exit 1): <the log's last line>; log: <file>".
 */
export async function runLogged(command: string, args: string[], opts: LoggedRunOptions): Promise<string> {
  const [file, argv] = opts.niced ? ['nice', ['-n', '19', 'ionice', '-c3', command, ...args]] : [command, args];
  await appendFile(opts.log, `\n$ ${file} ${argv.join(' ')}\n`);
  const result = await execa(file, argv, {
    cwd: opts.cwd,
    env: opts.env,
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    stdout: opts.captureStdout ? 'pipe' : { file: opts.log, append: true },
    stderr: { file: opts.log, append: true },
  });
  if (opts.captureStdout) await appendFile(opts.log, `${result.stdout}\n`);
  if (result.exitCode !== 0) {
    // The command and its subcommands up to the first flag: "go build", "go mod download".
    const subcommands = args.slice(0, 2);
    const flag = subcommands.findIndex((arg) => arg.startsWith('-'));
    const what = [command, ...(flag === -1 ? subcommands : subcommands.slice(0, flag))].join(' ');
    throw new Error(`${what}${opts.of ? ` of ${opts.of}` : ''} failed (exit ${result.exitCode}): ${await lastLine(opts.log)}; log: ${opts.log}`);
  }
  return typeof result.stdout === 'string' ? result.stdout : '';
}

/** Stamps the pinned version into the binary, so that `--version` tells the truth. */
export function ldflags(pin: PinnedVersion, now: Date = new Date()): string {
  const flags = ['-s', '-w']; // no symbol table / DWARF: smaller binary, faster link; stack traces still work
  if (pin.versionPackage) {
    // prometheus/common/version, the way promu stamps release builds.
    const buildDate = now.toISOString().replace(/[-]/g, '').replace('T', '-').slice(0, 17); // 20060102-15:04:05
    const variables: Record<string, string> = {
      Version: pin.version,
      Revision: pin.goModuleVersion, // no git checkout here; the module version identifies the source exactly
      Branch: 'HEAD',
      BuildUser: 'thanos-ha-e2e',
      BuildDate: buildDate,
    };
    for (const [variable, value] of Object.entries(variables)) flags.push('-X', `${pin.versionPackage}.${variable}=${value}`);
  }
  if (pin.versionVariable) flags.push('-X', `${pin.versionVariable}=${pin.version}`);
  // versionInSource (kind): the version is a constant, which -X cannot set and need not.
  return flags.join(' ');
}

/** One `go env` value (GOPROXY, ...) as the build's environment sets it. */
async function goEnvValue(name: string, env: Env): Promise<string> {
  const { stdout } = await execa('go', ['env', name], { env, extendEnv: false, stdin: 'ignore', timeout: 30_000 });
  return stdout.trim();
}

/** The Go version ("go1.26.8"), or GoNotFoundError when there is no usable `go` on PATH. */
export async function findGo(env: Env = process.env): Promise<string> {
  try {
    const { stdout } = await execa('go', ['env', 'GOVERSION'], { env, extendEnv: false, stdin: 'ignore', timeout: 30_000 });
    return stdout.trim();
  } catch (error) {
    throw new GoNotFoundError(`no usable go on PATH (${error instanceof Error ? error.message.split('\n')[0] : error})`);
  }
}

export function formatElapsed(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

async function lastLine(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const line = text.trimEnd().split('\n').at(-1) ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
