// Finds or provisions each binary at its pinned version. In order:
//   1. an environment override (THANOS_BIN, PROMETHEUS_BIN, ...);
//   2. the cache (see cache.ts);
//   3. the official release archive from GitHub, checksum-verified (fails fast where GitHub is unreachable);
//   4. a build from the Go module proxy, when `go` is on PATH;
//   5. otherwise a one-line error saying how to fix it.
// Steps 3 and 4 run under a per-binary lock file and end with an atomic rename, so concurrent runs
// never see or produce a partial binary; a run that waits on the lock then uses the other's result.
import { access, constants, mkdir, rename, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { cachePaths, removeLeftoverWorkDirs, removeWorkDir, type CachePaths, type Env } from './cache.ts';
import { downloadRelease, releaseArchive } from './download.ts';
import { GoNotFoundError, goBuild, type Builder } from './go-build.ts';
import { withFileLock } from './lock.ts';
import { buildId, oneLine, pinnedVersion, type PinnedVersion } from './versions.ts';
import { BINARY_NAMES, type BinaryName } from './names.ts';

export type { BinaryName } from './names.ts';

export type BinarySource = 'env' | 'cache' | 'download' | 'go-build';

export interface ResolvedBinary {
  name: BinaryName;
  path: string;
  /** The pinned version (fixtures/versions.json). */
  version: string;
  /** The version the binary itself reports with --version; undefined if it prints none (an unstamped build). */
  reportedVersion: string | undefined;
  source: BinarySource;
}

export interface ResolveOptions {
  onProgress?: (line: string) => void;
  /** Only look (environment override, cache); never download or build. What `doctor` uses. */
  lookOnly?: boolean;
  /** Environment to read the variables from (default: process.env). */
  env?: Env;
  /** Test seam: where release archives are downloaded from (default https://github.com). */
  releaseBaseUrl?: string;
  /** Test seam: what builds the binary in step 4 (default: go build from the module proxy). */
  build?: Builder;
}

/** THANOS_BIN, PROMETHEUS_BIN, PROMTOOL_BIN, ALERTMANAGER_BIN, VERSITYGW_BIN, HELM_BIN, KUBECTL_VALIDATE_BIN, KIND_BIN */
export function envVarName(name: BinaryName): string {
  return `${name.toUpperCase().replaceAll('-', '_')}_BIN`;
}

export async function resolveBinary(name: BinaryName, opts: ResolveOptions = {}): Promise<ResolvedBinary> {
  const env = opts.env ?? process.env;
  const progress = opts.onProgress ?? (() => {});
  const pin = pinnedVersion(name);
  const resolved = async (path: string, source: BinarySource): Promise<ResolvedBinary> => ({
    name,
    path,
    version: pin.version,
    reportedVersion: await readReportedVersion(path, pin.versionArgs),
    source,
  });

  const variable = envVarName(name);
  const override = env[variable];
  if (override) {
    await assertExecutable(override, variable);
    return resolved(override, 'env');
  }

  const paths = cachePaths(name, buildId(pin), env);
  if (await isExecutable(paths.binary)) return resolved(paths.binary, 'cache');
  if (opts.lookOnly) {
    throw new Error(`${name} ${pin.version} is not provisioned (${variable} unset, nothing at ${paths.binary}); run: node harness/cli.ts setup`);
  }

  await mkdir(dirname(paths.lock), { recursive: true });
  const onWait = (pid: number) =>
    progress(`waiting for another process (pid ${pid}) that is provisioning ${name} ${pin.version} (lock: ${paths.lock})`);
  return withFileLock(
    paths.lock,
    async () => {
      // Whoever held the lock before us may have provisioned it already.
      if (await isExecutable(paths.binary)) return resolved(paths.binary, 'cache');
      await removeLeftoverWorkDirs(name, buildId(pin), env);
      try {
        const { file, source } = await downloadOrBuild(name, pin, paths, { ...opts, env, onProgress: progress });
        await mkdir(dirname(paths.binary), { recursive: true });
        await rename(file, paths.binary); // atomic: the final path never shows a partial file
        return resolved(paths.binary, source);
      } finally {
        await removeWorkDir(paths.workDir); // a Go build tree is hundreds of MB
      }
    },
    { onWait },
  );
}

/** Resolves every binary, one after the other (builds compete for the same cores anyway). */
export async function resolveAll(opts: ResolveOptions = {}): Promise<ResolvedBinary[]> {
  // The versions (fixtures/versions.json and the environment's overrides) are read once for every
  // binary: an invalid override fails each binary with the same error, so it is reported once, here,
  // before anything is provisioned.
  for (const name of BINARY_NAMES) pinnedVersion(name);
  const resolved: ResolvedBinary[] = [];
  const failures: string[] = [];
  for (const name of BINARY_NAMES) {
    try {
      resolved.push(await resolveBinary(name, opts));
    } catch (error) {
      failures.push(oneLine(error)); // keep going: the others may still be provisioned for next time
    }
  }
  if (failures.length > 0) throw new Error([...new Set(failures)].join('\n')); // a cause shared by several binaries once
  return resolved;
}

type Options = ResolveOptions & { env: Env; onProgress: (line: string) => void };

/** Steps 3 to 5; returns a complete binary inside paths.workDir. */
async function downloadOrBuild(
  name: BinaryName,
  pin: PinnedVersion,
  paths: CachePaths,
  opts: Options,
): Promise<{ file: string; source: BinarySource }> {
  let downloadFailure: string;
  if (isSet(opts.env.THANOS_HA_E2E_NO_DOWNLOAD)) {
    downloadFailure = 'downloads disabled by THANOS_HA_E2E_NO_DOWNLOAD';
  } else {
    try {
      const archive = releaseArchive(name, pin.version, opts.releaseBaseUrl);
      opts.onProgress(`downloading ${name} ${pin.version} from ${archive.archiveUrl}`);
      const file = await downloadRelease(archive, join(paths.workDir, 'download'));
      return { file, source: 'download' };
    } catch (error) {
      downloadFailure = oneLine(error);
      opts.onProgress(`download of ${name} ${pin.version} failed (${downloadFailure}); trying to build it`);
    }
  }

  const build = opts.build ?? goBuild;
  try {
    const file = await build({ name, pin, workDir: paths.workDir, logFile: paths.buildLog, onProgress: opts.onProgress, env: opts.env });
    return { file, source: 'go-build' };
  } catch (error) {
    if (error instanceof GoNotFoundError) {
      throw new Error(
        `${name} ${pin.version} is not available: set ${envVarName(name)}=/path/to/${name}, ` +
          `or install Go >= 1.26 to build it from the Go module proxy, or allow network access to github.com ` +
          `(download: ${downloadFailure}; build: ${error.message})`,
      );
    }
    throw new Error(`${name} ${pin.version}: ${oneLine(error)}`);
  }
}

/** Runs `<binary> --version` (or the pin's versionArgs) and returns the first version-looking token of its first line. */
export async function readReportedVersion(binary: string, versionArgs: string[] = ['--version']): Promise<string | undefined> {
  if (versionArgs.length === 0) return undefined; // the binary has no way to say (kubectl-validate)
  const result = await execa(binary, versionArgs, { all: true, reject: false, stdin: 'ignore', timeout: 10_000 });
  return parseReportedVersion(result.all ?? '');
}

/** "thanos, version 0.42.4 (branch: ...)" → "0.42.4"; versitygw's "Version  : 1.8.0" → "1.8.0". */
export function parseReportedVersion(output: string): string | undefined {
  const firstLine = output.split('\n').find((line) => line.trim() !== '') ?? '';
  return /(?:^|[\s:(])v?(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?)/.exec(firstLine)?.[1];
}

async function assertExecutable(path: string, variable: string): Promise<void> {
  let isFile: boolean;
  try {
    isFile = (await stat(path)).isFile();
  } catch {
    throw new Error(`${variable}=${path}: no such file`);
  }
  if (!isFile) throw new Error(`${variable}=${path}: not a regular file`);
  if (!(await isExecutable(path))) throw new Error(`${variable}=${path}: not executable (chmod +x it)`);
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function isSet(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}
