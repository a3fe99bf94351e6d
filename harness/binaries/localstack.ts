// LocalStack, provisioned like the binaries: the pinned localstack-core (fixtures/versions.json,
// "localstack") installed from PyPI into a virtual environment in the harness cache, under a lock,
// with progress lines. It is not a Go binary, so it is not one of BINARY_NAMES: `setup` installs it
// only when asked (`setup localstack`, or THANOS_HA_E2E_S3=localstack), so that a plain setup stays
// as fast as it was. Resolved in this order:
//   1. THANOS_HA_E2E_LOCALSTACK_VENV: a virtual environment with localstack-core installed;
//   2. the cache, <cache>/localstack/localstack-core-<version>/ (complete once its marker exists);
//   3. an install from PyPI with a Python >= the pin's (THANOS_HA_E2E_PYTHON, python3.13 and newer on
//      PATH, python3, pyenv's versions), its dependencies as PyPI had them on the pin's day;
//   4. otherwise one line: no such Python, pip missing, PyPI unreachable (with pip's error).
//
//   <cache>/localstack/localstack-core-<version>/          the virtual environment (its bin/python runs LocalStack)
//   <cache>/localstack/localstack-core-<version>/.complete written last: a venv without it is a crashed install
//   <cache>/localstack/localstack-core-<version>.lock
//   <cache>/logs/localstack-core-<version>.pip.log
import { access, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { z } from 'zod';
import { cacheRoot, type Env } from './cache.ts';
import { withFileLock } from './lock.ts';
import { oneLine, readVersionsSection, VERSIONS_FILE } from './versions.ts';

export const LOCALSTACK_VENV_VARIABLE = 'THANOS_HA_E2E_LOCALSTACK_VENV';
export const PYTHON_VARIABLE = 'THANOS_HA_E2E_PYTHON';

const pinSchema = z.object({
  version: z.string().regex(/^\d+\.\d+\.\d+$/, 'expected a version like 2026.3.0'),
  why: z.string().min(1),
  pypiPackage: z.string().regex(/^[\w.-]+$/),
  extras: z.array(z.string().regex(/^[\w.-]+$/)).default([]),
  /** The lowest Python it runs on, "3.13". */
  python: z.string().regex(/^\d+\.\d+$/, 'expected a Python version like 3.13'),
  /** The pip the virtual environment is upgraded to first (it must know --uploaded-prior-to). */
  pip: z.string().regex(/^\d+(\.\d+)*$/),
  /** pip --uploaded-prior-to: the dependencies as PyPI had them then (localstack-core pins few). */
  uploadedPriorTo: z.string().datetime(),
  /** The upstream LocalStack image the Docker substrates use where the engine has it or can pull it. */
  image: z.string().min(1),
});
export type LocalstackPin = z.infer<typeof pinSchema>;

export function localstackPin(file: string = VERSIONS_FILE): LocalstackPin {
  return readVersionsSection('localstack', pinSchema, file);
}

/** "localstack-core[base-runtime]==2026.3.0" */
export function requirement(pin: LocalstackPin): string {
  return `${pin.pypiPackage}${pin.extras.length ? `[${pin.extras.join(',')}]` : ''}==${pin.version}`;
}

export interface LocalstackPaths {
  venv: string;
  marker: string;
  lock: string;
  log: string;
}

export function localstackPaths(pin: LocalstackPin, env: Env = process.env): LocalstackPaths {
  const root = cacheRoot(env);
  const id = `${pin.pypiPackage}-${pin.version}`;
  const venv = join(root, 'localstack', id);
  return { venv, marker: join(venv, '.complete'), lock: join(root, 'localstack', `${id}.lock`), log: join(root, 'logs', `${id}.pip.log`) };
}

export interface ResolvedLocalstack {
  version: string;
  /** The virtual environment; LocalStack runs as `<venv>/bin/python -m localstack.runtime.main`. */
  venv: string;
  python: string;
  source: 'env' | 'cache' | 'pip';
}

export const venvPython = (venv: string) => join(venv, 'bin', 'python');

/** "Python 3.13.0" or "3.13.0" → [3, 13, 0]. */
export function parsePythonVersion(text: string): [number, number, number] | undefined {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

export function atLeast(version: [number, number, number], minimum: string): boolean {
  const [major, minor] = minimum.split('.').map(Number) as [number, number];
  return version[0] > major || (version[0] === major && version[1] >= minor);
}

export interface PythonCandidate {
  path: string;
  /** "3.13.0"; undefined when it would not run. */
  version?: string;
  /** Why it cannot make the virtual environment (no venv or ensurepip module). */
  problem?: string;
}

/**
 * The Pythons to try, in order: THANOS_HA_E2E_PYTHON alone when set; else python3.<n> for n from 20
 * down to the minimum's minor, python3 and python on PATH, then pyenv's installed versions
 * (${PYENV_ROOT:-~/.pyenv}/versions/<v>/bin/python3), newest first.
 */
export async function pythonCandidates(minimum: string, env: Env = process.env): Promise<string[]> {
  if (env[PYTHON_VARIABLE]) return [env[PYTHON_VARIABLE]];
  const minor = Number(minimum.split('.')[1]);
  const onPath: string[] = [];
  for (let m = 20; m >= minor; m--) onPath.push(`python3.${m}`);
  onPath.push('python3', 'python');
  const pyenvRoot = env.PYENV_ROOT || join(env.HOME || homedir(), '.pyenv');
  const versions = (await readdir(join(pyenvRoot, 'versions')).catch(() => [] as string[]))
    .filter((v) => /^\d+\.\d+(\.\d+)?$/.test(v))
    .sort((a, b) => compareVersions(parsePythonVersion(b)!, parsePythonVersion(a)!));
  return [...onPath, ...versions.map((v) => join(pyenvRoot, 'versions', v, 'bin', 'python3'))];
}

const compareVersions = (a: [number, number, number], b: [number, number, number]) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

const PROBE = 'import sys; import venv, ensurepip; print("%d.%d.%d" % sys.version_info[:3])';

async function probePython(path: string, env: Env): Promise<PythonCandidate | undefined> {
  const result = await execa(path, ['-c', PROBE], { env: pythonEnv(env), extendEnv: false, reject: false, stdin: 'ignore', timeout: 20_000, all: true });
  if ((result as { code?: string }).code === 'ENOENT') return undefined;
  if (result.exitCode === 0) return { path, version: result.stdout.trim() };
  const version = await execa(path, ['--version'], { env: pythonEnv(env), extendEnv: false, reject: false, stdin: 'ignore', timeout: 20_000, all: true });
  if (version.exitCode !== 0) return undefined; // a pyenv shim for a version not installed, say
  const missing = /No module named '?(\w+)/.exec(result.all ?? '')?.[1];
  return { path, version: parsePythonVersion(version.all ?? '')?.join('.'), problem: missing ? `no ${missing} module` : oneLine(result.all || `exit ${result.exitCode}`) };
}

/**
 * The first Python that is at least pin.python and can make a virtual environment with pip; else a
 * one-line error that says which Pythons were found and what to install or set.
 */
export async function findPython(pin: LocalstackPin, env: Env = process.env): Promise<{ path: string; version: string }> {
  const found: PythonCandidate[] = [];
  const seen = new Set<string>();
  for (const path of await pythonCandidates(pin.python, env)) {
    const c = await probePython(path, env);
    if (!c) continue;
    const key = `${c.version}:${c.problem ?? ''}`;
    if (c.version && !c.problem && atLeast(parsePythonVersion(c.version)!, pin.python)) return { path: c.path, version: c.version };
    if (!seen.has(key)) found.push(c);
    seen.add(key);
  }
  throw new Error(noPythonMessage(pin, found, env));
}

export function noPythonMessage(pin: LocalstackPin, found: PythonCandidate[], env: Env): string {
  const what = `LocalStack ${pin.version} (${pin.pypiPackage}) needs Python >= ${pin.python} with venv and pip`;
  const seen = found.length
    ? `found ${found.map((c) => `${c.path} (${c.version ?? '?'}${c.problem ? `, ${c.problem}` : ''})`).join(', ')}`
    : env[PYTHON_VARIABLE]
      ? `${PYTHON_VARIABLE}=${env[PYTHON_VARIABLE]} does not run`
      : 'found no Python';
  return `${what}; ${seen}: install one (e.g. \`pyenv install ${pin.python}\`; Debian's python3-venv for the venv module) or set ${PYTHON_VARIABLE}=/path/to/python${pin.python}`;
}

/**
 * pip's failure in one line. PyPI out of reach (no route, DNS, a proxy refusing, TLS) is said as such,
 * with pip's own connection error; a version PyPI does not list, with the versions it does.
 */
export function pipFailure(output: string, pin: LocalstackPin): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  const connection = lines.find((l) =>
    /NewConnectionError|Failed to establish a new connection|Name or service not known|Temporary failure in name resolution|ConnectTimeout|ProxyError|SSLError|Connection refused|Network is unreachable|ReadTimeoutError/.test(l),
  );
  if (connection) {
    const why = /(Failed to establish a new connection: [^'")]+|Name or service not known|Temporary failure in name resolution|Connection refused|Network is unreachable|ProxyError[^'")]*|SSLError[^'")]*|Read timed out|ConnectTimeout[^'")]*)/.exec(connection)?.[1] ?? connection;
    return `pip cannot reach PyPI to install ${requirement(pin)}: ${why.trim().slice(0, 200)} (pip: ${lines.find((l) => l.startsWith('ERROR:'))?.slice(0, 200) ?? connection.slice(0, 200)})`;
  }
  const versions = /from versions: ([^)]*)\)/.exec(output)?.[1];
  if (versions !== undefined && !versions.split(', ').includes(pin.version)) {
    return `PyPI lists no ${pin.pypiPackage} ${pin.version} uploaded before ${pin.uploadedPriorTo} (it lists: ${versions.split(', ').slice(-5).join(', ') || 'none'}): move the pin in fixtures/versions.json ("localstack")`;
  }
  const error = lines.filter((l) => l.startsWith('ERROR:')).at(-1) ?? lines.at(-1) ?? 'no output';
  return `pip could not install ${requirement(pin)}: ${error.slice(0, 300)}`;
}

