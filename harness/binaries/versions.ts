// The pinned component versions, read from fixtures/versions.json (the only place a version is written),
// and the environment overrides a CI matrix uses to choose other releases of the same modules:
//
//   THANOS_HA_E2E_THANOS_VERSION        thanos
//   THANOS_HA_E2E_PROMETHEUS_VERSION    prometheus and promtool (one Go module)
//   THANOS_HA_E2E_ALERTMANAGER_VERSION  alertmanager
//
// An override changes the version only: module, package, build tags and stamping stay the pin's, so the
// binary is provisioned exactly like the pinned one (release archive or Go build) and cached under its
// own version. It is checked when the versions are first read, before anything is provisioned or started:
// a malformed value, or a version the Go module proxy does not have, is a one-line error naming the variable.
import { accessSync, constants, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { cachePaths, type Env } from './cache.ts';
import { BINARY_NAMES, type BinaryName } from './names.ts';


export const VERSIONS_FILE = fileURLToPath(new URL('../../fixtures/versions.json', import.meta.url));

/** What we need to know to fetch or build one binary at its pinned version. */
export interface PinnedVersion {
  /** The release version, without a leading "v" (e.g. "0.42.4"). */
  version: string;
  /** Go module holding the source (e.g. "github.com/thanos-io/thanos"). */
  goModule: string;
  /** Module version to ask the Go proxy for; differs from the release for Prometheus ("v0.309.1" is 3.9.1). */
  goModuleVersion: string;
  /** Package to `go build`, relative to the module root (e.g. "./cmd/thanos"). */
  buildPackage: string;
  /** Package whose Version/Revision/... variables are set with -ldflags -X (prometheus/common/version). */
  versionPackage?: string;
  /** Or a single fully qualified variable set to the version (versitygw: "main.Version"). */
  versionVariable?: string;
  /**
   * Or nothing to stamp: the version is a constant in the module's source, so any build of that module
   * version reports it (kind: sigs.k8s.io/kind/pkg/cmd/kind/version.versionCore).
   */
  versionInSource?: boolean;
  /** Go build tags the upstream release uses (Thanos needs slicelabels: its gRPC codec casts labels unsafely). */
  buildTags: string[];
  /** How to ask the binary its version (default ["--version"]); [] when it has no way to say (kubectl-validate). */
  versionArgs: string[];
  /**
   * kubectl-validate only: the Kubernetes release (e.g. "1.33.5") whose OpenAPI v3 schemas, from the
   * k8s.io/kubernetes module, are built in as the binary's schemas for "<major>.<minor>" (see kube-schemas.ts).
   */
  kubernetesSchemas?: string;
  /**
   * Directories (relative to the module root) a release fills with its built web UI, which the module
   * zip does not carry: Alertmanager >= 0.32 embeds ui/app/dist. Where one is missing, the build puts a
   * placeholder file in it so that //go:embed compiles; that binary serves no UI (the harness uses its API).
   */
  uiEmbedDirs: string[];
  /** Why this version is pinned, for whoever moves the pin; the harness does not read it. */
  why?: string;
}

const pinSchema = z
  .object({
    version: z.string().regex(/^\d+\.\d+\.\d+(?:[-+][\w.-]+)?$/, 'expected a version like 1.2.3 (no leading v)'),
    goModule: z.string().min(1),
    goModuleVersion: z.string().regex(/^v\d+\.\d+\.\d+/, 'expected a Go module version like v1.2.3').optional(),
    buildPackage: z.string().min(1),
    versionPackage: z.string().min(1).optional(),
    versionVariable: z.string().min(1).optional(),
    versionInSource: z.boolean().optional(),
    buildTags: z.array(z.string().regex(/^\w+$/, 'expected a Go build tag')).default([]),
    versionArgs: z.array(z.string().min(1)).default(['--version']),
    kubernetesSchemas: z.string().regex(/^\d+\.\d+\.\d+$/, 'expected a Kubernetes release like 1.33.5').optional(),
    uiEmbedDirs: z.array(z.string().regex(/^[\w.-]+(?:\/[\w.-]+)*$/, 'expected a directory relative to the module root')).default([]),
    why: z.string().min(1).optional(),
  })
  .refine(
    (pin) => pin.versionPackage !== undefined || pin.versionVariable !== undefined || pin.versionInSource === true || pin.versionArgs.length === 0,
    {
      message:
        'needs versionPackage or versionVariable (to stamp the version into a Go build), versionInSource true if the source has it, ' +
        'or versionArgs [] if it reports none',
    },
  );

// Every binary must be pinned; other keys ("$comment") are allowed and ignored.
const versionsFileSchema = z.object(Object.fromEntries(BINARY_NAMES.map((name) => [name, pinSchema])));

export type PinnedVersions = Record<BinaryName, PinnedVersion>;

/** Reads and validates a versions file; a problem gives a one-line error naming the file and the field. */
export function loadVersions(file: string = VERSIONS_FILE): PinnedVersions {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: cannot read pinned versions: ${oneLine(error)}`);
  }
  const parsed = versionsFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || '(top level)';
    throw new Error(`${file}: ${field}: ${issue?.message ?? 'invalid'}`);
  }
  const versions = {} as PinnedVersions;
  for (const name of BINARY_NAMES) {
    const pin = parsed.data[name] as z.infer<typeof pinSchema>;
    versions[name] = { ...pin, goModuleVersion: pin.goModuleVersion ?? `v${pin.version}` };
  }
  return versions;
}

/**
 * Another part of the versions file (the operator's pin, the matrix's version sets), checked with its
 * own schema; a problem is one line naming the file and the field.
 */
export function readVersionsSection<T>(key: string, schema: z.ZodType<T>, file: string = VERSIONS_FILE): T {
  const parsed = z.object({ [key]: schema }).safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file}: ${issue?.path.join('.') || key}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data[key] as T;
}

let defaultVersions: PinnedVersions | undefined;

/**
 * What a provisioned binary is cached under: its version, plus the schemas built into it, so that
 * changing either pin gives a new build ("0.0.4+k8s1.34.4").
 */
export function buildId(pin: PinnedVersion): string {
  return pin.kubernetesSchemas ? `${pin.version}+k8s${pin.kubernetesSchemas}` : pin.version;
}

let defaultVersionsError: Error | undefined;

/**
 * The pin of one binary: fixtures/versions.json with the environment's version overrides applied
 * (read and checked once per process; a bad override fails every call with the same one-line error).
 */
export function pinnedVersion(name: string, versions?: PinnedVersions): PinnedVersion {
  if (!isBinaryName(name)) {
    throw new Error(`unknown binary "${name}" (known: ${BINARY_NAMES.join(', ')})`);
  }
  if (versions) return versions[name];
  if (defaultVersionsError) throw defaultVersionsError;
  try {
    defaultVersions ??= effectiveVersions();
  } catch (error) {
    defaultVersionsError = new Error(oneLine(error));
    throw defaultVersionsError;
  }
  return defaultVersions[name];
}

// ---- environment overrides ------------------------------------------------------------------------

/** Which variable chooses which binaries' version. promtool is built from the Prometheus module, so it follows Prometheus. */
export const VERSION_OVERRIDES = [
  { variable: 'THANOS_HA_E2E_THANOS_VERSION', binaries: ['thanos'] },
  { variable: 'THANOS_HA_E2E_PROMETHEUS_VERSION', binaries: ['prometheus', 'promtool'] },
  { variable: 'THANOS_HA_E2E_ALERTMANAGER_VERSION', binaries: ['alertmanager'] },
] as const satisfies readonly { variable: string; binaries: readonly BinaryName[] }[];

export interface VersionOverride {
  variable: string;
  binaries: readonly BinaryName[];
  /** The release chosen, normalised (no leading v): "0.41.0", "3.5.0". */
  version: string;
  /** What fixtures/versions.json pins instead. */
  pinned: string;
  goModule: string;
  /** The module version to ask the proxy for: "v0.41.0"; Prometheus 3.5.0 is "v0.305.0". */
  goModuleVersion: string;
}

const RELEASE = /^v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z][0-9A-Za-z.-]*)?$/;

/**
 * The Go module version of a release. Prometheus tags its module v0.<minor>.<patch> for 2.x (2.48.0 is
 * v0.48.0) and v0.<300 + minor>.<patch> for 3.x (3.9.1 is v0.309.1), because a v2 or v3 module would
 * need a /v2 or /v3 import path; the other modules are tagged with the release itself.
 */
export function goModuleVersionOf(name: BinaryName, version: string): string {
  const match = RELEASE.exec(version);
  if (!match) throw new Error(`${version} is not a release version like 1.2.3`);
  const [, major, minor, patch, pre = ''] = match;
  if (name !== 'prometheus' && name !== 'promtool') return `v${major}.${minor}.${patch}${pre}`;
  if (major === '2' && Number(minor) < 100) return `v0.${Number(minor)}.${patch}${pre}`;
  if (major !== '3') throw new Error(`Prometheus ${version}: only 2.x and 3.x releases are supported (module v0.<minor>.<patch>, v0.3<minor>.<patch>)`);
  return `v0.${300 + Number(minor)}.${patch}${pre}`;
}

/** The inverse, for listing what the proxy has: v0.305.1 → 3.5.1, v0.48.0 → 2.48.0; undefined for a module version that is no release. */
export function releaseOfGoModuleVersion(name: BinaryName, moduleVersion: string): string | undefined {
  const match = RELEASE.exec(moduleVersion);
  if (!match || !moduleVersion.startsWith('v')) return undefined;
  const [, major, minor, patch, pre = ''] = match;
  if (name !== 'prometheus' && name !== 'promtool') return `${major}.${minor}.${patch}${pre}`;
  if (major !== '0' || Number(minor) > 399 || (Number(minor) >= 100 && Number(minor) < 300)) return undefined;
  return Number(minor) >= 300 ? `3.${Number(minor) - 300}.${patch}${pre}` : `2.${Number(minor)}.${patch}${pre}`;
}

/**
 * The overrides set in `env`, checked for form only (no network). An empty variable counts as unset, so
 * a CI matrix can leave a cell at the pin. A value equal to the pin is no override.
 */
export function parseVersionOverrides(env: Env, versions: PinnedVersions): VersionOverride[] {
  const overrides: VersionOverride[] = [];
  for (const { variable, binaries } of VERSION_OVERRIDES) {
    const raw = env[variable]?.trim();
    if (!raw) continue;
    const name = binaries[0];
    const pin = versions[name];
    const keep = `or unset it to use ${pin.version} from fixtures/versions.json`;
    if (!RELEASE.test(raw)) {
      throw new Error(`${variable}=${JSON.stringify(raw)} is not a release version: set it like ${pin.version} (a leading v is accepted), ${keep}`);
    }
    const version = raw.replace(/^v/, '');
    let goModuleVersion: string;
    try {
      goModuleVersion = goModuleVersionOf(name, version);
    } catch (error) {
      const hint = name === 'prometheus' && version.startsWith('0.')
        ? ` (that looks like the Go module version; give the release, e.g. ${pin.version} for ${pin.goModuleVersion})`
        : '';
      throw new Error(`${variable}=${raw}: ${oneLine(error)}${hint}; ${keep}`);
    }
    if (version === pin.version) continue;
    overrides.push({ variable, binaries, version, pinned: pin.version, goModule: pin.goModule, goModuleVersion });
  }
  return overrides;
}

/** The pins with the overrides' versions; module, package, build tags and stamping stay as pinned. */
export function applyVersionOverrides(versions: PinnedVersions, overrides: readonly VersionOverride[]): PinnedVersions {
  const result = { ...versions };
  for (const override of overrides) {
    for (const name of override.binaries) {
      result[name] = { ...versions[name], version: override.version, goModuleVersion: override.goModuleVersion };
    }
  }
  return result;
}

/** What the Go module proxy knows of a module version; injectable so that unit tests need no network. */
export interface ModuleLookup {
  /**
   * 'yes' / 'no'; 'unknown' when the proxy could not be asked (no Go, no network): then the check is
   * skipped and provisioning reports what it finds, as it would for the pins.
   */
  has(module: string, version: string): { answer: 'yes' | 'no' | 'unknown'; detail: string };
  /** The versions the proxy lists (its /@v/list, which can be incomplete); [] if it cannot say. */
  list(module: string): string[];
}

/**
 * Fails, in one line naming the variable, when an override's module version is not on the proxy, and
 * says which nearby releases are. Skipped for an override whose binaries are already provisioned (they
 * were fetched at that version before), so a warm cache needs no network.
 */
export function checkVersionOverrides(
  overrides: readonly VersionOverride[],
  lookup: ModuleLookup,
  isProvisioned: (name: BinaryName, version: string) => boolean = () => false,
): void {
  for (const override of overrides) {
    if (override.binaries.every((name) => isProvisioned(name, override.version))) continue;
    const { answer, detail } = lookup.has(override.goModule, override.goModuleVersion);
    if (answer !== 'no') continue;
    const name = override.binaries[0]!;
    const listed = lookup
      .list(override.goModule)
      .map((moduleVersion) => releaseOfGoModuleVersion(name, moduleVersion))
      .filter((release): release is string => release !== undefined);
    const nearest = nearestVersions(override.version, listed);
    const newest = nearestVersions('999999.0.0', listed, 1, 0)[0];
    const suggestion = nearest.length
      ? `nearest it lists: ${nearest.join(', ')}${newest && !nearest.includes(newest) ? ` (newest ${newest})` : ''}; set one of those`
      : 'it lists none; set another release';
    const moduleNote = override.goModuleVersion === `v${override.version}` ? '' : ` (the module version of ${override.version})`;
    throw new Error(
      `${override.variable}=${override.version}: the Go module proxy has no ${override.goModule}@${override.goModuleVersion}${moduleNote}` +
        `${detail ? ` (${detail})` : ''}; ${suggestion} (\`go list -m -versions ${override.goModule}\`), ` +
        `or unset it to use ${override.pinned} from fixtures/versions.json`,
    );
  }
}

