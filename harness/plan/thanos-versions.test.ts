// Flags that differ between the Thanos releases the matrix runs (the note's 0.32.5, the previous minor, the pin).
import { describe, expect, it } from 'vitest';
import { arch1 } from '../presets/arch1.ts';
import { receiveJitter } from '../presets/receive-jitter.ts';
import { receiveReplication } from '../presets/receive-replication.ts';
import { fakeAddressing as addressing } from './fake-addressing.ts';
import { planTopology, runVersions } from './index.ts';
import { queryEndpointAddresses } from './query.ts';

const planAt = (thanos: string, topology = arch1('store-and-sidecar').topology) => planTopology(topology, addressing, { ...runVersions(), thanos });
const query = (thanos: string) => planAt(thanos).processes.find((p) => p.id === 'observer/query')!;

describe('Thanos flags by release', () => {
  it('gives Query its endpoints in the SD config file from 0.38, and as --endpoint flags before', () => {
    const [old, current] = [query('0.37.2'), query('0.38.0')];
    expect(current.args.some((a) => a.startsWith('--endpoint.sd-config-file='))).toBe(true);
    expect(old.args.some((a) => a.startsWith('--endpoint.sd-config-file='))).toBe(false);
    expect(old.files['endpoints.yml']).toBeUndefined();
    expect(queryEndpointAddresses(old)).toEqual(queryEndpointAddresses(current));
    expect(queryEndpointAddresses(old).length).toBeGreaterThan(0);
  });

  it("keeps strict endpoints strict in the old Query's flags", () => {
    const topology = arch1('store-and-sidecar').topology;
    const q = topology.components.find((c) => c.kind === 'query')!;
    const strictRef = (q as { endpoints: string[] }).endpoints[0]!;
    Object.assign(q, { strictEndpoints: [strictRef] });
    const args = planAt('0.32.5', topology).processes.find((p) => p.id === 'observer/query')!.args;
    expect(args.filter((a) => a.startsWith('--endpoint-strict=')).length).toBeGreaterThan(0);
  });

  it('refuses --deduplication.func before 0.38 in one line naming the Query', () => {
    expect(() => planAt('0.32.5', receiveJitter('hashring-rf2').topology)).not.toThrow(); // no dedup func there
    expect(() => planAt('0.32.5', receiveReplication(3, 2).topology)).toThrow(/^observer\/query[^\n]*--deduplication\.func=chain needs Thanos >= 0\.38[^\n]*0\.32\.5\)$/);
  });

  it("passes Receive's Cap'n Proto listen address from 0.37 only, where the flag exists", () => {
    const receiveArgs = (thanos: string) => planAt(thanos, receiveReplication(3, 2).topology).processes.find((p) => p.kind === 'receive')!.args;
    expect(receiveArgs('0.38.0').filter((a) => a.startsWith('--receive.capnproto-address='))).toHaveLength(1);
    expect(() => receiveArgs('0.36.0')).toThrow(/deduplication\.func/); // that topology's Query needs 0.38
    const standalone = planAt('0.36.0', receiveJitter('hashring-rf2').topology).processes.find((p) => p.kind === 'receive')!.args;
    expect(standalone.filter((a) => a.startsWith('--receive.capnproto-address='))).toEqual([]);
  });
});
