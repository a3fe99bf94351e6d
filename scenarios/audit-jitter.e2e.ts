// `audit` against real topologies (issue 21), one file per topology family: each preset is brought
// up and put in its finding's state by the same preparation `up <preset>` runs
// (steps/preparations.ts), then audited through its query paths, addressed by the preset's handles.
// The audit must report exactly what harness/audit/cases.ts says for each path: the findings it is
// faulty for and nothing else, its fixed twin clean. The README's preset x check table is rendered
// from those cases.
//
// The pinned Query pair reads one receive per replica (paired in the preset), and its frontend
// dials the pair's Service anew for each try (the preset's FRONTEND_AS_BETWEEN_REFRESHES), so that
// the audit's tries land on both replicas, hence both receives, on every substrate.
import { describe, expect, it } from 'vitest';
import { auditPath, caseOf, expectCase, waitForLiveHistory } from '../harness/audit/proof.ts';
import { receiveJitter, type JitterQueryPath } from '../harness/presets/receive-jitter.ts';
import { log, useTopology } from '../harness/scenario.ts';
import { PREPARATIONS } from '../harness/steps/preparations.ts';
import type { RunningTopology } from '../harness/substrates/index.ts';

/** A Query pair's first replica (its Stores page, flags and partial answers) and the frontend in front of the pair. */
const urls = (t: RunningTopology, p: JitterQueryPath) => ({ query: t.url(p.query.instances[0]!), frontend: t.url(p.frontend.ref) });

describe('audit of the receive jitter: the pinned pair is flagged with finding B, the fan-out clean', () => {
  const standalone = receiveJitter('standalone-behind-service');
  const audited = useTopology(standalone.topology, async (t) => {
    const liveFromMs = Date.now();
    await PREPARATIONS[standalone.topology.name]!.prepare(t, log);
    await waitForLiveHistory(t, standalone.prometheus, liveFromMs);
    return {
      faulty: await auditPath(t, caseOf(standalone.topology.name, 'Query pair pinned'), urls(t, standalone.pinned)),
      fixed: await auditPath(t, caseOf(standalone.topology.name, 'Query pair fanning out'), urls(t, standalone.fanout!)),
    };
  });
  it('pinned one replica per receive: B (distinct answers to identical requests), nothing else', () => {
    const { faulty } = audited();
    expectCase(faulty);
    expect(Number(faulty.outcome.run.results.find((r) => r.id === 'B')!.figures.distinct)).toBeGreaterThan(1);
  });
  it('fanning out to both receives: clean', () => expectCase(audited().fixed));
});
