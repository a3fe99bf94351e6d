// Cutting the network between two clusters' nodes (kind, k3s: one node container per cluster, on one
// Docker network): iptables in each node, for TCP to and from the other node's address, either
// rejects it with a reset (mode reset: an open connection breaks at its next packet, a new one is
// refused at once) or drops it (mode hang: nothing answers, neither end is told; TCP retransmits
// until its own timeouts give up, and once the rules go, what both ends kept moves on). Pods reach
// the other cluster only through its node (node ports), so this is the whole link. FORWARD catches
// pod traffic (to the peer, and from it after the NodePort's DNAT), INPUT/OUTPUT the node's own.
// Rules go first in their chain, ahead of kube-proxy's accepts (and of conntrack's ESTABLISHED
// accept, so a dropped link also holds open connections); restoring deletes exactly them.
import { checkLink, linkName, type LinkCutMode } from '../links.ts';
import type { Topology } from '../../topology/model.ts';

export type LinkAction = 'cut' | 'restore';

/** What a cut does to a TCP packet between the nodes: reset answers it with a TCP reset, hang drops it. */
const TARGET: Record<LinkCutMode, string[]> = {
  reset: ['-j', 'REJECT', '--reject-with', 'tcp-reset'],
  hang: ['-j', 'DROP'],
};

/** The iptables argument lists that cut (insert) or restore (delete) TCP between a node and a peer address, in one mode. */
export function iptablesLinkRules(action: LinkAction, peer: string, mode: LinkCutMode = 'reset'): string[][] {
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(peer)) throw new Error(`"${peer}" is not a node's IPv4 address: a link cut matches by address`);
  const reject = ['-p', 'tcp', ...TARGET[mode]];
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
  /** Cuts the link in a mode (RunningTopology.cutLink); default reset. */
  cut(a: string, b: string, mode?: LinkCutMode): Promise<void>;
  restore(a: string, b: string): Promise<void>;
}

/** The commands a cut or restore runs: in each node, against the other's address. */
export function linkCommands(action: LinkAction, a: LinkNode & { cluster: string }, b: LinkNode & { cluster: string }, mode: LinkCutMode = 'reset'): { cluster: string; argv: string[] }[] {
  return [
    ...iptablesLinkRules(action, b.address, mode).map((argv) => ({ cluster: a.cluster, argv })),
    ...iptablesLinkRules(action, a.address, mode).map((argv) => ({ cluster: b.cluster, argv })),
  ];
}

/** One command that runs several in a node, in order, stopping at the first that fails. */
export function nodeScript(commands: string[][]): string[] {
  for (const arg of commands.flat()) {
    if (!/^[\w.:/-]+$/.test(arg)) throw new Error(`"${arg}" would need shell quoting: a link rule's arguments are plain words`);
  }
  return ['sh', '-c', commands.map((argv) => argv.join(' ')).join(' && ')];
}

/**
 * A LinkSwitch over the clusters' nodes. It remembers which links are cut and how: cutting one
 * twice the same way or restoring one that is not cut changes nothing (a second insert would need a
 * second delete); cutting one cut the other way swaps its rules; restoring deletes the rules of
 * the mode it was cut in.
 */
export function nodeLinkSwitch(topology: Topology, nodeOf: (cluster: string) => LinkNode): LinkSwitch {
  const cut = new Map<string, LinkCutMode>();
  const run = async (action: LinkAction, a: string, b: string, mode: LinkCutMode) => {
    const name = linkName(a, b);
    const nodes = { a: { cluster: a, ...nodeOf(a) }, b: { cluster: b, ...nodeOf(b) } };
    const commands = linkCommands(action, nodes.a, nodes.b, mode);
    // One exec per node, its rules in order (stopping at the first that fails), both nodes at
    // once: the cut takes effect within one exec's time, which a test that asks "at once, before
    // any health check can fail" relies on (a docker exec can take a second on a loaded machine).
    const outcomes = await Promise.allSettled(
      [nodes.a, nodes.b].map(async (node) => {
        const argv = nodeScript(commands.filter((c) => c.cluster === node.cluster).map((c) => c.argv));
        await node.exec(argv).catch((err: unknown) => {
          throw new Error(`${action === 'cut' ? 'cutting' : 'restoring'} the link ${name}: \`${argv.join(' ')}\` in ${node.cluster}'s node failed: ${err instanceof Error ? err.message : String(err)}`);
        });
      }),
    );
    const failed = outcomes.find((o) => o.status === 'rejected');
    if (failed) throw failed.reason;
    if (action === 'cut') cut.set(name, mode);
    else cut.delete(name);
  };
  return {
    cut: async (a, b, mode = 'reset') => {
      checkLink(topology, a, b);
      const now = cut.get(linkName(a, b));
      if (now === mode) return;
      if (now !== undefined) await run('restore', a, b, now);
      await run('cut', a, b, mode);
    },
    restore: async (a, b) => {
      checkLink(topology, a, b);
      const now = cut.get(linkName(a, b));
      if (now !== undefined) await run('restore', a, b, now);
    },
  };
}
