// Typed API clients (@kubernetes/client-node) for the cluster the operator scenario runs on. Which
// cluster that is, is the substrate's to say (currentSubstrate().kubernetesCluster: kind makes one,
// kube connects the observee's context); this file only wraps what it lends.
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
import type { LentCluster } from '../substrates/index.ts';

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

/** The API clients of a lent cluster. */
export function operatorCluster(lent: LentCluster): OperatorCluster {
  return { ...clients(lent.kubeConfig), context: lent.context, server: lent.server, loadImages: lent.loadImages, release: lent.release };
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
