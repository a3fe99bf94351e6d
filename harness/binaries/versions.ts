// The pinned component versions, read from fixtures/versions.json (the only place a version is written).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

// helm and kubectl-validate run on the test side only: helm renders (and, on the Kubernetes
// substrates, installs) charts/; kubectl-validate checks the rendered manifests against Kubernetes' schemas.
export const BINARY_NAMES = ['thanos', 'prometheus', 'promtool', 'alertmanager', 'versitygw', 'helm', 'kubectl-validate'] as const;
export type BinaryName = (typeof BINARY_NAMES)[number];

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
  /** Go build tags the upstream release uses (Thanos needs slicelabels: its gRPC codec casts labels unsafely). */
  buildTags: string[];
  /** How to ask the binary its version (default ["--version"]); [] when it has no way to say (kubectl-validate). */
  versionArgs: string[];
  /**
   * kubectl-validate only: the Kubernetes release (e.g. "1.33.5") whose OpenAPI v3 schemas, from the
   * k8s.io/kubernetes module, are built in as the binary's schemas for "<major>.<minor>" (see kube-schemas.ts).
   */
  kubernetesSchemas?: string;
}

const pinSchema = z
  .object({
    version: z.string().regex(/^\d+\.\d+\.\d+(?:[-+][\w.-]+)?$/, 'expected a version like 1.2.3 (no leading v)'),
    goModule: z.string().min(1),
    goModuleVersion: z.string().regex(/^v\d+\.\d+\.\d+/, 'expected a Go module version like v1.2.3').optional(),
    buildPackage: z.string().min(1),
    versionPackage: z.string().min(1).optional(),
    versionVariable: z.string().min(1).optional(),
    buildTags: z.array(z.string().regex(/^\w+$/, 'expected a Go build tag')).default([]),
    versionArgs: z.array(z.string().min(1)).default(['--version']),
    kubernetesSchemas: z.string().regex(/^\d+\.\d+\.\d+$/, 'expected a Kubernetes release like 1.33.5').optional(),
  })
  .refine((pin) => pin.versionPackage !== undefined || pin.versionVariable !== undefined || pin.versionArgs.length === 0, {
    message: 'needs versionPackage or versionVariable (to stamp the version into a Go build), or versionArgs [] if it reports none',
  });

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

let defaultVersions: PinnedVersions | undefined;

/**
 * What a provisioned binary is cached under: its version, plus the schemas built into it, so that
 * changing either pin gives a new build ("0.0.4+k8s1.34.4").
 */
export function buildId(pin: PinnedVersion): string {
  return pin.kubernetesSchemas ? `${pin.version}+k8s${pin.kubernetesSchemas}` : pin.version;
}

/** The pin of one binary, from fixtures/versions.json (read once). */
export function pinnedVersion(name: string, versions?: PinnedVersions): PinnedVersion {
  if (!isBinaryName(name)) {
    throw new Error(`unknown binary "${name}" (known: ${BINARY_NAMES.join(', ')})`);
  }
  versions ??= defaultVersions ??= loadVersions();
  return versions[name];
}

export function isBinaryName(name: string): name is BinaryName {
  return (BINARY_NAMES as readonly string[]).includes(name);
}

/** An error's message on one line, for the one-line errors this folder promises. */
export function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\n\s*/g, ' ').trim();
}
