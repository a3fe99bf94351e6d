import { describe, expect, it } from 'vitest';
import { abandonedRunNetworks } from './janitor.ts';
import { removeRunCommand } from './run-resources.ts';

describe('abandonedRunNetworks', () => {
  const alive = (pid: number) => pid === 100;

  it('chooses this host\'s runs whose owner pid is gone, and nothing else', () => {
    const lines = [
      'thanos-ha-e2e-aaaaaa laptop.200', // this host, dead: chosen
      'thanos-ha-e2e-bbbbbb laptop.100', // this host, alive
      'thanos-ha-e2e-cccccc ci-runner.200', // another host: its pids say nothing here
      'thanos-ha-e2e-dddddd not-an-owner', // malformed
      'thanos-ha-e2e-eeeeee', // no label value
      'thanos-ha-e2e-ffffff my.laptop.local.300', // a host with dots, dead
    ];
    expect(abandonedRunNetworks(lines, 'laptop', alive)).toEqual(['thanos-ha-e2e-aaaaaa']);
    expect(abandonedRunNetworks(lines, 'my.laptop.local', alive)).toEqual(['thanos-ha-e2e-ffffff']);
  });
});

describe('removeRunCommand', () => {
  it('removes the containers on the run\'s network, then the network, and cannot be steered by the name', () => {
    const command = removeRunCommand("thanos-ha-e2e-abc'; rm -rf /; '");
    expect(command).toContain("--filter network='thanos-ha-e2e-abc; rm -rf /; '");
    expect(command).toContain("docker network rm 'thanos-ha-e2e-abc; rm -rf /; '");
    expect(command.indexOf('docker rm -f -v')).toBeLessThan(command.indexOf('docker network rm'));
  });
});
