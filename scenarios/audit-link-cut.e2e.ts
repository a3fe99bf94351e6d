// `audit` against real topologies (issue 21), one file per topology family: each preset is brought
// up and put in its finding's state by the same preparation `up <preset>` runs
// (steps/preparations.ts), then audited through its query paths, addressed by the preset's handles.
// The audit must report exactly what harness/audit/cases.ts says for each path: the findings it is
// faulty for and nothing else, its fixed twin clean. The README's preset x check table is rendered
// from those cases.
//
// The link between the clusters is cut once Arch 1 is served (the fault the finding is about),
// and restored after.
import { describe, it } from 'vitest';
import { auditPath, caseOf, expectCase, pathUrls } from '../harness/audit/proof.ts';
import type { QueryPathHandle } from '../harness/presets/handles.ts';
import { linkCut } from '../harness/presets/link-cut.ts';
import { PromApiClient } from '../harness/promql/client.ts';
import { waitForStores } from '../harness/promql/wait-metrics.ts';
import { log, useTopology } from '../harness/scenario.ts';
import { PREPARATIONS } from '../harness/steps/preparations.ts';

describe('audit of the link cut: plain endpoints are flagged for the silent partial answer, strict ones not, the restored link clean', () => {
  const preset = linkCut();
  const audited = useTopology(preset.topology, async (t) => {
    await PREPARATIONS[preset.topology.name]!.prepare(t, log);
    const sidecars = preset.sidecar.instances.length;
    const paths = [preset.paths.plain, preset.paths.strict];
    const client = (p: QueryPathHandle) => new PromApiClient(t.url(p.query.ref));
    await t.cutLink(preset.clusters.observer, preset.clusters.observee);
    // Once each Query's own check of the sidecars has failed (its Stores page says so).
    await Promise.all(paths.map((p) => waitForStores(p.query.ref, client(p), { type: 'sidecar', count: sidecars, failing: true }, { onProgress: log })));
    const plain = await auditPath(t, caseOf(preset.topology.name, 'sidecars as plain endpoints (the note), the link cut'), pathUrls(t, preset.paths.plain));
    const strict = await auditPath(t, caseOf(preset.topology.name, 'sidecars as strict endpoints, the link cut'), pathUrls(t, preset.paths.strict));
    const restoredAt = Date.now();
    await t.restoreLink(preset.clusters.observer, preset.clusters.observee);
    await waitForStores(preset.paths.plain.query.ref, client(preset.paths.plain), { type: 'sidecar', count: sidecars, checkedAfter: restoredAt }, { onProgress: log });
    const restored = await auditPath(t, caseOf(preset.topology.name, 'sidecars as plain endpoints, the link restored'), pathUrls(t, preset.paths.plain));
    return { plain, strict, restored };
  }, { faults: ['cutLink'] });
  it('plain endpoints, cut: A, E and partial (HTTP 200 without a warning even with partial_response=false)', () => expectCase(audited().plain));
  it('strict endpoints, cut: A and E, and Query says so (partial ok)', () => expectCase(audited().strict));
  it('the link restored: clean', () => expectCase(audited().restored));
});
