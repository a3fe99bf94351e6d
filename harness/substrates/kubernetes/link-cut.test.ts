import { describe, expect, it } from 'vitest';
import { validateTopology } from '../../topology/model.ts';
import { iptablesLinkRules, linkCommands, nodeLinkSwitch, nodeScript } from './link-cut.ts';

const REJECT = ['-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset'];

const topology = validateTopology({
  name: 'links',
  description: 'two clusters',
  clusters: [
    { name: 'observer', role: 'observer' },
    { name: 'observee', role: 'observee' },
  ],
  components: [{ kind: 'prometheus', name: 'prometheus', cluster: 'observee' }],
});

describe('iptablesLinkRules', () => {
  it('cuts by inserting TCP resets first in INPUT, OUTPUT and FORWARD, to and from the peer', () => {
    expect(iptablesLinkRules('cut', '172.18.0.3')).toEqual([
      ['iptables', '-I', 'INPUT', '1', '-s', '172.18.0.3', ...REJECT],
      ['iptables', '-I', 'OUTPUT', '1', '-d', '172.18.0.3', ...REJECT],
      ['iptables', '-I', 'FORWARD', '1', '-s', '172.18.0.3', ...REJECT],
      ['iptables', '-I', 'FORWARD', '1', '-d', '172.18.0.3', ...REJECT],
    ]);
  });

  it('restores by deleting exactly those rules', () => {
    expect(iptablesLinkRules('restore', '172.18.0.3')).toEqual([
      ['iptables', '-D', 'INPUT', '-s', '172.18.0.3', ...REJECT],
      ['iptables', '-D', 'OUTPUT', '-d', '172.18.0.3', ...REJECT],
      ['iptables', '-D', 'FORWARD', '-s', '172.18.0.3', ...REJECT],
      ['iptables', '-D', 'FORWARD', '-d', '172.18.0.3', ...REJECT],
    ]);
  });

  it('hangs by inserting DROP rules in the same places, so that nothing answers and nothing is reset; restore deletes exactly them', () => {
    const DROP = ['-p', 'tcp', '-j', 'DROP'];
    expect(iptablesLinkRules('cut', '172.18.0.3', 'hang')).toEqual([
      ['iptables', '-I', 'INPUT', '1', '-s', '172.18.0.3', ...DROP],
      ['iptables', '-I', 'OUTPUT', '1', '-d', '172.18.0.3', ...DROP],
      ['iptables', '-I', 'FORWARD', '1', '-s', '172.18.0.3', ...DROP],
      ['iptables', '-I', 'FORWARD', '1', '-d', '172.18.0.3', ...DROP],
    ]);
    expect(iptablesLinkRules('restore', '172.18.0.3', 'hang')).toEqual(iptablesLinkRules('cut', '172.18.0.3', 'hang').map(([bin, , chain, , ...rest]) => [bin!, '-D', chain!, ...rest]));
  });

  it('refuses anything but an IPv4 address', () => {
    expect(() => iptablesLinkRules('cut', 'observee-k3s')).toThrow('"observee-k3s" is not a node\'s IPv4 address');
  });
});

describe('linkCommands', () => {
  it("runs in each node against the other node's address", () => {
    const exec = async () => undefined;
    const commands = linkCommands('cut', { cluster: 'observer', address: '172.18.0.2', exec }, { cluster: 'observee', address: '172.18.0.3', exec });
    expect(commands.map((c) => [c.cluster, c.argv.includes('172.18.0.3') ? 'to observee' : 'to observer'])).toEqual([
      ['observer', 'to observee'],
      ['observer', 'to observee'],
      ['observer', 'to observee'],
      ['observer', 'to observee'],
      ['observee', 'to observer'],
      ['observee', 'to observer'],
      ['observee', 'to observer'],
      ['observee', 'to observer'],
    ]);
  });
});

