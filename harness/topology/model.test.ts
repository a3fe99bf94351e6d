import { describe, expect, it } from 'vitest';
import { validateTopology } from './model.ts';
import { arch1, presetByName } from './presets.ts';

const minimal = () => ({
  name: 't',
  description: 'test',
  clusters: [{ name: 'observer', role: 'observer' }],
  components: [
    { kind: 'store', name: 'store', cluster: 'observer', bucketPrefix: 'observee' },
    { kind: 'query', name: 'query', cluster: 'observer', endpoints: ['observer/store'] },
  ],
});

describe('validateTopology', () => {
  it('accepts the presets', () => {
    expect(arch1('store-only').components.map((c) => c.kind)).toContain('store');
    expect(presetByName('arch1-store-and-sidecar').name).toBe('arch1-store-and-sidecar');
  });

  it('names the field of a bad reference', () => {
    const t = minimal();
    t.components[1]!.endpoints = ['observer/nope'];
    expect(() => validateTopology(t)).toThrow('invalid topology "t": components.1.endpoints.0 refers to "observer/nope", which does not exist');
  });

  it('names the field of a schema error', () => {
    const t = minimal() as Record<string, unknown>;
    (t.components as Record<string, unknown>[])[0]!.syncInterval = 'soon';
    expect(() => validateTopology(t)).toThrow(/^invalid topology: components\.0\.syncInterval must be a Prometheus duration/);
  });

  it('rejects an undeclared cluster and a duplicate name', () => {
    const t = minimal();
    t.components[0]!.cluster = 'elsewhere';
    expect(() => validateTopology(t)).toThrow('components.0.cluster "elsewhere" is not a declared cluster');
    const d = minimal();
    d.components.push({ kind: 'store', name: 'store', cluster: 'observer', bucketPrefix: 'x' });
    expect(() => validateTopology(d)).toThrow('components.2.name "observer/store" is declared twice');
  });

  it('rejects an endpoint of the wrong kind', () => {
    const t = minimal();
    t.components.push({ kind: 'query-frontend', name: 'qf', cluster: 'observer', downstream: 'observer/store' } as never);
    expect(() => validateTopology(t)).toThrow('components.2.downstream refers to "observer/store" (a store), expected one of: query, service');
  });

  it('names an unknown preset and lists the known ones', () => {
    expect(() => presetByName('arch9')).toThrow('unknown topology "arch9": choose one of arch1-store-only, arch1-store-and-sidecar');
  });
});
