// `audit` against real topologies (issue 21), one file per topology family: each preset is brought
// up and put in its finding's state by the same preparation `up <preset>` runs
// (steps/preparations.ts), then audited through its query paths, addressed by the preset's handles.
// The audit must report exactly what harness/audit/cases.ts says for each path: the findings it is
// faulty for and nothing else, its fixed twin clean. The README's preset x check table is rendered
// from those cases.
import { describe, expect, it } from 'vitest';
import { auditPath, caseOf, expectCase, pathUrls } from '../harness/audit/proof.ts';
import { arch2 } from '../harness/presets/arch2.ts';
import { log, useTopology } from '../harness/scenario.ts';
import { PREPARATIONS } from '../harness/steps/preparations.ts';

describe("audit of Arch 2: the note's replica labels are flagged with finding D, all replica labels clean", () => {
  const preset = arch2('side-by-side');
  const audited = useTopology(preset.topology, async (t) => {
    await PREPARATIONS[preset.topology.name]!.prepare(t, log);
    return {
      faulty: await auditPath(t, caseOf(preset.topology.name, "the note's replica labels"), pathUrls(t, preset.paths.noteReplicaLabels!)),
      fixed: await auditPath(t, caseOf(preset.topology.name, 'receive_replica and tenant_id declared'), pathUrls(t, preset.paths.allReplicaLabels!)),
    };
  });
  it("the note's replica labels: D, naming the receive's replica label and the tenant", () => {
    const { faulty } = audited();
    expectCase(faulty);
    const d = faulty.outcome.run.results.find((r) => r.id === 'D')!;
    // Every workload series twice: its sidecar copy and its receive copy.
    expect(d.figures.labels).toBe(`${preset.receive.spec.replicaLabel},tenant_id`);
    expect(d.figures.copies).toBe(preset.topology.workload.series);
  });
  it('all replica labels declared: clean', () => expectCase(audited().fixed));
});
