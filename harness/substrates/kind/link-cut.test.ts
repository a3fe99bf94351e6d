import { describe, expect, it } from 'vitest';
import { nodeExecArgs } from './index.ts';

describe('kind nodeExecArgs', () => {
  it('runs the command in the cluster\'s node container', () => {
    const run = { nodeContainer: { observer: 'thanos-ha-e2e-abc123-observer-control-plane' } };
    expect(nodeExecArgs(run, 'observer', ['iptables', '-D', 'INPUT'])).toEqual(['exec', 'thanos-ha-e2e-abc123-observer-control-plane', 'iptables', '-D', 'INPUT']);
    expect(() => nodeExecArgs(run, 'observee', [])).toThrow('no kind node for cluster "observee" (have: observer)');
  });
});
