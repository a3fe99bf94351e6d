import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Env } from './cache.ts';
import {
  findPython,
  localstackPaths,
  localstackPin,
  noPythonMessage,
  pipFailure,
  pythonCandidates,
  requirement,
  resolveLocalstack,
} from './localstack.ts';
import { tempDir } from './testdata/temp-dir.ts';

const pin = localstackPin();

async function isolatedEnv(extra: Env = {}): Promise<Env> {
  return { THANOS_HA_E2E_CACHE: await tempDir('cache'), PATH: process.env.PATH, HOME: await tempDir('home'), ...extra };
}

/** A fake Python: answers the probe with `version`; `-m venv DIR` makes a venv whose python prints `pipOutput` and fails. */
async function fakePython(version: string, pipOutput = ''): Promise<string> {
  const dir = await tempDir('python');
  const venvPython = `#!/bin/sh\ncat <<'EOF'\n${pipOutput}\nEOF\nexit 1\n`;
  const script = `#!/bin/sh
if [ "$1" = "--version" ]; then echo "Python ${version}"; exit 0; fi
if [ "$1" = "-c" ]; then echo "${version}"; exit 0; fi
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then mkdir -p "$3/bin"; cat > "$3/bin/python" <<'PY'
${venvPython}PY
chmod +x "$3/bin/python"; exit 0; fi
exit 2
`;
  const path = join(dir, 'python3');
  await writeFile(path, script);
  await chmod(path, 0o755);
  return path;
}

describe('the LocalStack pin (fixtures/versions.json "localstack")', () => {
  it('is localstack-core 2026.3.0 with its runtime extra, Python >= 3.13, dependencies as of the day after its upload', () => {
    expect(pin.version).toBe('2026.3.0');
    expect(requirement(pin)).toBe('localstack-core[base-runtime]==2026.3.0');
    expect(pin.python).toBe('3.13');
    expect(pin.uploadedPriorTo).toBe('2026-03-24T00:00:00Z');
    expect(pin.image).toBe('localstack/localstack:4.14.0');
  });

  it('says why: no token, the Python it needs, the persistence verdict', () => {
    expect(pin.why).toContain('LOCALSTACK_AUTH_TOKEN');
    expect(pin.why).toContain('3.13');
    expect(pin.why).toContain('PERSISTENCE=1');
  });

  it('refuses a versions file whose pin is malformed, in one line naming the field', async () => {
    const file = join(await tempDir('versions'), 'versions.json');
    await writeFile(file, JSON.stringify({ localstack: { ...pin, python: '3' } }));
    expect(() => localstackPin(file)).toThrow(/^[^\n]*versions\.json: localstack\.python: expected a Python version like 3\.13$/);
  });

  it('keeps the virtual environment in the harness cache, one per version', () => {
    const paths = localstackPaths(pin, { THANOS_HA_E2E_CACHE: '/c' });
    expect(paths).toEqual({
      venv: '/c/localstack/localstack-core-2026.3.0',
      marker: '/c/localstack/localstack-core-2026.3.0/.complete',
      lock: '/c/localstack/localstack-core-2026.3.0.lock',
      log: '/c/logs/localstack-core-2026.3.0.pip.log',
    });
  });
});

describe('finding a Python for LocalStack', () => {
  it('tries THANOS_HA_E2E_PYTHON alone when set', async () => {
    expect(await pythonCandidates('3.13', { THANOS_HA_E2E_PYTHON: '/x/python' })).toEqual(['/x/python']);
  });

  it('tries python3.N on PATH down to the minimum, python3, python, then pyenv versions newest first', async () => {
    const root = await tempDir('pyenv');
    for (const v of ['3.11.7', '3.13.0', '3.12.1', 'system']) await mkdir(join(root, 'versions', v), { recursive: true });
    const c = await pythonCandidates('3.13', { PYENV_ROOT: root });
    expect(c.slice(0, 2)).toEqual(['python3.20', 'python3.19']);
    expect(c).not.toContain('python3.12');
    expect(c.slice(-5)).toEqual(['python3', 'python', ...['3.13.0', '3.12.1', '3.11.7'].map((v) => join(root, 'versions', v, 'bin', 'python3'))]);
  });

  it('takes a Python that is new enough', async () => {
    const path = await fakePython('3.13.0');
    expect(await findPython(pin, await isolatedEnv({ THANOS_HA_E2E_PYTHON: path }))).toEqual({ path, version: '3.13.0' });
  });

  it('refuses an older one in one line that names what it found, the minimum and the variable', async () => {
    const path = await fakePython('3.11.7');
    const error = await findPython(pin, await isolatedEnv({ THANOS_HA_E2E_PYTHON: path })).catch((e: Error) => e.message);
    expect(error).not.toContain('\n');
    expect(error).toContain('needs Python >= 3.13');
    expect(error).toContain(`${path} (3.11.7)`);
    expect(error).toContain('THANOS_HA_E2E_PYTHON=');
  });

  it('says so in one line when there is no Python at all', async () => {
    const error = await findPython(pin, await isolatedEnv({ THANOS_HA_E2E_PYTHON: '/nonexistent/python3' })).catch((e: Error) => e.message);
    expect(error).toMatch(/^LocalStack 2026\.3\.0 \(localstack-core\) needs Python >= 3\.13 with venv and pip; THANOS_HA_E2E_PYTHON=\/nonexistent\/python3 does not run: install one/);
    expect(noPythonMessage(pin, [], {})).toContain('found no Python');
    expect(noPythonMessage(pin, [{ path: '/usr/bin/python3', version: '3.13.1', problem: 'no ensurepip module' }], {})).toContain('/usr/bin/python3 (3.13.1, no ensurepip module)');
  });
});

