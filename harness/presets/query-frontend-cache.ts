// Query Frontend results cache (FINDINGS.md G, thanos-io/thanos #3972, #5075, #7831, #8641):
// Arch 1's fixed query path with two cached Query Frontends in front of the same Query.
import { validateTopology, type Component } from '../topology/model.ts';
import { arch1, type Arch1Preset } from './arch1.ts';
import { handle, type Handle } from './handles.ts';

/** The max freshness of each frontend's results cache. */
export const FRONTEND_CACHE_FRESHNESS = { faulty: '0s', fixed: '1m' } as const;
export type FrontendRole = keyof typeof FRONTEND_CACHE_FRESHNESS;
export const FRONTEND_ROLES: readonly FrontendRole[] = ['faulty', 'fixed'];

export interface FrontendCachePreset extends Omit<Arch1Preset<'store-and-sidecar'>, 'paths'> {
  /** Arch 1's fixed Query (Store and both sidecars), which both frontends read. */
  query: Handle<'query'>;
  /** Caches everything up to "now" (faulty); never caches the newest minute, longer than the ingestion lag the scenario creates (fixed). */
  frontends: Record<FrontendRole, Handle<'query-frontend'>>;
}

/**
 * Arch 1 with the note's fix (Query reads Store and both sidecars) and, in front of that one
 * Query, two Query Frontends that split ranges and labels by 1h and cache results in memory:
 * one with no freshness window (faulty), one that never caches the newest minute (fixed).
 */
export function queryFrontendCache(): FrontendCachePreset {
  const base = arch1('store-and-sidecar');
  const { query, frontend } = base.paths.storeAndSidecar;
  const name = (role: FrontendRole) => `${role}-query-frontend`;
  const caching = (role: FrontendRole) => ({ ...frontend.spec, name: name(role), resultsCache: { maxFreshness: FRONTEND_CACHE_FRESHNESS[role] } });
  const topology = validateTopology({
    ...base.topology,
    name: 'query-frontend-cache',
    description: 'Arch 1 (Store + sidecars) behind two caching Query Frontends: max freshness 0s (faulty) and 1m (fixed)',
    components: [
      // A scrape a second on the 15s grid: after a held-back ingestion is released, each scrape
      // delivers one more slot, so a lag of a few slots is gone within seconds.
      ...base.topology.components
        .filter((c) => c.kind !== 'query-frontend' && !(c.kind === 'prometheus' && c.cluster === base.clusters.observer))
        .map((c): Component => (c.kind === 'prometheus' ? { ...c, scrapeInterval: '1s' } : c)),
      caching('faulty'),
      caching('fixed'),
    ],
  });
  const { paths: _, ...rest } = base;
  return {
    ...rest,
    topology,
    prometheus: handle(topology, 'prometheus', base.prometheus.ref),
    query: handle(topology, 'query', query.ref),
    frontends: { faulty: handle(topology, 'query-frontend', `${frontend.cluster}/${name('faulty')}`), fixed: handle(topology, 'query-frontend', `${frontend.cluster}/${name('fixed')}`) },
  };
}
