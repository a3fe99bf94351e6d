// Query Frontend results cache (FINDINGS.md G, thanos-io/thanos #3972, #5075, #7831, #8641):
// Arch 1's fixed query path (presets.ts arch1) with two cached Query Frontends in front of the same Query.
import { validateTopology, type Component, type Topology } from './model.ts';
import { OBSERVER } from './preset-defaults.ts';
import { arch1 } from './presets.ts';

/** The components of queryFrontendCache(), by role. */
export const FRONTEND_CACHE = {
  query: 'query',
  /** Caches everything up to "now": --query-range.response-cache-max-freshness=0s. */
  faulty: 'faulty-query-frontend',
  /** Never caches the newest minute (upstream's default), longer than the ingestion lag the scenario creates. */
  fixed: 'fixed-query-frontend',
} as const;

/** The max freshness of each frontend's results cache. */
export const FRONTEND_CACHE_FRESHNESS = { faulty: '0s', fixed: '1m' } as const;

/**
 * Arch 1 with the note's fix (Query reads Store and both sidecars) and, in front of that one
 * Query, two Query Frontends that split ranges and labels by 1h and cache results in memory:
 * one with no freshness window (faulty), one that never caches the newest minute (fixed).
 */
export function queryFrontendCache(): Topology {
  const base = arch1('store-and-sidecar');
  const query = base.components.find((c) => c.kind === 'query');
  const frontend = base.components.find((c) => c.kind === 'query-frontend');
  if (query?.name !== FRONTEND_CACHE.query || frontend?.kind !== 'query-frontend') throw new Error(`arch1 changed: expected its Query "${FRONTEND_CACHE.query}" and a frontend`);
  const caching = (name: string, maxFreshness: string) => ({ ...frontend, name, resultsCache: { maxFreshness } });
  return validateTopology({
    ...base,
    name: 'query-frontend-cache',
    description: 'Arch 1 (Store + sidecars) behind two caching Query Frontends: max freshness 0s (faulty) and 1m (fixed)',
    components: [
      // A scrape a second on the 15s grid: after a held-back ingestion is released, each scrape
      // delivers one more slot, so a lag of a few slots is gone within seconds.
      ...base.components
        .filter((c) => c.kind !== 'query-frontend' && !(c.kind === 'prometheus' && c.cluster === OBSERVER))
        .map((c): Component => (c.kind === 'prometheus' ? { ...c, scrapeInterval: '1s' } : c)),
      caching(FRONTEND_CACHE.faulty, FRONTEND_CACHE_FRESHNESS.faulty),
      caching(FRONTEND_CACHE.fixed, FRONTEND_CACHE_FRESHNESS.fixed),
    ],
  });
}
