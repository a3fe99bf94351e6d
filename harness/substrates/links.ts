// The link between two clusters of a topology, as a fault: what every substrate checks before it
// cuts or restores one (RunningTopology.cutLink / restoreLink).
import type { Topology } from '../topology/model.ts';

/** The cluster of an instance or service id ("observer/query-0" -> "observer"). */
export const clusterOfId = (id: string): string => id.slice(0, id.indexOf('/'));

/** A link's name, the same whichever way round its clusters are given ("observee<->observer"). */
export function linkName(a: string, b: string): string {
  return [a, b].sort().join('<->');
}

/** Throws a one-line error unless a and b are two different clusters of the topology. */
export function checkLink(topology: Topology, a: string, b: string): void {
  const clusters = topology.clusters.map((c) => c.name);
  for (const c of [a, b]) {
    if (!clusters.includes(c)) throw new Error(`no cluster "${c}" in topology ${topology.name}: a link joins two of ${clusters.join(', ')}`);
  }
  if (a === b) throw new Error(`a link joins two different clusters, not "${a}" with itself: name the other cluster (one of ${clusters.filter((c) => c !== a).join(', ') || 'none'})`);
}
