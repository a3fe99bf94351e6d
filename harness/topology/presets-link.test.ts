import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { fakeAddressing } from '../plan/fake-addressing.ts';
import { planTopology } from '../plan/index.ts';
import { validateTopology } from './model.ts';
import { LINK_CUT_QUERIES, linkCut } from './presets-link.ts';

describe('linkCut', () => {
  const plan = planTopology(linkCut(), fakeAddressing);
  const endpoints = (id: string) => parse(plan.processes.find((p) => p.id === id)!.files['endpoints.yml']!).endpoints;

  it("gives the note's Query plain endpoints, and the other Query its sidecars as strict ones", () => {
    expect(endpoints(`observer/${LINK_CUT_QUERIES.plain}`)).toEqual([
      { address: 'observer/store:grpc' },
      { address: 'observee/sidecar-0:grpc' },
      { address: 'observee/sidecar-1:grpc' },
    ]);
    expect(endpoints(`observer/${LINK_CUT_QUERIES.strict}`)).toEqual([
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
    const topology = linkCut();
    const components = topology.components.map((c) => (c.kind === 'query' && c.name === LINK_CUT_QUERIES.plain ? { ...c, strictEndpoints: ['observer/store-2'] } : c));
    const at = components.findIndex((c) => c.kind === 'query' && c.name === LINK_CUT_QUERIES.plain);
    expect(() => validateTopology({ ...topology, components })).toThrow(
      `invalid topology "link-cut": components.${at}.strictEndpoints.0 "observer/store-2" is not one of its endpoints (observer/store, observee/sidecar): add it to endpoints too`,
    );
  });
});
