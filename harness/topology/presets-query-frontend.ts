// Query Frontend results cache (FINDINGS.md G, thanos-io/thanos #3972, #5075, #7831, #8641):
// Arch 1's fixed query path with two cached Query Frontends in front of the same Query.
import { validateTopology, type Topology } from './model.ts';
import { OBSERVER, OBSERVEE } from './preset-defaults.ts';

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
  const frontend = (name: string, maxFreshness: string) => ({
    kind: 'query-frontend' as const,
    name,
    cluster: OBSERVER,
    downstream: `${OBSERVER}/${FRONTEND_CACHE.query}`,
    resultsCache: { maxFreshness },
  });
  return validateTopology({
    name: 'query-frontend-cache',
    description: 'Arch 1 (Store + sidecars) behind two caching Query Frontends: max freshness 0s (faulty) and 1m (fixed)',
    clusters: [
      { name: OBSERVER, role: 'observer' },
      { name: OBSERVEE, role: 'observee' },
    ],
    components: [
      // A scrape a second on the 15s grid: after a held-back ingestion is released, each scrape
      // delivers one more slot, so a lag of a few slots is gone within seconds.
      { kind: 'prometheus', name: 'prometheus', cluster: OBSERVEE, replicas: 2, scrapeInterval: '1s' },
      // Store sync and sidecar refresh shortened as in Arch 1's presets: they only delay the waits.
      { kind: 'sidecar', name: 'sidecar', cluster: OBSERVEE, prometheus: 'prometheus', prometheusRefreshInterval: '5s' },
      { kind: 'store', name: 'store', cluster: OBSERVER, bucketPrefix: OBSERVEE, syncInterval: '10s' },
      { kind: 'query', name: FRONTEND_CACHE.query, cluster: OBSERVER, endpoints: [`${OBSERVER}/store`, `${OBSERVEE}/sidecar`], replicaLabels: ['prometheus_replica'] },
      frontend(FRONTEND_CACHE.faulty, FRONTEND_CACHE_FRESHNESS.faulty),
      frontend(FRONTEND_CACHE.fixed, FRONTEND_CACHE_FRESHNESS.fixed),
    ],
  });
}
