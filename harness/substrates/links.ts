// The link between two clusters of a topology, as a fault: what every substrate checks before it
// cuts or restores one (RunningTopology.cutLink / restoreLink).
import type { Topology } from '../topology/model.ts';

/**
 * How a cut link fails, as seen by the two ends of a connection across it:
 * - `reset`: open connections break at once and new ones are refused (a reject rule, a peer that
 *   restarted). Clients learn of it at their next packet.
 * - `hang`: packets are dropped, nothing is reset or closed (a security-group change, a partition).
 *   Open connections stop moving in both directions; a new one gets no answer. Clients learn of it
 *   only from their own timeouts. On restore, what both ends still hold moves again.
 */
export type LinkCutMode = 'reset' | 'hang';

export const LINK_CUT_MODES: readonly LinkCutMode[] = ['reset', 'hang'];

export interface LinkCutOptions {
  /** Default `reset`. */
  mode?: LinkCutMode;
}

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
