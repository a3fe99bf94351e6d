// `audit` against real topologies (issue 21), one file per topology family: each preset is brought
// up and put in its finding's state by the same preparation `up <preset>` runs
// (steps/preparations.ts), then audited through its query paths, addressed by the preset's handles.
// The audit must report exactly what harness/audit/cases.ts says for each path: the findings it is
// faulty for and nothing else, its fixed twin clean.
//
// The Compactor's overlap halt, seen from the query side: two HA pairs, each read live through a
// Query over its sidecars. The pair whose replicas carry identical external labels ships
// overlapping blocks of one label set, which its Compactor halts on: check E must name both
// sidecars and the label set they share. The pair with prometheus_replica must come out clean.
import { describe, expect, it } from 'vitest';
import { labelsText } from '../harness/audit/checks.ts';
import { auditPath, caseOf, expectCase, pathUrls } from '../harness/audit/proof.ts';
import { compactorOverlap } from '../harness/presets/compactor-overlap.ts';
import { log, useTopology } from '../harness/scenario.ts';
import { PREPARATIONS } from '../harness/steps/preparations.ts';

describe("audit of the Compactor's overlap: the HA pair with identical external labels is flagged with finding E, the pair with prometheus_replica is clean", () => {
  const preset = compactorOverlap();
  const audited = useTopology(preset.topology, async (t) => {
    await PREPARATIONS[preset.topology.name]!.prepare(t, log);
    // What each replica of the faulty pair stamps on its series and blocks (one and the same set).
    const sameLabels = t.plan.processes.find((p) => p.id === preset.sameLabels.prometheus.instances[0])!.externalLabels;
    return {
      sameLabels,
      faulty: await auditPath(t, caseOf(preset.topology.name, "the same-labels pair's sidecars"), pathUrls(t, preset.sameLabels.sidecars)),
      fixed: await auditPath(t, caseOf(preset.topology.name, "the replica-labels pair's sidecars"), pathUrls(t, preset.replicaLabels.sidecars)),
    };
  });

  it("identical external labels: E names the pair's sidecars sharing the cluster's label set, nothing else", () => {
    const { faulty, sameLabels } = audited();
    expectCase(faulty);
    const e = faulty.outcome.run.results.find((r) => r.id === 'E')!;
    const shared = e.details.filter((d) => d.includes('share the label set'));
    expect(shared).toEqual([expect.stringContaining(`share the label set ${labelsText(sameLabels)}`)]);
    expect(shared[0]!.match(/sidecar /g)).toHaveLength(preset.sameLabels.prometheus.instances.length);
  });
  it('prometheus_replica on each replica: clean', () => expectCase(audited().fixed));
});
