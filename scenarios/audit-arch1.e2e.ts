// `audit` against real topologies (issue 21), one file per topology family: each preset is brought
// up and put in its finding's state by the same preparation `up <preset>` runs
// (steps/preparations.ts), then audited through its query paths, addressed by the preset's handles.
// The audit must report exactly what harness/audit/cases.ts says for each path: the findings it is
// faulty for and nothing else, its fixed twin clean. The README's preset x check table is rendered
// from those cases.
import { describe, expect, it } from 'vitest';
import { auditPath, caseOf, expectCase, pathUrls } from '../harness/audit/proof.ts';
import { arch1 } from '../harness/presets/arch1.ts';
import { log, useTopology } from '../harness/scenario.ts';
import { PREPARATIONS } from '../harness/steps/preparations.ts';

describe('audit of Arch 1: Query over Store only is flagged with finding A, Store and sidecars is clean', () => {
  const preset = arch1('side-by-side');
  const audited = useTopology(preset.topology, async (t) => {
    await PREPARATIONS[preset.topology.name]!.prepare(t, log);
    return {
      faulty: await auditPath(t, caseOf(preset.topology.name, 'Query over Store only'), pathUrls(t, preset.paths.storeOnly)),
      fixed: await auditPath(t, caseOf(preset.topology.name, 'Query over Store and sidecars'), pathUrls(t, preset.paths.storeAndSidecar)),
    };
  });
  it('Store only: A (no live endpoint for the observee, the probe missing from Store maxTime on), nothing else', () => {
    const { faulty } = audited();
    expectCase(faulty);
    const a = faulty.outcome.run.results.find((r) => r.id === 'A')!;
    expect(a.details.join('\n')).toMatch(/only object storage serves it/);
    expect(a.figures.probeGaps).toBe(1);
  });
  it('Store and sidecars: clean', () => expectCase(audited().fixed));
});
