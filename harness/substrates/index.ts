// The one substrate seam: THANOS_HA_E2E_SUBSTRATE (or the CLI's --substrate) is the only switch, and
// currentSubstrate() the only place that reads it. It gives the substrate, whether it can run here,
// and, where it has them, its Kubernetes clusters. Nothing else asks which substrate runs.
//
//   process      processes on this machine (process/)
//   kind, k3s,   a cluster provider each (kind/: kind clusters in Docker, k3s/: testcontainers,
//   kube         kube/: kubeconfig contexts) over the shared Kubernetes deploy path
//                (kubernetes/provider.ts, kubernetes/deploy.ts)
//
// A new Kubernetes substrate is one folder exporting a ClusterProvider, its name in
// KubernetesSubstrateName (types.ts) and one line in CLUSTER_PROVIDERS below.
import type { Env } from '../binaries/cache.ts';
import type { Topology } from '../topology/model.ts';
import { processSubstrate } from './process/index.ts';
import type { ClusterProvider, LentCluster, UnavailableOptions } from './kubernetes/provider.ts';
import { kubeCannotRun, kubeRefuses } from './kube/refusals.ts';
import { localstackOutageRefusal } from '../s3/localstack.ts';
import type { Fault, KubernetesSubstrateName, RunningTopology, SubstrateName, UpOptions } from './types.ts';

export type { Fault, RunningTopology, Substrate, SubstrateName, UpOptions } from './types.ts';
export type { LinkCutMode, LinkCutOptions } from './links.ts';
export type { LentCluster } from './kubernetes/provider.ts';

// Loaded when chosen: a process run needs neither testcontainers nor the Kubernetes client.
const CLUSTER_PROVIDERS: Record<KubernetesSubstrateName, () => Promise<ClusterProvider>> = {
  kind: async () => (await import('./kind/index.ts')).kindProvider,
  k3s: async () => (await import('./k3s/index.ts')).k3sProvider,
  kube: async () => (await import('./kube/index.ts')).kubeProvider,
};
/** The substrates that lend one Kubernetes cluster to a scenario that is not a topology (ClusterProvider.lendCluster). */
const LENDS_CLUSTERS: readonly KubernetesSubstrateName[] = ['kind', 'kube'];
/**
 * The faults a substrate refuses whatever the topology, known from the environment before bring-up
 * (light modules: no provider is loaded for this). Absent: it causes every fault, or finds out only
 * at bring-up (kind's LocalStack, whose outage it refuses then).
 */
const localstackRefuses = (substrate: SubstrateName) => (fault: Fault, env: Env) => (fault === 'stopS3' ? localstackOutageRefusal(substrate, env) : undefined);
/**
 * A pod is deleted, never SIGKILLed, through the Kubernetes API: its process gets SIGTERM first
 * (and a Receive then cuts its head into a block, as in a rollout).
 */
export const KILL_OUTRIGHT_REFUSAL =
  'a Kubernetes substrate cannot kill a process outright: deleting its pod sends SIGTERM first, and a Receive then cuts its head into a block (a graceful restart, which runs everywhere)';
const refusingKillOutright = (others: (fault: Fault, env: Env) => string | undefined) => (fault: Fault, env: Env) => (fault === 'killOutright' ? KILL_OUTRIGHT_REFUSAL : others(fault, env));
/** What a substrate cannot run with this environment (kube: a cluster its contexts do not name). */
const CANNOT_RUN: Partial<Record<SubstrateName, (topology: Topology, env: Env) => string | undefined>> = {
  kube: kubeCannotRun,
};

const REFUSES: Partial<Record<SubstrateName, (fault: Fault, env: Env) => string | undefined>> = {
  process: localstackRefuses('process'),
  kind: refusingKillOutright(localstackRefuses('kind')),
  k3s: refusingKillOutright(localstackRefuses('k3s')),
  kube: refusingKillOutright(kubeRefuses),
};

const isKubernetes = (name: string): name is KubernetesSubstrateName => Object.hasOwn(CLUSTER_PROVIDERS, name);

export const SUBSTRATES: SubstrateName[] = ['process', ...(Object.keys(CLUSTER_PROVIDERS) as KubernetesSubstrateName[])];

