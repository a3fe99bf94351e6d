// Kubernetes' own schemas for kubectl-validate, without GitHub.
//
// kubectl-validate embeds the OpenAPI v3 documents of each Kubernetes minor it knows under
// pkg/openapiclient/builtins/<major.minor>/ (api/v1.json, apis/<group>/<version>.json); upstream
// fills that directory from kubernetes/kubernetes' api/openapi-spec/v3 on GitHub
// (cmd/download-builtin-schemas). Its release knows 1.23-1.30 and would fetch any other minor from
// GitHub at run time. The k8s.io/kubernetes module on the Go module proxy holds the same files, so the
// build puts the pinned release's documents there itself: the binary then validates that release
// offline (`--version <major.minor>`), and a minor it does not know fails instead of passing silently.
import { copyFile, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

export const KUBERNETES_MODULE = 'k8s.io/kubernetes';

/** "1.33.5" -> "1.33", the name kubectl-validate's --version and its builtins directory use. */
export function kubernetesMinor(release: string): string {
  return release.split('.').slice(0, 2).join('.');
}

/**
 * Where an api/openapi-spec/v3 file goes in kubectl-validate's layout, or undefined for the files it
 * does not use (group listings such as apis__apps_openapi.json, /logs, /version, /openid).
 *   api__v1_openapi.json                -> api/v1.json
 *   apis__apps__v1_openapi.json         -> apis/apps/v1.json
 */
export function builtinPath(specFile: string): string | undefined {
  const match = /^(.*)_openapi\.json$/.exec(specFile);
  if (!match) return undefined;
  const parts = match[1]!.split('__');
  if (parts.length === 2 && parts[0] === 'api') return `api/${parts[1]}.json`;
  if (parts.length === 3 && parts[0] === 'apis') return `apis/${parts[1]}/${parts[2]}.json`;
  return undefined;
}

/** Copies the release's OpenAPI v3 documents into kubectl-validate's source tree; returns how many. */
export async function embedKubernetesSchemas(kubernetesModuleDir: string, release: string, kubectlValidateSource: string): Promise<number> {
  const specDir = join(kubernetesModuleDir, 'api', 'openapi-spec', 'v3');
  const builtins = join(kubectlValidateSource, 'pkg', 'openapiclient', 'builtins');
  if (!(await isDirectory(builtins))) {
    throw new Error(`kubectl-validate has no ${builtins} (its layout changed): cannot build Kubernetes ${release}'s schemas in`);
  }
  const target = join(builtins, kubernetesMinor(release));
  await rm(target, { recursive: true, force: true }); // the pinned release's documents, nothing else
  let copied = 0;
  for (const file of await readdir(specDir)) {
    const path = builtinPath(file);
    if (path === undefined) continue;
    await mkdir(join(target, path, '..'), { recursive: true });
    await copyFile(join(specDir, file), join(target, path));
    copied++;
  }
  if (copied === 0 || !(await isDirectory(join(target, 'api')))) {
    throw new Error(`${KUBERNETES_MODULE}@v${release} has no OpenAPI v3 documents in api/openapi-spec/v3`);
  }
  return copied;
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}