/** The environment Python runs in: the caller's, less what would make it read other packages. */
function pythonEnv(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && k !== 'PYTHONPATH' && k !== 'PYTHONHOME' && k !== 'VIRTUAL_ENV') out[k] = v;
  out.PYTHONNOUSERSITE = '1';
  return out;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** The version a virtual environment's localstack reports ("2026.3.0"); throws in one line when it has none. */
export async function installedVersion(venv: string, env: Env = process.env): Promise<string> {
  const result = await execa(venvPython(venv), ['-c', 'from importlib.metadata import version; print(version("localstack-core"))'], {
    env: pythonEnv(env),
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    timeout: 30_000,
    all: true,
  });
  if (result.exitCode !== 0) throw new Error(`${venv} has no localstack-core: ${oneLine(result.all || (result as { code?: string }).code || `exit ${result.exitCode}`)}`);
  return result.stdout.trim();
}

export interface ResolveLocalstackOptions {
  env?: Env;
  onProgress?: (line: string) => void;
  /** Only look (override, cache): what `doctor` does. */
  lookOnly?: boolean;
  pin?: LocalstackPin;
}

export async function resolveLocalstack(opts: ResolveLocalstackOptions = {}): Promise<ResolvedLocalstack> {
  const env = opts.env ?? process.env;
  const progress = opts.onProgress ?? (() => {});
  const pin = opts.pin ?? localstackPin();
  const override = env[LOCALSTACK_VENV_VARIABLE];
  if (override) {
    const version = await installedVersion(override, env).catch((error: unknown) => {
      throw new Error(`${LOCALSTACK_VENV_VARIABLE}=${override}: ${oneLine(error)}`);
    });
    return { version, venv: override, python: venvPython(override), source: 'env' };
  }
  const paths = localstackPaths(pin, env);
  const cached = { version: pin.version, venv: paths.venv, python: venvPython(paths.venv) };
  if (await exists(paths.marker)) return { ...cached, source: 'cache' };
  if (opts.lookOnly) throw new Error(`LocalStack ${pin.version} is not provisioned (${LOCALSTACK_VENV_VARIABLE} unset, nothing at ${paths.venv}); run: node harness/cli.ts setup localstack`);

  await mkdir(join(cacheRoot(env), 'localstack'), { recursive: true });
  await mkdir(join(cacheRoot(env), 'logs'), { recursive: true });
  return withFileLock(
    paths.lock,
    async () => {
      if (await exists(paths.marker)) return { ...cached, source: 'cache' as const };
      await rm(paths.venv, { recursive: true, force: true }); // a crashed install's leftovers
      const python = await findPython(pin, env);
      const started = Date.now();
      progress(`installing ${requirement(pin)} from PyPI into ${paths.venv} with Python ${python.version} (${python.path}); about 20 s on 2 cores (log: ${paths.log})`);
      const ticker = setInterval(() => progress(`  still installing ${pin.pypiPackage} ${pin.version}: ${Math.round((Date.now() - started) / 1000)}s elapsed`), 15_000);
      try {
        await run(python.path, ['-m', 'venv', paths.venv], paths.log, env, 'python -m venv');
        const pip = [venvPython(paths.venv), '-m', 'pip'];
        // Bounded: an unreachable PyPI fails in about a minute, not after pip's default 5 x 180 s.
        const net = ['--retries', '2', '--timeout', '30', '--disable-pip-version-check'];
        await run(pip[0]!, [...pip.slice(1), 'install', ...net, `pip==${pin.pip}`], paths.log, env, `pip install pip==${pin.pip}`, pin);
        await run(pip[0]!, [...pip.slice(1), 'install', ...net, '--uploaded-prior-to', pin.uploadedPriorTo, requirement(pin)], paths.log, env, 'pip install', pin);
        const version = await installedVersion(paths.venv, env);
        if (version !== pin.version) throw new Error(`pip installed ${pin.pypiPackage} ${version}, not the pinned ${pin.version}`);
        await writeFile(paths.marker, `${requirement(pin)} uploaded before ${pin.uploadedPriorTo}, Python ${python.version}\n`);
        progress(`  ${pin.pypiPackage} ${pin.version} installed in ${((Date.now() - started) / 1000).toFixed(1)}s`);
        return { ...cached, source: 'pip' as const };
      } catch (error) {
        await rm(paths.venv, { recursive: true, force: true });
        throw error;
      } finally {
        clearInterval(ticker);
      }
    },
    { onWait: (pid) => progress(`waiting for another process (pid ${pid}) that is installing LocalStack ${pin.version} (lock: ${paths.lock})`) },
  );
}

async function run(file: string, args: string[], log: string, env: Env, what: string, pin?: LocalstackPin): Promise<void> {
  const result = await execa(file, args, {
    env: pythonEnv(env),
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    all: true,
    timeout: 15 * 60_000,
  });
  await writeFile(log, `$ ${file} ${args.join(' ')}\n${result.all ?? ''}\n`, { flag: 'a' });
  if (result.exitCode === 0) return;
  const output = result.all ?? '';
  if (pin && /No module named pip/.test(output)) throw new Error(`the virtual environment has no pip (Debian: apt-get install python3-venv python3-pip): ${oneLine(output)}`);
  throw new Error(pin ? `${pipFailure(output, pin)} (log: ${log})` : `${what} failed: ${oneLine(output || `exit ${result.exitCode}`)} (log: ${log})`);
}

/** Asked for by THANOS_HA_E2E_S3: LocalStack is provisioned only where a run will use it. */
export function localstackWanted(env: Env = process.env): boolean {
  return env.THANOS_HA_E2E_S3 === 'localstack';
}