const UNREACHABLE = `WARNING: Retrying (Retry(total=1, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError('<pip._vendor.urllib3.connection.HTTPSConnection object at 0x7f>: Failed to establish a new connection: [Errno -2] Name or service not known')': /simple/pip/
ERROR: Could not find a version that satisfies the requirement pip==26.3 (from versions: none)
ERROR: No matching distribution found for pip==26.3`;

describe("pip's failures in one line", () => {
  it('PyPI out of reach: says so, with the connection error', () => {
    const line = pipFailure(UNREACHABLE, pin);
    expect(line).toMatch(/^pip cannot reach PyPI to install localstack-core\[base-runtime\]==2026\.3\.0: Failed to establish a new connection: \[Errno -2\] Name or service not known \(pip: ERROR: Could not find a version/);
    expect(line).not.toContain('\n');
  });

  it('a version PyPI does not list: names the newest it does', () => {
    const line = pipFailure('ERROR: Could not find a version that satisfies the requirement localstack-core==2026.3.0 (from versions: 4.13.1, 4.14.0)\nERROR: No matching distribution found', pin);
    expect(line).toBe(`PyPI lists no localstack-core 2026.3.0 uploaded before 2026-03-24T00:00:00Z (it lists: 4.13.1, 4.14.0): move the pin in fixtures/versions.json ("localstack")`);
  });

  it('anything else: pip\'s last error line', () => {
    expect(pipFailure('Collecting x\nERROR: Failed building wheel for psutil\n', pin)).toBe('pip could not install localstack-core[base-runtime]==2026.3.0: ERROR: Failed building wheel for psutil');
  });
});

describe('resolveLocalstack', () => {
  it('only looks when asked to: not provisioned is one line naming the command', async () => {
    const env = await isolatedEnv();
    await expect(resolveLocalstack({ env, lookOnly: true })).rejects.toThrow(/^LocalStack 2026\.3\.0 is not provisioned \(THANOS_HA_E2E_LOCALSTACK_VENV unset, nothing at .*\); run: node harness\/cli\.ts setup localstack$/);
  });

  it('takes the cache once an install completed (its marker), without running Python', async () => {
    const env = await isolatedEnv({ THANOS_HA_E2E_PYTHON: '/nonexistent/python3' });
    const paths = localstackPaths(pin, env);
    await mkdir(paths.venv, { recursive: true });
    await writeFile(paths.marker, 'done\n');
    expect(await resolveLocalstack({ env })).toEqual({ version: '2026.3.0', venv: paths.venv, python: join(paths.venv, 'bin', 'python'), source: 'cache' });
  });

  it('an unreachable PyPI: one line with pip\'s error, and nothing left in the cache', async () => {
    const env = await isolatedEnv({ THANOS_HA_E2E_PYTHON: await fakePython('3.13.0', UNREACHABLE) });
    const progress: string[] = [];
    const error = await resolveLocalstack({ env, onProgress: (l) => progress.push(l) }).catch((e: Error) => e.message);
    expect(error).toMatch(/^pip cannot reach PyPI to install localstack-core\[base-runtime\]==2026\.3\.0: Failed to establish a new connection: \[Errno -2\] Name or service not known .*\(log: .*localstack-core-2026\.3\.0\.pip\.log\)$/);
    expect(progress[0]).toMatch(/^installing localstack-core\[base-runtime\]==2026\.3\.0 from PyPI into .* with Python 3\.13\.0/);
    await expect(resolveLocalstack({ env, lookOnly: true })).rejects.toThrow(/not provisioned/);
  });

  it('an override that is no LocalStack venv: one line naming the variable', async () => {
    const env = await isolatedEnv({ THANOS_HA_E2E_LOCALSTACK_VENV: '/nonexistent/venv' });
    const error = await resolveLocalstack({ env }).catch((e: Error) => e.message);
    expect(error).toMatch(/^THANOS_HA_E2E_LOCALSTACK_VENV=\/nonexistent\/venv: \/nonexistent\/venv has no localstack-core: /);
    expect(error).not.toContain('\n');
  });
});

