// `doctor`: what would this machine run with? Only looks (never downloads or builds), so it is instant.
import { execa } from 'execa';
import type { Env } from './cache.ts';
import { findGo } from './go-build.ts';
import { resolveBinary, type BinarySource } from './provision.ts';
import { findPython, localstackPin, localstackWanted, resolveLocalstack } from './localstack.ts';
import { oneLine, pinnedVersion } from './versions.ts';
import { BINARY_NAMES, type BinaryName } from './names.ts';

export interface DoctorRow {
  binary: BinaryName;
  pinned: string;
  /** The version the binary reports; undefined if it prints none or was not found. */
  found: string | undefined;
  source: BinarySource | undefined;
  path: string | undefined;
  /** Why the binary is not usable (one line), e.g. not provisioned yet. */
  error: string | undefined;
  /** Reports a version other than the pin (e.g. an environment override pointing at another release). */
  mismatch: boolean;
}

export interface ToolCheck {
  tool: 'node' | 'go' | 'docker' | 'localstack';
  /** 'warn' does not fail doctor: Go is only needed for builds, Docker is informative. */
  status: 'ok' | 'warn' | 'fail';
  detail: string;
}

export interface DoctorReport {
  rows: DoctorRow[];
  tools: ToolCheck[];
  ok: boolean;
}

export const MIN_NODE = '22.18.0';
export const MIN_GO = '1.26.0';

export async function doctor(opts: { env?: Env } = {}): Promise<DoctorReport> {
  const env = opts.env ?? process.env;
  const [rows, go, docker, localstack] = await Promise.all([
    Promise.all(BINARY_NAMES.map((name) => binaryRow(name, env))),
    checkGo(env),
    checkDocker(env),
    checkLocalstack(env),
  ]);
  const tools = [checkNode(process.versions.node), go, docker, localstack];
  const ok = rows.every((row) => row.error === undefined) && tools.every((check) => check.status !== 'fail');
  return { rows, tools, ok };
}

async function binaryRow(name: BinaryName, env: Env): Promise<DoctorRow> {
  const pinned = pinnedVersion(name).version;
  try {
    const resolved = await resolveBinary(name, { env, lookOnly: true });
    return {
      binary: name,
      pinned,
      found: resolved.reportedVersion,
      source: resolved.source,
      path: resolved.path,
      error: undefined,
      mismatch: resolved.reportedVersion !== undefined && resolved.reportedVersion !== pinned,
    };
  } catch (error) {
    return { binary: name, pinned, found: undefined, source: undefined, path: undefined, error: oneLine(error), mismatch: false };
  }
}

export function checkNode(version: string): ToolCheck {
  return isAtLeast(version, MIN_NODE)
    ? { tool: 'node', status: 'ok', detail: `v${version}` }
    : { tool: 'node', status: 'fail', detail: `v${version} is too old: need >= ${MIN_NODE} (type stripping of .ts files)` };
}

async function checkGo(env: Env): Promise<ToolCheck> {
  try {
    const goVersion = await findGo(env); // "go1.26.8"
    return isAtLeast(goVersion.replace(/^go/, ''), MIN_GO)
      ? { tool: 'go', status: 'ok', detail: `${goVersion} (builds binaries that cannot be downloaded)` }
      : { tool: 'go', status: 'warn', detail: `${goVersion} is too old to build the pinned binaries: need >= ${MIN_GO}` };
  } catch {
    return { tool: 'go', status: 'warn', detail: 'not found: only needed to build binaries that are neither cached nor downloadable' };
  }
}

async function checkDocker(env: Env): Promise<ToolCheck> {
  const info = await execa('docker', ['info', '--format', '{{.ServerVersion}}'], {
    env,
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    timeout: 10_000,
  });
  if (info.exitCode === 0) return { tool: 'docker', status: 'ok', detail: `daemon reachable (server ${info.stdout.trim()})` };
  const why = (info as { code?: string }).code === 'ENOENT' ? 'not installed' : 'installed, daemon not reachable';
  return { tool: 'docker', status: 'warn', detail: `${why} (informative: the process substrate needs no Docker)` };
}

/**
 * LocalStack (the pinned localstack-core in its virtual environment): required only where
 * THANOS_HA_E2E_S3=localstack asks for it, informative elsewhere; says which Python would install it.
 */
export async function checkLocalstack(env: Env): Promise<ToolCheck> {
  const pin = localstackPin();
  const wanted = localstackWanted(env);
  try {
    const found = await resolveLocalstack({ env, lookOnly: true, pin });
    return { tool: 'localstack', status: 'ok', detail: `${found.version} (${found.source}: ${found.venv})` };
  } catch (error) {
    const python = await findPython(pin, env).then(
      (p) => `Python ${p.version} at ${p.path} would install it`,
      (e: unknown) => oneLine(e),
    );
    const detail = `${oneLine(error)}; ${python}`;
    return wanted ? { tool: 'localstack', status: 'fail', detail } : { tool: 'localstack', status: 'warn', detail: `not installed (only for THANOS_HA_E2E_S3=localstack; \`setup localstack\` installs it): ${python}` };
  }
}

/** Compares dotted numeric versions: isAtLeast('22.9.0', '22.18.0') is false. */
export function isAtLeast(version: string, minimum: string): boolean {
  const parts = (v: string) => v.split(/[.-]/).slice(0, 3).map((part) => Number.parseInt(part, 10) || 0);
  const [have, need] = [parts(version), parts(minimum)];
  for (let i = 0; i < 3; i++) {
    const difference = (have[i] ?? 0) - (need[i] ?? 0);
    if (difference !== 0) return difference > 0;
  }
  return true;
}

export function formatDoctorReport(report: DoctorReport): string {
  const table: string[][] = [['binary', 'pinned', 'found', 'source', 'path']];
  const notes: string[] = [];
  for (const row of report.rows) {
    if (row.error !== undefined) {
      table.push([row.binary, row.pinned, '-', 'MISSING', row.error]);
      continue;
    }
    table.push([row.binary, row.pinned, row.found ?? '?', row.source ?? '-', row.path ?? '-']);
    if (row.mismatch) notes.push(`warning: ${row.binary} reports ${row.found}, but ${row.pinned} is pinned`);
    if (row.found === undefined && pinnedVersion(row.binary).versionArgs.length > 0) notes.push(`note: ${row.binary} prints no version (an unstamped build?)`);
  }
  const lines = [...alignColumns(table), ...notes, ''];
  for (const check of report.tools) lines.push(`${check.tool.padEnd(10)} ${check.status.padEnd(5)} ${check.detail}`);
  lines.push('', report.ok ? 'doctor: ok' : 'doctor: not ready (see above; `node harness/cli.ts setup` provisions missing binaries)');
  return lines.join('\n');
}

function alignColumns(table: string[][]): string[] {
  const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => (row[column] ?? '').length)));
  // The last column (path or error) is not padded, so long paths do not widen the table.
  return table.map((row) => row.map((cell, column) => (column < row.length - 1 ? cell.padEnd(widths[column]!) : cell)).join('  '));
}
