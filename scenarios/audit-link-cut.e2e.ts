// `audit` against real topologies (issue 21), one file per topology family: each preset is brought
// up and put in its finding's state by the same preparation `up <preset>` runs
// (steps/preparations.ts), then audited through its query paths, addressed by the preset's handles.
// The audit must report exactly what harness/audit/cases.ts says for each path: the findings it is
// faulty for and nothing else, its fixed twin clean. The README's preset x check table is rendered
// from those cases.
//
// One bring-up for both ways a link fails: once Arch 1 is served the link between the clusters is
// cut (connections reset), then restored; then it hangs (packets dropped, nothing reset, as after a
// security-group change: the link-cut scenario's hang variant), and is restored again. Each faulty
// path is audited once its Query's own check of the sidecars has failed.
import { describe, it } from 'vitest';
import { auditPath, caseOf, expectCase, pathUrls } from '../harness/audit/proof.ts';
import type { QueryPathHandle } from '../harness/presets/handles.ts';
import { linkCut } from '../harness/presets/link-cut.ts';
import { PromApiClient } from '../harness/promql/client.ts';
import { waitForStores } from '../harness/promql/wait-metrics.ts';
import { log, useTopology } from '../harness/scenario.ts';
import { PREPARATIONS } from '../harness/steps/preparations.ts';

describe('audit of the link cut and of the link hanging: plain endpoints are flagged for the silent partial answer, strict ones not, the restored link clean', () => {
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

    // The same link hanging, once both Queries read the sidecars again.
    await waitForStores(preset.paths.strict.query.ref, client(preset.paths.strict), { type: 'sidecar', count: sidecars, checkedAfter: restoredAt }, { onProgress: log });
    await t.cutLink(preset.clusters.observer, preset.clusters.observee, { mode: 'hang' });
    try {
      await Promise.all(paths.map((p) => waitForStores(p.query.ref, client(p), { type: 'sidecar', count: sidecars, failing: true }, { onProgress: log })));
      const hang = {
        plain: await auditPath(t, caseOf(preset.topology.name, 'sidecars as plain endpoints, the link hanging'), pathUrls(t, preset.paths.plain)),
        strict: await auditPath(t, caseOf(preset.topology.name, 'sidecars as strict endpoints (store response timeout 3s), the link hanging'), pathUrls(t, preset.paths.strict)),
      };
      return { plain, strict, restored, hang };
    } finally {
      await t.restoreLink(preset.clusters.observer, preset.clusters.observee);
    }
  }, { faults: ['cutLink'] });
  it('plain endpoints, cut: A, E and partial (HTTP 200 without a warning even with partial_response=false)', () => expectCase(audited().plain));
  it('strict endpoints, cut: A and E, and Query says so (partial ok)', () => expectCase(audited().strict));
  it('the link restored: clean', () => expectCase(audited().restored));
  it('plain endpoints, hanging: A, E and partial', () => expectCase(audited().hang.plain));
  it('strict endpoints, hanging: A and E, and Query says so (partial ok)', () => expectCase(audited().hang.strict));
});
