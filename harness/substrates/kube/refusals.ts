// The faults the kube substrate cannot cause, known from the environment alone, before anything is
// brought up: a scenario that needs one is skipped in one line instead of failing after minutes of
// bring-up. No Kubernetes client here: the seam (../index.ts) imports this for every run.
import type { Env } from '../../binaries/cache.ts';
import type { Topology } from '../../topology/model.ts';
import type { Fault } from '../types.ts';

/** Why the kube substrate cannot cause `fault` with this environment; undefined when it can. */
export function kubeRefuses(fault: Fault, env: Env): string | undefined {
  if (fault === 'cutLink') {
    return "the kube substrate cannot cut a link: it runs on clusters whose network it does not own (this file runs on process, kind or k3s)";
  }
  const endpoint = env.THANOS_HA_E2E_S3_ENDPOINT;
  if (fault === 'stopS3' && endpoint) {
    return `the kube substrate cannot stop S3: ${endpoint} (THANOS_HA_E2E_S3_ENDPOINT) is not run by the harness; unset THANOS_HA_E2E_S3_ENDPOINT for the run's own S3 (both contexts one cluster)`;
  }
  return undefined;
}

/**
 * Why the kube substrate cannot run a topology with this environment: a cluster of it that
 * THANOS_HA_E2E_KUBE_CONTEXTS gives no context (the note's two contexts, and a preset of more
 * clusters such as compactor-overlap's). Only the names are read here; a malformed variable is
 * the provider's to reject (kubeSettings), with its own one line.
 */
export function kubeCannotRun(topology: Topology, env: Env): string | undefined {
  const named = new Set((env.THANOS_HA_E2E_KUBE_CONTEXTS ?? '').split(',').map((pair) => pair.split('=')[0]!.trim()).filter(Boolean));
  if (named.size === 0) return undefined;
  const missing = topology.clusters.map((c) => c.name).filter((name) => !named.has(name));
  if (missing.length === 0) return undefined;
  return `THANOS_HA_E2E_KUBE_CONTEXTS has no context for cluster${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} of ${topology.name}: add ${missing.map((m) => `${m}=<context>`).join(',')} to run it`;
}
