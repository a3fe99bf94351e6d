import { describe, expect, it } from 'vitest';
import { arch1 } from '../presets/arch1.ts';
import { isBefore } from './context.ts';
import { fakeAddressing as addressing } from './fake-addressing.ts';
import { planTopology, runVersions } from './index.ts';
import { compatibilityLabelFlags } from './store.ts';

const FLAG = '--no-debug.advertise-compatibility-label';

describe("Store's compatibility label set by Thanos version", () => {
  const planFor = (thanos: string) => planTopology(arch1('store-and-sidecar').topology, addressing, { ...runVersions(), thanos });
  const storeArgs = (thanos: string) => planFor(thanos).processes.find((p) => p.id === 'observer/store')!.args;

  it('switches it off before 0.42, where Store advertises {"@thanos_compatibility_store_type":"store"} by default', () => {
    expect(storeArgs('0.41.0').filter((a) => a === FLAG)).toHaveLength(1);
  });

  it('passes no flag from 0.42 on, which removed both the label set and the flag', () => {
    expect(storeArgs('0.42.4')).not.toContain(FLAG);
    expect(storeArgs('0.42.0')).not.toContain(FLAG);
  });

  it('changes nothing but that one Store flag between the two versions', () => {
    const [old, current] = [planFor('0.41.0'), planFor('0.42.4')];
    const withoutFlag = old.processes.map((p) => ({ ...p, args: p.args.filter((a) => a !== FLAG) }));
    expect(withoutFlag).toEqual(current.processes);
    expect(old.services).toEqual(current.services);
  });

  it('compares releases by major and minor', () => {
    expect(compatibilityLabelFlags('0.8.0')).toEqual([FLAG]);
    expect(compatibilityLabelFlags('v0.41.1')).toEqual([FLAG]);
    expect(compatibilityLabelFlags('0.42.0-rc.0')).toEqual([]);
    expect(compatibilityLabelFlags('0.43.0')).toEqual([]);
    expect(compatibilityLabelFlags('1.0.0')).toEqual([]);
    expect(isBefore('0.41.0', 1, 0)).toBe(true);
    expect(() => compatibilityLabelFlags('latest')).toThrow('"latest" is not a release version like 1.2.3');
  });

  it('plans for the Thanos this process runs unless told otherwise', () => {
    const expected = compatibilityLabelFlags(runVersions().thanos);
    const args = planTopology(arch1('store-only').topology, addressing).processes.find((p) => p.id === 'observer/store')!.args;
    expect(args.filter((a) => a === FLAG)).toEqual(expected);
  });
});
