// Cutting the network between two clusters' nodes (kind, k3s: one node container per cluster, on one
// Docker network): iptables in each node rejects TCP to and from the other node's address with a
// reset, so an open connection breaks at its next packet and a new one is refused at once. Pods
// reach the other cluster only through its node (node ports), so this is the whole link. FORWARD
// catches pod traffic (to the peer, and from it after the NodePort's DNAT), INPUT/OUTPUT the node's
// own. Rules go first in their chain, ahead of kube-proxy's accepts; restoring deletes exactly them.
import { checkLink, linkName } from '../links.ts';
import type { Topology } from '../../topology/model.ts';

export type LinkAction = 'cut' | 'restore';

/** The iptables argument lists that cut (insert) or restore (delete) TCP between a node and a peer address. */
export function iptablesLinkRules(action: LinkAction, peer: string): string[][] {
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(peer)) throw new Error(`"${peer}" is not a node's IPv4 address: a link cut rejects by address`);
  const reject = ['-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset'];
  const rules: [chain: string, match: string[]][] = [
    ['INPUT', ['-s', peer]],
    ['OUTPUT', ['-d', peer]],
    ['FORWARD', ['-s', peer]],
    ['FORWARD', ['-d', peer]],
  ];
  return rules.map(([chain, match]) => ['iptables', ...(action === 'cut' ? ['-I', chain, '1'] : ['-D', chain]), ...match, ...reject]);
}

/** The node of one cluster: its address on the shared network, and how to run a command in it. */
export interface LinkNode {
  address: string;
  exec(argv: string[]): Promise<void>;
}

/** What the deploy path needs from a provider to cut a link (ProvidedClusters.links). */
export interface LinkSwitch {
  cut(a: string, b: string): Promise<void>;
  restore(a: string, b: string): Promise<void>;
}

/** The commands a cut or restore runs: in each node, against the other's address. */
export function linkCommands(action: LinkAction, a: LinkNode & { cluster: string }, b: LinkNode & { cluster: string }): { cluster: string; argv: string[] }[] {
  return [
    ...iptablesLinkRules(action, b.address).map((argv) => ({ cluster: a.cluster, argv })),
    ...iptablesLinkRules(action, a.address).map((argv) => ({ cluster: b.cluster, argv })),
  ];
}

/**
 * A LinkSwitch over the clusters' nodes. It remembers which links are cut: cutting one twice or
 * restoring one that is not cut changes nothing (a second insert would need a second delete).
 */
export function nodeLinkSwitch(topology: Topology, nodeOf: (cluster: string) => LinkNode): LinkSwitch {
  const cut = new Set<string>();
  const run = async (action: LinkAction, a: string, b: string) => {
    checkLink(topology, a, b);
    const name = linkName(a, b);
    if ((action === 'cut') === cut.has(name)) return;
    const nodes = { a: { cluster: a, ...nodeOf(a) }, b: { cluster: b, ...nodeOf(b) } };
    for (const { cluster, argv } of linkCommands(action, nodes.a, nodes.b)) {
      await (cluster === a ? nodes.a : nodes.b).exec(argv).catch((err: unknown) => {
        throw new Error(`${action === 'cut' ? 'cutting' : 'restoring'} the link ${name}: \`${argv.join(' ')}\` in ${cluster}'s node failed: ${err instanceof Error ? err.message : String(err)}`);
      });
    }
    if (action === 'cut') cut.add(name);
    else cut.delete(name);
  };
  return { cut: (a, b) => run('cut', a, b), restore: (a, b) => run('restore', a, b) };
}