/** The variable through which vitest's global setup tells scenario workers that a substrate is unavailable. */
const unavailableVariable = (name: string) => `THANOS_HA_E2E_UNAVAILABLE_${name.toUpperCase()}`;

export interface CurrentSubstrate {
  readonly name: SubstrateName;
  /** Its components are processes of this machine, their files files here (the process substrate). */
  readonly local: boolean;
  /** Why it cannot run here, as the scenario projects' global setup found it; undefined when it can. */
  readonly unavailable: string | undefined;
  /** Why it cannot run this topology (one line), undefined when it can: the scenario is skipped with it. */
  cannotRun(topology: Topology): string | undefined;
  /** Brings a topology up on it. */
  up(topology: Topology, opts?: UpOptions): Promise<RunningTopology>;
  /**
   * One Kubernetes cluster for a role of the note ("observee"), for a scenario that deploys its own
   * fixture instead of a topology (the operator's): kind makes one for the run, kube connects the
   * role's context. Undefined where the substrate has none to lend (process, k3s).
   */
  readonly kubernetesCluster: ((role: string, onProgress: (line: string) => void) => Promise<LentCluster>) | undefined;
  /** Why it cannot cause one of these faults here, in one line (the first refused); undefined when it can cause them all. */
  refuses(faults: readonly Fault[]): string | undefined;
}

function refusalOf(name: SubstrateName, faults: readonly Fault[], env: Env): string | undefined {
  const refuses = REFUSES[name];
  for (const fault of refuses ? faults : []) {
    const why = refuses!(fault, env);
    if (why) return why;
  }
  return undefined;
}

/** The substrate this process runs on: THANOS_HA_E2E_SUBSTRATE, default process. */
export function currentSubstrate(env: Env = process.env): CurrentSubstrate {
  const name = env.THANOS_HA_E2E_SUBSTRATE ?? 'process';
  const unavailable = env[unavailableVariable(name)] || undefined;
  const refuses = (faults: readonly Fault[]) => refusalOf(name as SubstrateName, faults, env);
  if (name === 'process') return { name, local: true, unavailable, cannotRun: () => undefined, up: (topology, opts) => processSubstrate.up(topology, opts), kubernetesCluster: undefined, refuses };
  if (!isKubernetes(name)) throw new Error(`unknown substrate "${name}" in THANOS_HA_E2E_SUBSTRATE: choose one of ${SUBSTRATES.join(', ')}`);
  return {
    name,
    local: false,
    unavailable,
    cannotRun: (topology) => CANNOT_RUN[name]?.(topology, env),
    refuses,
    up: async (topology, opts) => {
      const [{ kubernetesSubstrate }, provider] = await Promise.all([import('./kubernetes/deploy.ts'), CLUSTER_PROVIDERS[name]()]);
      return kubernetesSubstrate(provider).up(topology, opts);
    },
    kubernetesCluster: LENDS_CLUSTERS.includes(name)
      ? async (role, onProgress) => {
          const provider = await CLUSTER_PROVIDERS[name]();
          return provider.lendCluster!(role, { env, onProgress });
        }
      : undefined,
  };
}

/**
 * Why a substrate cannot run on this machine, in one line; undefined when it can. Where an image is
 * missing that a registry serves, it is pulled first (opts.pull, default true). For the global setup
 * (which records it for currentSubstrate().unavailable) and doctor.
 */
export async function substrateUnavailable(name: string, env: Env = process.env, opts: UnavailableOptions = {}): Promise<string | undefined> {
  try {
    if (name === 'process') return undefined;
    if (isKubernetes(name)) return await (await CLUSTER_PROVIDERS[name]()).unavailable(env, opts);
    return `unknown substrate "${name}": choose one of ${SUBSTRATES.join(', ')}`;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** Records what substrateUnavailable found, for every worker the global setup's process starts. */
export function recordUnavailable(name: string, reason: string | undefined, env: NodeJS.ProcessEnv = process.env): void {
  if (reason) env[unavailableVariable(name)] = reason;
  else delete env[unavailableVariable(name)];
}
