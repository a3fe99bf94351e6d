import { describe, expect, it } from 'vitest';
import { linkCut } from '../presets/link-cut.ts';
import { receiveJitter } from '../presets/receive-jitter.ts';
import { validateTopology } from '../topology/model.ts';
import { fakeAddressing as addressing } from './fake-addressing.ts';
import { planTopology, queryEndpointCount } from './index.ts';
import { queryEndpointAddresses, queryTimeouts } from './query.ts';

describe('queryTimeouts', () => {
  const preset = linkCut();
  const plan = planTopology(preset.topology, addressing);
  const planOf = (ref: string) => plan.processes.find((p) => p.component === ref)!;

  it("reads Thanos' defaults where the plan sets no timeout (the note's Query)", () => {
    const args = planOf(preset.paths.plain.query.ref).args;
    expect(args.filter((a) => /^--(query|store\.response|endpoint\.info)-?\.?timeout/.test(a))).toEqual([]);
    expect(queryTimeouts(planOf(preset.paths.plain.query.ref))).toEqual({ queryMs: 120_000, storeResponseMs: 0, endpointInfoMs: 5_000 });
  });

  it('plans a store response timeout and a query timeout as their flags, once each, and reads them back', () => {
    const strict = planOf(preset.paths.strict.query.ref);
    expect(strict.args.filter((a) => a.startsWith('--store.response-timeout='))).toEqual(['--store.response-timeout=3s']);
    expect(queryTimeouts(strict)).toEqual({ queryMs: 120_000, storeResponseMs: 3_000, endpointInfoMs: 5_000 });
    expect(queryTimeouts({ args: ['--query.timeout=1m30s'] })).toMatchObject({ queryMs: 90_000 });
  });
});

describe('paired endpoints (the jitter preset\'s pinned Query pair)', () => {
  const preset = receiveJitter('standalone-behind-service');
  const plan = planTopology(preset.topology, addressing);
  const receives = preset.receive.instances.map((r) => addressing.dial(preset.pinned.query.instances[0]!, r, 'grpc'));

  it('replica i dials receive i only; the fan-out pair dials both from each replica', () => {
    const dialled = (q: string) => queryEndpointAddresses(plan.processes.find((p) => p.id === q)!);
    expect(preset.pinned.query.instances.map(dialled)).toEqual(receives.map((r) => [r]));
    expect(preset.fanout!.query.instances.map(dialled)).toEqual(preset.fanout!.query.instances.map(() => receives));
    expect(queryEndpointCount(preset.topology, preset.pinned.query.ref)).toBe(1);
    expect(queryEndpointCount(preset.topology, preset.fanout!.query.ref)).toBe(receives.length);
  });

  it('are refused where the counts differ or the endpoint is a Service, in one line each', () => {
    const grpc = { name: 'receive-grpc', cluster: 'observer', targets: ['observer/receive'], port: 'grpc' };
    const withQuery = (query: Record<string, unknown>) => () =>
      validateTopology({
        ...preset.topology,
        components: [...preset.topology.components, { kind: 'query', name: 'odd', cluster: 'observer', ...query }],
        services: [...preset.topology.services, grpc],
      });
    expect(withQuery({ replicas: 2, endpoints: ['observer/receive'], pairedEndpoints: true })).not.toThrow();
    expect(withQuery({ replicas: 3, endpoints: ['observer/receive'], pairedEndpoints: true })).toThrow('"observer/receive" has 2 instances, not one per replica (3): pairedEndpoints needs as many');
    expect(withQuery({ replicas: 2, endpoints: ['observer/receive-grpc'], pairedEndpoints: true })).toThrow('"observer/receive-grpc" is a service: paired endpoints name components');
    expect(withQuery({ replicas: 2, endpoints: ['observer/receive-grpc'] })).not.toThrow();
  });
});
