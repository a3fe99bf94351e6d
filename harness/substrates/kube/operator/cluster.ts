// Which cluster the operator scenario talks to, and typed API clients for it (@kubernetes/client-node).
//
//   THANOS_HA_E2E_SUBSTRATE=kube                       the only switch; anything else skips the scenario
//   THANOS_HA_E2E_KUBE_CONTEXTS=observer=ctxA,observee=ctxB   kubeconfig contexts per role
//   KUBECONFIG                                         default ~/.kube/config (first file if a list)
//
// The operator scenario needs one cluster: the observee's, where prometheus-operator runs in the note.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import {
  ApiException,
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import type { Env } from '../../../binaries/cache.ts';

export type KubeRole = 'observer' | 'observee';

/** Why the kube-only scenarios do not run in this environment, or undefined when they do. */
export function kubeSkipReason(env: Env = process.env): string | undefined {
  const substrate = env.THANOS_HA_E2E_SUBSTRATE ?? 'process';
  if (substrate !== 'kube') return `needs THANOS_HA_E2E_SUBSTRATE=kube (is ${substrate}) and THANOS_HA_E2E_KUBE_CONTEXTS=observer=<ctx>,observee=<ctx>`;
  if (!env.THANOS_HA_E2E_KUBE_CONTEXTS) return 'THANOS_HA_E2E_SUBSTRATE=kube needs THANOS_HA_E2E_KUBE_CONTEXTS=observer=<ctx>,observee=<ctx>';
  return undefined;
}

/** "observer=ctxA,observee=ctxB" -> { observer: 'ctxA', observee: 'ctxB' }; a one-line error on anything else. */
export function parseKubeContexts(value: string): Record<KubeRole, string> {
  const out: Partial<Record<KubeRole, string>> = {};
  for (const part of value.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [role, context, ...rest] = part.split('=').map((s) => s.trim());
    if ((role !== 'observer' && role !== 'observee') || !context || rest.length > 0) {
      throw new Error(`THANOS_HA_E2E_KUBE_CONTEXTS: "${part}" is not observer=<context> or observee=<context>`);
    }
    out[role] = context;
  }
  if (!out.observer || !out.observee) throw new Error(`THANOS_HA_E2E_KUBE_CONTEXTS="${value}": needs both observer=<context> and observee=<context>`);
  return out as Record<KubeRole, string>;
}

export interface KubeCluster {
  context: string;
  server: string;
  kubeconfigFile: string;
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  rbac: RbacAuthorizationV1Api;
  custom: CustomObjectsApi;
  crds: ApiextensionsV1Api;
  objects: KubernetesObjectApi;
  /** True for the cluster `node harness/cli.ts cluster up` runs on this machine: images can be loaded into it. */
  local: boolean;
}

/** The API clients of one role's context. */
export function kubeCluster(role: KubeRole, env: Env = process.env): KubeCluster {
  const contexts = parseKubeContexts(env.THANOS_HA_E2E_KUBE_CONTEXTS ?? '');
  const kubeconfigFile = (env.KUBECONFIG ?? '').split(delimiter).find(Boolean) ?? join(homedir(), '.kube', 'config');
  if (!existsSync(kubeconfigFile)) throw new Error(`kubeconfig ${kubeconfigFile} does not exist (set KUBECONFIG)`);
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigFile);
  const context = contexts[role];
  const ctx = kc.getContextObject(context);
  if (!ctx) throw new Error(`kubeconfig ${kubeconfigFile} has no context "${context}" (the ${role} in THANOS_HA_E2E_KUBE_CONTEXTS); it has: ${kc.getContexts().map((c) => c.name).join(', ')}`);
  kc.setCurrentContext(context);
  const server = kc.getCluster(ctx.cluster)?.server ?? '';
  return {
    context,
    server,
    kubeconfigFile,
    kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    rbac: kc.makeApiClient(RbacAuthorizationV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    crds: kc.makeApiClient(ApiextensionsV1Api),
    objects: KubernetesObjectApi.makeApiClient(kc),
    // harness/substrates/kube/local-cluster: its API server listens on 127.0.0.1:6443 (config.ts PORTS).
    local: server === 'https://127.0.0.1:6443',
  };
}

/** True when err is the API server answering 404. */
export function isNotFound(err: unknown): boolean {
  return err instanceof ApiException && err.code === 404;
}

/** The object, or undefined when the API server answers 404. */
export async function readOrUndefined<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** One line from an API error: the server's Status message when there is one. */
export function apiErrorLine(err: unknown): string {
  if (err instanceof ApiException) {
    const body = err.body as unknown;
    let message: string | undefined;
    if (typeof body === 'string') {
      try {
        message = (JSON.parse(body) as { message?: string }).message;
      } catch {
        message = body;
      }
    } else if (body && typeof body === 'object') message = (body as { message?: string }).message;
    return `HTTP ${err.code}: ${(message ?? err.message).replace(/\s+/g, ' ').slice(0, 400)}`;
  }
  return (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').slice(0, 400);
}
