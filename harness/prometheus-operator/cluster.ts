// Which cluster the operator scenario talks to, and typed API clients for it (@kubernetes/client-node).
//
//   THANOS_HA_E2E_SUBSTRATE=kube | kind                the only switch; anything else skips the scenario
//   THANOS_HA_E2E_KUBE_CONTEXTS=observer=ctxA,observee=ctxB   kube: kubeconfig contexts per role
//                                                      kind: a kind cluster of its own for the role
//   KUBECONFIG                                         default ~/.kube/config (a list is merged, as kubectl does)
//
// The operator scenario needs one cluster: the observee's, where prometheus-operator runs in the note.
// The contexts are the kube substrate's: read by its kubeSettings() and connected by its connectContexts(),
// so the same variables mean the same clusters (and give the same one-line errors) for both.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import type { Env } from '../binaries/cache.ts';
import { unavailableVariable } from '../substrates/index.ts';
import { connectContexts, kubeSettings } from '../substrates/kube/index.ts';

export type KubeRole = 'observer' | 'observee';

/** Why the kube-only scenarios do not run in this environment, or undefined when they do. */
export function kubeSkipReason(env: Env = process.env): string | undefined {
  const substrate = env.THANOS_HA_E2E_SUBSTRATE ?? 'process';
  if (substrate === 'kind') {
    // The kind project's global setup says so when kind cannot run here (substrates/vitest-substrate-check.ts).
    const unavailable = env[unavailableVariable('kind')];
    return unavailable ? `kind substrate unavailable: ${unavailable}` : undefined;
  }
  if (substrate !== 'kube') return `needs THANOS_HA_E2E_SUBSTRATE=kube (is ${substrate}) and THANOS_HA_E2E_KUBE_CONTEXTS=observer=<ctx>,observee=<ctx>, or THANOS_HA_E2E_SUBSTRATE=kind`;
  if (!env.THANOS_HA_E2E_KUBE_CONTEXTS) return 'THANOS_HA_E2E_SUBSTRATE=kube needs THANOS_HA_E2E_KUBE_CONTEXTS=observer=<ctx>,observee=<ctx>';
  return undefined;
}

/** The kubeconfig context of a role in THANOS_HA_E2E_KUBE_CONTEXTS (parsed by kubeSettings); a one-line error if it has none. */
export function roleContext(role: KubeRole, env: Env = process.env): string {
  const context = kubeSettings(env).contexts[role];
  if (!context) throw new Error(`THANOS_HA_E2E_KUBE_CONTEXTS has no context for "${role}", which the operator scenario runs on: add ${role}=<context>`);
  return context;
}

export interface OperatorCluster {
  context: string;
  server: string;
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  rbac: RbacAuthorizationV1Api;
  custom: CustomObjectsApi;
  crds: ApiextensionsV1Api;
  objects: KubernetesObjectApi;
  /** Puts image tars onto the nodes, where the harness can (the local cluster, kind); undefined: they must be there already. */
  loadImages: ((tars: string[], onProgress: (line: string) => void) => Promise<void>) | undefined;
  /** Deletes the cluster itself, when it was created for this run (kind); undefined for clusters that were there before. */
  release: (() => Promise<void>) | undefined;
}

/** The API clients of one role's context, once its API server has answered. */
export async function kubeCluster(role: KubeRole, env: Env = process.env, onProgress: (line: string) => void = () => {}): Promise<OperatorCluster> {
  if ((env.THANOS_HA_E2E_SUBSTRATE ?? 'process') === 'kind') {
    const { startKindRun } = await import('../substrates/kind/index.ts');
    const run = await startKindRun([role], { env, onProgress });
    const kc = run.clusters[role]!.kubeConfig;
    return { ...clients(kc), context: kc.getCurrentContext(), server: kc.getCurrentCluster()?.server ?? '', loadImages: (tars) => run.loadImages(role, tars), release: run.release };
  }
  const context = roleContext(role, env);
  // connectContexts leaves a kubeconfig copy (for helm) in the directory; nothing here runs helm, and
  // the copy holds credentials, so it goes at once.
  const dir = await mkdtemp(join(tmpdir(), 'thanos-ha-e2e-kubeconfig-'));
  let kc: KubeConfig;
  try {
    kc = (await connectContexts({ [role]: context }, dir, env))[role]!.kubeConfig;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const server = kc.getCurrentCluster()?.server ?? '';
  // harness/local-cluster: its API server listens on 127.0.0.1:6443 (config.ts PORTS).
  const local = server === 'https://127.0.0.1:6443';
  const loadImages = async (tars: string[], progress: (line: string) => void) => (await import('../local-cluster/index.ts')).loadImages(tars, { env, onProgress: progress });
  return { ...clients(kc), context, server, loadImages: local ? loadImages : undefined, release: undefined };
}

function clients(kc: KubeConfig) {
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    rbac: kc.makeApiClient(RbacAuthorizationV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    crds: kc.makeApiClient(ApiextensionsV1Api),
    objects: KubernetesObjectApi.makeApiClient(kc),
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
