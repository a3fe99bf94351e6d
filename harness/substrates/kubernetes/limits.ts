// What the Kubernetes deploy path cannot run, in one line, before anything is deployed. Kept apart
// from deploy.ts so that the substrate seam can ask without loading the Kubernetes client.
import type { Topology } from '../../topology/model.ts';

/** Why the Kubernetes substrates cannot run this topology; undefined when they can. */
export function kubernetesCannotRun(topology: Topology): string | undefined {
  const growing = topology.components.filter((c) => c.kind === 'receive' && c.joining > 0);
  if (growing.length)
    return `a hashring that grows (${growing.map((c) => `${c.cluster}/${c.name}`).join(', ')}) runs on the process substrate only: the Kubernetes deploy path starts every instance at bring-up and renders each hashrings file once`;
  return undefined;
}
