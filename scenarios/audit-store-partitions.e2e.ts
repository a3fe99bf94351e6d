// `audit` against real topologies (issue 21), one file per topology family: each preset is brought
// up and put in its finding's state by the same preparation `up <preset>` runs
// (steps/preparations.ts), then audited through its query paths, addressed by the preset's handles.
// The audit must report exactly what harness/audit/cases.ts says for each path.
//
// Store time partitions: five Stores over one bucket, each bounded by --min-time/--max-time, and a
// Query per way of slicing them, none with a Query Frontend. The split with an hour's hole after the
// block boundary B (faulty) must be flagged for that hour, on the Stores page and in the probe; the
// split at B (fixed) must show no hole. Both read Stores alone (so that no sidecar fills the hole),
// so both also miss the newest hours, as arch1's Store-only Query does: check A flags that in both.
import { describe, expect, it } from 'vitest';
import { isoOf } from '../harness/audit/checks.ts';
import { auditPath, caseOf, expectCase, queryUrl, type Audited } from '../harness/audit/proof.ts';
import { boundsOf } from '../harness/models/store-partitions.ts';
import { storePartitions } from '../harness/presets/store-partitions.ts';
import { log, useTopology } from '../harness/scenario.ts';
import { PREPARATIONS } from '../harness/steps/preparations.ts';

const coverage = (a: Audited) => a.outcome.run.results.find((r) => r.id === 'A')!;

describe("audit of Store time partitions: the split with a hole is flagged for the hour no Store serves, the split at one boundary has none (both miss the newest hours: Stores only)", () => {
  const preset = storePartitions();
  const audited = useTopology(preset.topology, async (t) => {
    await PREPARATIONS[preset.topology.name]!.prepare(t, log);
    return {
      gap: await auditPath(t, caseOf(preset.topology.name, "Stores split with an hour's hole"), queryUrl(t, preset.slicings.gap.query)),
      split: await auditPath(t, caseOf(preset.topology.name, 'Stores split at one block boundary'), queryUrl(t, preset.slicings.split.query)),
    };
  });

  it("the hole: A names the hour between the lower Store's --max-time and the upper one's --min-time, and the probe misses it; the newest hours as well", () => {
    const { gap } = audited();
    expectCase(gap);
    const [lower, upper] = preset.slicings.gap.stores.map((s) => boundsOf(s.spec));
    const a = coverage(gap);
    expect(a.figures.storeHoles).toBe(1);
    expect(a.details.join('\n')).toContain(`a hole in what object storage serves, from ${isoOf(lower!.maxTime)}`);
    expect(a.details.join('\n')).toContain(`to ${isoOf(upper!.minTime)}`);
    // The probe: the hole (its first minutes carried by the lookback) and the newest hours.
    expect(a.figures.probeGaps).toBe(2);
    expect(a.details.join('\n')).toMatch(/only object storage serves it/);
  });

  it('the split at one boundary: no hole between the Stores, no gap before the newest hours', () => {
    const { split } = audited();
    expectCase(split);
    const a = coverage(split);
    expect(a.figures.storeHoles).toBe(0);
    expect(a.figures.probeGaps).toBe(1);
    expect(a.details.join('\n')).toMatch(/only object storage serves it/);
    expect(a.details.join('\n')).toMatch(/the newest data is missing/);
  });
});