describe('nodeLinkSwitch', () => {
  const recording = () => {
    const ran: string[] = [];
    const address = { observer: '172.18.0.2', observee: '172.18.0.3' } as Record<string, string>;
    // Each node gets one `sh -c` with its rules joined by &&: written down one rule a line.
    const links = nodeLinkSwitch(topology, (c) => ({
      address: address[c]!,
      exec: async (argv) => {
        expect(argv.slice(0, 2)).toEqual(['sh', '-c']);
        for (const rule of argv[2]!.split(' && ')) ran.push(`${c}: ${rule}`);
      },
    }));
    return { ran, links };
  };

  it('cuts once, restores once, whichever way round the clusters are named', async () => {
    const { ran, links } = recording();
    await links.cut('observer', 'observee');
    await links.cut('observee', 'observer');
    expect(ran).toHaveLength(8);
    await links.restore('observee', 'observer');
    await links.restore('observer', 'observee');
    expect(ran).toHaveLength(16);
    expect(ran.slice(8).every((line) => line.includes(' -D '))).toBe(true);
  });

  it('hangs with DROP rules and restores by deleting those; a cut the other way round swaps the rules', async () => {
    const { ran, links } = recording();
    await links.cut('observer', 'observee', 'hang');
    await links.cut('observee', 'observer', 'hang');
    expect(ran).toHaveLength(8);
    expect(ran.every((line) => line.endsWith('-j DROP') && line.includes(' -I '))).toBe(true);
    await links.cut('observer', 'observee', 'reset');
    expect(ran.slice(8, 16).every((line) => line.includes(' -D ') && line.endsWith('-j DROP'))).toBe(true);
    expect(ran.slice(16).every((line) => line.includes(' -I ') && line.endsWith('--reject-with tcp-reset'))).toBe(true);
    await links.restore('observer', 'observee');
    expect(ran.slice(24)).toHaveLength(8);
    expect(ran.slice(24).every((line) => line.includes(' -D ') && line.endsWith('--reject-with tcp-reset'))).toBe(true);
  });

  it("runs each node's rules in one exec, in order, and both nodes at once", async () => {
    const started: string[] = [];
    const release: (() => void)[] = [];
    const links = nodeLinkSwitch(topology, (c) => ({
      address: c === 'observer' ? '172.18.0.2' : '172.18.0.3',
      exec: (argv) => {
        started.push(`${c}: ${argv[2]!.split(' && ').map((rule) => rule.split(' ')[2]).join(',')}`);
        return new Promise<void>((resolve) => release.push(resolve));
      },
    }));
    const cutting = links.cut('observer', 'observee', 'hang');
    // Neither exec has finished, and both have started.
    expect(started).toEqual(['observer: INPUT,OUTPUT,FORWARD,FORWARD', 'observee: INPUT,OUTPUT,FORWARD,FORWARD']);
    for (const r of release) r();
    await cutting;
  });

  it('refuses to hand the shell anything that would need quoting', () => {
    expect(nodeScript([['iptables', '-D', 'INPUT', '-s', '172.18.0.3']])).toEqual(['sh', '-c', 'iptables -D INPUT -s 172.18.0.3']);
    expect(() => nodeScript([['iptables', '-s', '1.2.3.4; reboot']])).toThrow('"1.2.3.4; reboot" would need shell quoting');
  });

  it('names the cluster that does not exist, and refuses a link from a cluster to itself', async () => {
    const { ran, links } = recording();
    await expect(links.cut('observer', 'elsewhere')).rejects.toThrow('no cluster "elsewhere" in topology links: a link joins two of observer, observee');
    await expect(links.cut('observer', 'observer')).rejects.toThrow('a link joins two different clusters, not "observer" with itself');
    expect(ran).toEqual([]);
  });

  it("says which node's rules failed, and how", async () => {
    const links = nodeLinkSwitch(topology, (c) => ({ address: c === 'observer' ? '172.18.0.2' : '172.18.0.3', exec: async () => Promise.reject(new Error('exit 4: iptables: Permission denied')) }));
    await expect(links.cut('observer', 'observee')).rejects.toThrow(
      /^cutting the link observee<->observer: `sh -c iptables -I INPUT 1 -s 172\.18\.0\.3 -p tcp -j REJECT --reject-with tcp-reset && iptables -I OUTPUT 1 .*` in observer's node failed: exit 4: iptables: Permission denied$/,
    );
  });
});
