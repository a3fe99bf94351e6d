// Rendering charts/thanos-ha-e2e with helm, and checking the manifests against Kubernetes' own
// schemas with kubectl-validate. Both binaries are provisioned like the components'
// (fixtures/versions.json, `node harness/cli.ts setup`); nothing here contacts a cluster.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { kubernetesMinor } from '../../binaries/kube-schemas.ts';
import { resolveBinary } from '../../binaries/provision.ts';
import { oneLine, pinnedVersion } from '../../binaries/versions.ts';
import { chartValuesYaml, type ChartValues } from './values.ts';

export const CHART_DIR = fileURLToPath(new URL('../../../charts/thanos-ha-e2e', import.meta.url));

/** The Kubernetes release the manifests target: the one whose schemas kubectl-validate is built with. */
export function kubernetesRelease(): string {
  const release = pinnedVersion('kubectl-validate').kubernetesSchemas;
  if (!release) throw new Error('fixtures/versions.json: kubectl-validate.kubernetesSchemas is not set');
  return release;
}

/** The path of a provisioned tool, or a one-line error saying how to provision it (never builds). */
export async function provisionedTool(name: 'helm' | 'kubectl-validate'): Promise<string> {
  return (await resolveBinary(name, { lookOnly: true })).path;
}

export interface TemplateOptions {
  helm: string;
  /** Where the values file is written. */
  dir: string;
  release?: string;
  /** Default: the values' namespace. */
  namespace?: string;
}

/** `helm template` of one cluster's values: the manifests as one multi-document YAML string. */
export async function helmTemplate(values: ChartValues, opts: TemplateOptions): Promise<string> {
  const valuesFile = join(opts.dir, `values-${values.topology}-${values.cluster}.yaml`);
  await writeFile(valuesFile, chartValuesYaml(values));
  const result = await execa(
    opts.helm,
    [
      'template',
      opts.release ?? 'thanos-ha-e2e',
      CHART_DIR,
      '--namespace',
      opts.namespace ?? values.namespace,
      '--kube-version',
      kubernetesRelease(),
      '--values',
      valuesFile,
    ],
    { reject: false, all: true, stdin: 'ignore', env: helmEnv(opts.dir), extendEnv: false },
  );
  if (result.exitCode !== 0) {
    const why = oneLine(result.all ?? '').replace(/\s*Use --debug flag to render out invalid YAML$/, '');
    throw new Error(`helm template of ${valuesFile} failed: ${why}`);
  }
  return result.stdout;
}

/** What kubectl-validate said about one document of a file. */
export interface Verdict {
  file: string;
  document: number;
  ok: boolean;
  message: string;
}

/**
 * Validates every document of the files against the pinned Kubernetes release's OpenAPI schemas
 * (unknown fields, types, required fields, enums, formats). No cluster is consulted: the kubeconfig
 * is emptied so that a reachable cluster could not answer in the schemas' place.
 */
export async function validateManifests(files: string[], kubectlValidate: string): Promise<Verdict[]> {
  // It reads any other file as one document: in a multi-document file only the first is checked
  // and the rest pass unseen (kubectl-validate 0.0.4).
  const unread = files.filter((f) => !/\.(ya?ml|json)$/.test(f));
  if (unread.length > 0) throw new Error(`kubectl-validate checks every document only of .yaml, .yml and .json files, not ${unread.join(', ')}`);
  const result = await execa(kubectlValidate, ['--version', kubernetesMinor(kubernetesRelease()), '--output', 'json', ...files], {
    reject: false,
    all: false,
    stdin: 'ignore',
    extendEnv: false,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, KUBECONFIG: '/dev/null' },
  });
  let report: Record<string, unknown>;
  try {
    report = JSON.parse(result.stdout) as Record<string, unknown>;
  } catch {
    throw new Error(`kubectl-validate gave no report (exit ${result.exitCode}): ${oneLine(result.stderr || result.stdout)}`);
  }
  const verdicts: Verdict[] = [];
  for (const file of files) {
    const entry = report[file];
    if (entry === undefined) throw new Error(`kubectl-validate said nothing about ${file}`);
    const statuses = (Array.isArray(entry) ? entry : [entry]) as { status?: string; message?: string }[];
    statuses.forEach((s, document) => verdicts.push({ file, document, ok: s.status === 'Success', message: s.message ?? '' }));
  }
  return verdicts;
}

/** Helm keeps its caches and config under the run's directory, not the user's home. */
function helmEnv(dir: string): Record<string, string | undefined> {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    HELM_CACHE_HOME: join(dir, 'helm', 'cache'),
    HELM_CONFIG_HOME: join(dir, 'helm', 'config'),
    HELM_DATA_HOME: join(dir, 'helm', 'data'),
    KUBECONFIG: '/dev/null',
  };
}
