import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { fakeAddressing } from '../plan/fake-addressing.ts';
import { planTopology } from '../plan/index.ts';
import { validateTopology } from '../topology/model.ts';
import { linkCut } from './link-cut.ts';

describe('linkCut', () => {
  const preset = linkCut();
  const plan = planTopology(preset.topology, fakeAddressing);
  const endpoints = (id: string) => parse(plan.processes.find((p) => p.id === id)!.files['endpoints.yml']!).endpoints;

  it("gives the note's Query plain endpoints, and the other Query its sidecars as strict ones", () => {
    expect(endpoints(preset.paths.plain.query.ref)).toEqual([
      { address: 'observer/store:grpc' },
      { address: 'observee/sidecar-0:grpc' },
      { address: 'observee/sidecar-1:grpc' },
    ]);
    expect(endpoints(preset.paths.strict.query.ref)).toEqual([
      { address: 'observer/store:grpc' },
      { address: 'observee/sidecar-0:grpc', strict: true },
      { address: 'observee/sidecar-1:grpc', strict: true },
    ]);
  });

  it('puts a Query Frontend in front of each Query, and no Prometheus in the observer', () => {
    expect(plan.processes.filter((p) => p.kind === 'query-frontend').map((p) => p.id).sort()).toEqual(['observer/query-frontend', 'observer/query-strict-frontend']);
    expect(plan.processes.filter((p) => p.cluster === 'observer' && p.kind === 'prometheus')).toEqual([]);
  });

  it('refuses a strict endpoint that is not an endpoint', () => {
    const { topology } = preset;
    const components = topology.components.map((c) => (c.kind === 'query' && c.name === preset.paths.plain.query.name ? { ...c, strictEndpoints: ['observer/store-2'] } : c));
    const at = components.findIndex((c) => c.kind === 'query' && c.name === preset.paths.plain.query.name);
    expect(() => validateTopology({ ...topology, components })).toThrow(
      `invalid topology "link-cut": components.${at}.strictEndpoints.0 "observer/store-2" is not one of its endpoints (observer/store, observee/sidecar): add it to endpoints too`,
    );
  });
});
