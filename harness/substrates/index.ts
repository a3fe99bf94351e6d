// Choosing a substrate: THANOS_HA_E2E_SUBSTRATE (or the CLI's --substrate) is the only switch.
//
//   process      processes on this machine (process/)
//   kind, k3s,   a cluster provider each (kind/: kind clusters in Docker, k3s/: testcontainers,
//   kube         kube/: kubeconfig contexts) over the shared Kubernetes deploy path
//                (kubernetes/provider.ts, kubernetes/deploy.ts)
//
// A new Kubernetes substrate is one folder exporting a ClusterProvider, its name in
// KubernetesSubstrateName (types.ts) and one line in CLUSTER_PROVIDERS below.
import { processSubstrate } from './process/index.ts';
import type { ClusterProvider, UnavailableOptions } from './kubernetes/provider.ts';
import type { KubernetesSubstrateName, Substrate, SubstrateName } from './types.ts';

export type { RunningTopology, Substrate, SubstrateName, UpOptions } from './types.ts';

// Loaded when chosen: a process run needs neither testcontainers nor the Kubernetes client.
const CLUSTER_PROVIDERS: Record<KubernetesSubstrateName, () => Promise<ClusterProvider>> = {
  kind: async () => (await import('./kind/index.ts')).kindProvider,
  k3s: async () => (await import('./k3s/index.ts')).k3sProvider,
  kube: async () => (await import('./kube/index.ts')).kubeProvider,
};

const isKubernetes = (name: string): name is KubernetesSubstrateName => Object.hasOwn(CLUSTER_PROVIDERS, name);

export const SUBSTRATES: SubstrateName[] = ['process', ...(Object.keys(CLUSTER_PROVIDERS) as KubernetesSubstrateName[])];

export function substrateFromEnv(env: NodeJS.ProcessEnv = process.env): Substrate {
  const name = env.THANOS_HA_E2E_SUBSTRATE ?? 'process';
  if (name === 'process') return processSubstrate;
  if (isKubernetes(name)) {
    return {
      name,
      up: async (topology, opts) => {
        const [{ kubernetesSubstrate }, provider] = await Promise.all([import('./kubernetes/provider.ts'), CLUSTER_PROVIDERS[name]()]);
        return kubernetesSubstrate(provider).up(topology, opts);
      },
    };
  }
  throw new Error(`unknown substrate "${name}" in THANOS_HA_E2E_SUBSTRATE: choose one of ${SUBSTRATES.join(', ')}`);
}

/**
 * Why a substrate cannot run on this machine, in one line; undefined when it can. Where an image is
 * missing that a registry serves, it is pulled first (opts.pull, default true).
 */
export async function substrateUnavailable(name: string, env: NodeJS.ProcessEnv = process.env, opts: UnavailableOptions = {}): Promise<string | undefined> {
  try {
    if (name === 'process') return undefined;
    if (isKubernetes(name)) return await (await CLUSTER_PROVIDERS[name]()).unavailable(env, opts);
    return `unknown substrate "${name}": choose one of ${SUBSTRATES.join(', ')}`;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** The variable through which vitest's global setup tells scenario workers that a substrate is unavailable. */
export const unavailableVariable = (name: string) => `THANOS_HA_E2E_UNAVAILABLE_${name.toUpperCase()}`;
