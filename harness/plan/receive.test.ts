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