/** Up to `below` releases just under `version` and `above` just over it, in ascending order; pre-releases left out. */
export function nearestVersions(version: string, available: readonly string[], below = 2, above = 2): string[] {
  const releases = [...new Set(available)].filter((v) => /^\d+\.\d+\.\d+$/.test(v) && v !== version).sort(compareReleases);
  const at = releases.findIndex((v) => compareReleases(v, version) > 0);
  const split = at === -1 ? releases.length : at;
  return [...releases.slice(Math.max(0, split - below), split), ...releases.slice(split, split + above)];
}

function compareReleases(a: string, b: string): number {
  const parts = (v: string) => v.split(/[.-]/).slice(0, 3).map((part) => Number.parseInt(part, 10) || 0);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}

/**
 * Asks the Go module proxy through `go` itself, so GOPROXY, GONOSUMDB, GOPRIVATE and GOFLAGS apply as they
 * do to the build. Synchronous: it runs once per process, when the versions are first read.
 */
export function goProxyLookup(env: Env = process.env): ModuleLookup {
  const go = (args: string[]) =>
    spawnSync('go', args, {
      cwd: tmpdir(), // outside any module
      env: { ...env, GOWORK: 'off' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
  return {
    has(module, version) {
      const result = go(['list', '-m', '-json', `${module}@${version}`]);
      if (result.error) return { answer: 'unknown', detail: result.error.message };
      if (result.status === 0) return { answer: 'yes', detail: '' };
      return classifyGoListFailure(result.stderr);
    },
    list(module) {
      const result = go(['list', '-m', '-versions', module]);
      return result.status === 0 ? result.stdout.trim().split(/\s+/).slice(1) : [];
    },
  };
}

/**
 * `go list -m module@version` failed: did the proxy say the version does not exist (403/404/410,
 * "unknown revision", "invalid version"), or could it not be asked at all (DNS, refused, timeout)?
 */
export function classifyGoListFailure(stderr: string): { answer: 'no' | 'unknown'; detail: string } {
  const lines = stderr.split('\n').map((line) => line.trim()).filter(Boolean);
  const status = /\b(403 Forbidden|404 Not Found|410 Gone)\b/.exec(stderr)?.[1];
  const server = lines.find((line) => line.startsWith('server response:'))?.replace(/^server response:\s*/, '');
  if (status) return { answer: 'no', detail: [status, server].filter(Boolean).join(': ') };
  const reason = /(unknown revision [^\s:]+|invalid version: .*|no matching versions .*)$/m.exec(stderr)?.[1];
  if (reason) return { answer: 'no', detail: reason };
  return { answer: 'unknown', detail: lines.at(-1) ?? '' };
}

export interface EffectiveVersionsOptions {
  env?: Env;
  file?: string;
  lookup?: ModuleLookup;
}

/**
 * fixtures/versions.json with the environment's overrides applied and checked: what every binary is
 * provisioned at. pinnedVersion() calls this once with the process environment.
 */
export function effectiveVersions(opts: EffectiveVersionsOptions = {}): PinnedVersions {
  const env = opts.env ?? process.env;
  const versions = loadVersions(opts.file);
  const overrides = parseVersionOverrides(env, versions);
  if (overrides.length === 0) return versions;
  checkVersionOverrides(overrides, opts.lookup ?? goProxyLookup(env), (name, version) => isFileExecutable(cachePaths(name, version, env).binary));
  return applyVersionOverrides(versions, overrides);
}

/** The overrides in effect for this process (form only), for `doctor` to show. */
export function activeVersionOverrides(env: Env = process.env): VersionOverride[] {
  return parseVersionOverrides(env, loadVersions());
}

function isFileExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function isBinaryName(name: string): name is BinaryName {
  return (BINARY_NAMES as readonly string[]).includes(name);
}

/** An error's message on one line, for the one-line errors this folder promises. */
export function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\n\s*/g, ' ').trim();
}
