// The link between the clusters as a fault (issue #10): Arch 1 with history, two Queries in the
// observer over Store and the observee's sidecars, which they reach only across the link.
import { validateTopology } from '../topology/model.ts';
import { arch1, type Arch1Preset } from './arch1.ts';
import { queryPathHandle, type QueryPathHandle } from './handles.ts';

export interface LinkCutPreset extends Omit<Arch1Preset<'store-and-sidecar'>, 'paths'> {
  /** The sidecars as plain endpoints (the note's), and as strict ones. */
  paths: { plain: QueryPathHandle; strict: QueryPathHandle };
}

/**
 * Arch 1's fixed query path twice: the note's Query with plain endpoints, and one with the
 * sidecars as strict endpoints, which Query keeps asking when their health check fails. Without
 * the observer's own Prometheus, which the link cut does not involve.
 */
export function linkCut(): LinkCutPreset {
  const base = arch1('store-and-sidecar');
  const { query, frontend } = base.paths.storeAndSidecar;
  const strict = `${query.name}-strict`;
  const topology = validateTopology({
    ...base.topology,
    name: 'link-cut',
    description: "Arch 1 with the observer's Queries reaching the observee's sidecars across the link: one with plain endpoints (the note's), one with the sidecars strict",
    components: [
      ...base.topology.components.filter((c) => !(c.kind === 'prometheus' && c.cluster === query.cluster)),
      { ...query.spec, name: strict, strictEndpoints: [base.sidecar.ref] },
      { ...frontend.spec, name: `${strict}-frontend`, downstream: `${query.cluster}/${strict}` },
    ],
  });
  const { paths: _, ...rest } = base;
  return { ...rest, topology, paths: { plain: queryPathHandle(topology, query.ref), strict: queryPathHandle(topology, `${query.cluster}/${strict}`) } };
}
