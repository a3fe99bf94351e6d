// The link between the clusters as a fault (issue #10; hanging, issue #21): Arch 1 with history,
// two Queries in the observer over Store and the observee's sidecars, which they reach only across
// the link.
import { validateTopology } from '../topology/model.ts';
import { arch1, type Arch1Preset } from './arch1.ts';
import { queryPathHandle, type QueryPathHandle } from './handles.ts';

export interface LinkCutPreset extends Omit<Arch1Preset<'store-and-sidecar'>, 'paths'> {
  /** The sidecars as plain endpoints (the note's), and as strict ones. */
  paths: { plain: QueryPathHandle; strict: QueryPathHandle };
}

/**
 * Arch 1's fixed query path twice: the note's Query with plain endpoints (and Thanos' default
 * timeouts), and one with the sidecars as strict endpoints, which Query keeps asking when their
 * health check fails, and a store response timeout, so that a link that hangs costs a query that
 * long rather than until gRPC's keepalive gives up (models/hung-endpoint.ts). Without the
 * observer's own Prometheus, which the link cut does not involve.
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
      // 3s: below the 5 s after which gRPC's keepalive (or, where packets are dropped, TCP's user
      // timeout) can end a hung connection, so that this timeout is what ends the wait; far above the
      // milliseconds Store and the sidecars take to send their first frame here.
      { ...query.spec, name: strict, strictEndpoints: [base.sidecar.ref], storeResponseTimeout: '3s' },
      { ...frontend.spec, name: `${strict}-frontend`, downstream: `${query.cluster}/${strict}` },
    ],
  });
  const { paths: _, ...rest } = base;
  return { ...rest, topology, paths: { plain: queryPathHandle(topology, query.ref), strict: queryPathHandle(topology, `${query.cluster}/${strict}`) } };
}
