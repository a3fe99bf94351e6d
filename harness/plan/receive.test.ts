import { describe, expect, it } from 'vitest';
import { validateTopology, type TopologyInput } from '../topology/model.ts';
import { fakeAddressing as addressing, flag } from './fake-addressing.ts';
import { planTopology } from './index.ts';
import { RECEIVE_STOP_GRACE_MS } from './receive.ts';

/** One observer with the given receive (and, for a router, its ingesters) and nothing else. */
function topologyWith(...receives: Record<string, unknown>[]): TopologyInput {
  return {
    name: 'r',
    description: 'one receive',
    clusters: [{ name: 'observer', role: 'observer' }],
    components: receives.map((r) => ({ kind: 'receive', cluster: 'observer', ...r })) as TopologyInput['components'],
  };
}

describe('plan of a Receive: the ingest options', () => {
  it("keeps Thanos' defaults when the model does: no window, 2h blocks, hashmod", () => {
    const args = planTopology(validateTopology(topologyWith({ name: 'receive', replicas: 2, mode: 'hashring' })), addressing).processes[0]!.args;
    for (const name of ['tsdb.too-far-in-future.time-window', 'tsdb.out-of-order.time-window', 'tsdb.min-block-duration', 'tsdb.max-block-duration', 'receive.hashrings-algorithm']) {
      expect(flag(args, name), name).toEqual([]);
    }
  });

  it('passes each named option as its flag, once, and the block length as both block durations', () => {
    const t = validateTopology(
      topologyWith({ name: 'receive', replicas: 3, mode: 'hashring', tooFarInFutureWindow: '1m', outOfOrderWindow: '30m', blockDuration: '10m', hashringsAlgorithm: 'ketama' }),
    );
    for (const p of planTopology(t, addressing).processes) {
      expect(flag(p.args, 'tsdb.too-far-in-future.time-window')).toEqual(['1m']);
      expect(flag(p.args, 'tsdb.out-of-order.time-window')).toEqual(['30m']);
      expect(flag(p.args, 'tsdb.min-block-duration')).toEqual(['10m']);
      expect(flag(p.args, 'tsdb.max-block-duration')).toEqual(['10m']);
      expect(flag(p.args, 'receive.hashrings-algorithm')).toEqual(['ketama']);
    }
  });

  it('gives routers the hashring algorithm, and refuses it without a hashring in one line', () => {
    const t = validateTopology(topologyWith({ name: 'ingester', replicas: 3, mode: 'ingester' }, { name: 'router', mode: 'router', ingesters: 'ingester', replicationFactor: 3, hashringsAlgorithm: 'ketama' }));
    const router = planTopology(t, addressing).processes.find((p) => p.id === 'observer/router')!;
    expect(flag(router.args, 'receive.hashrings-algorithm')).toEqual(['ketama']);
    expect(() => validateTopology(topologyWith({ name: 'receive', hashringsAlgorithm: 'ketama' }))).toThrow(
      'invalid topology "r": components.0.hashringsAlgorithm needs a hashring (mode "hashring" or "router"), not "standalone"',
    );
  });

  it('gives a Receive that uploads time to do so when stopped, and a router, which uploads nothing, the short default', () => {
    const t = validateTopology(
      topologyWith({ name: 'ingester', replicas: 2, mode: 'ingester', bucketPrefix: 'observee' }, { name: 'router', mode: 'router', ingesters: 'ingester', replicationFactor: 1 }),
    );
    const graceOf = (id: string) => planTopology(t, addressing).processes.find((p) => p.id === id)!.stopGraceMs;
    expect(graceOf('observer/ingester-0')).toBe(RECEIVE_STOP_GRACE_MS);
    expect(graceOf('observer/ingester-1')).toBe(RECEIVE_STOP_GRACE_MS);
    expect(graceOf('observer/router')).toBeUndefined();
  });
});

describe('plan of a hashring that grows (replicas joining later)', () => {
  const endpointsOf = (files: Record<string, string> | undefined) =>
    (JSON.parse(files!['hashrings.json']!) as { endpoints: { address: string }[] }[])[0]!.endpoints.map((e) => e.address);

  it('leaves the joining replica out of the ring and out of bring-up; it starts with the grown ring, the others get it to write later', () => {
    const t = validateTopology(topologyWith({ name: 'receive', replicas: 4, joining: 1, mode: 'hashring', replicationFactor: 3 }));
    const plan = planTopology(t, addressing);
    const [first, , , joiner] = plan.processes as [(typeof plan.processes)[number], unknown, unknown, (typeof plan.processes)[number]];
    expect(plan.processes.map((p) => p.deferred ?? false)).toEqual([false, false, false, true]);
    expect(endpointsOf(first.files)).toHaveLength(3);
    expect(endpointsOf(first.grownFiles)).toHaveLength(4);
    expect(endpointsOf(joiner.files)).toEqual(endpointsOf(first.grownFiles));
    expect(joiner.grownFiles).toBeUndefined();
    expect(endpointsOf(first.grownFiles).slice(0, 3)).toEqual(endpointsOf(first.files));
  });

  it('grows a router\'s ring over its ingesters, and leaves a ring that does not grow alone', () => {
    const t = validateTopology(
      topologyWith({ name: 'ingester', replicas: 4, joining: 1, mode: 'ingester' }, { name: 'router', mode: 'router', ingesters: 'ingester', replicationFactor: 3, hashringsAlgorithm: 'ketama' }),
    );
    const plan = planTopology(t, addressing);
    const router = plan.processes.find((p) => p.id === 'observer/router')!;
    expect(endpointsOf(router.files)).toHaveLength(3);
    expect(endpointsOf(router.grownFiles)).toHaveLength(4);
    expect(plan.processes.filter((p) => p.deferred).map((p) => p.id)).toEqual(['observer/ingester-3']);
    const still = planTopology(validateTopology(topologyWith({ name: 'receive', replicas: 3, mode: 'hashring', replicationFactor: 3 })), addressing);
    expect(still.processes.every((p) => p.grownFiles === undefined && !p.deferred)).toBe(true);
  });

  it('refuses in one line a joining replica without a ring to join, all replicas joining, and a replication factor the first ring cannot hold', () => {
    expect(() => validateTopology(topologyWith({ name: 'receive', replicas: 2, joining: 1 }))).toThrow('components.0.joining needs a hashring to join (mode "hashring" or "ingester"), not "standalone"');
    expect(() => validateTopology(topologyWith({ name: 'receive', replicas: 2, joining: 2, mode: 'hashring' }))).toThrow('components.0.joining 2 of 2 replicas: at least one must be in the ring from the start');
    expect(() => validateTopology(topologyWith({ name: 'receive', replicas: 3, joining: 1, mode: 'hashring', replicationFactor: 3 }))).toThrow(
      'components.0.replicationFactor 3 exceeds the 2 receives of the hashring at bring-up (1 join later)',
    );
  });
});
