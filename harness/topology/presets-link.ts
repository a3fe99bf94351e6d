// The link between the clusters as a fault (issue #10): Arch 1 with history, two Queries in the
// observer over Store and the observee's sidecars, which they reach only across the link.
import { refOf, validateTopology, type Topology } from './model.ts';
import { arch1 } from './presets.ts';

/** The two Queries (each with a Query Frontend "<name>-frontend"): the sidecars as plain endpoints (the note's), or strict. */
export const LINK_CUT_QUERIES = { plain: 'query', strict: 'query-strict' } as const;

/**
 * Arch 1's fixed query path twice: "query" as the note configures it, "query-strict" with the
 * sidecars as strict endpoints, which Query keeps asking when their health check fails. Without
 * the observer's own Prometheus, which the link cut does not involve.
 */
export function linkCut(): Topology {
  const base = arch1('store-and-sidecar');
  const query = base.components.find((c) => c.kind === 'query')!;
  const frontend = base.components.find((c) => c.kind === 'query-frontend')!;
  if (query.kind !== 'query' || frontend.kind !== 'query-frontend' || query.name !== LINK_CUT_QUERIES.plain) throw new Error(`arch1 changed: expected its Query "${LINK_CUT_QUERIES.plain}" and a frontend`);
  const sidecars = query.endpoints.filter((e) => base.components.some((c) => c.kind === 'sidecar' && refOf(c) === e));
  const strict = LINK_CUT_QUERIES.strict;
  return validateTopology({
    ...base,
    name: 'link-cut',
    description: "Arch 1 with the observer's Queries reaching the observee's sidecars across the link: one with plain endpoints (the note's), one with the sidecars strict",
    components: [
      ...base.components.filter((c) => !(c.kind === 'prometheus' && c.cluster === query.cluster)),
      { ...query, name: strict, strictEndpoints: sidecars },
      { ...frontend, name: `${strict}-frontend`, downstream: `${query.cluster}/${strict}` },
    ],
  });
}
