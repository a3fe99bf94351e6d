// `audit` against real topologies (issue 21), one file per topology family: each preset is brought
// up and put in its finding's state by the same preparation `up <preset>` runs
// (steps/preparations.ts), then audited through its query paths, addressed by the preset's handles.
// The audit must report exactly what harness/audit/cases.ts says for each path: the findings it is
// faulty for and nothing else, its fixed twin clean. The README's preset x check table is rendered
// from those cases.
import { describe, it } from 'vitest';
import { auditPath, caseOf, expectCase, waitForLiveHistory } from '../harness/audit/proof.ts';
import { receiveJitter } from '../harness/presets/receive-jitter.ts';
import { log, useTopology } from '../harness/scenario.ts';
import { PREPARATIONS } from '../harness/steps/preparations.ts';

describe('audit of the receive jitter fixed by a hashring with replication factor 2: clean', () => {
  const hashring = receiveJitter('hashring-rf2');
  const audited = useTopology(hashring.topology, async (t) => {
    const liveFromMs = Date.now();
    await PREPARATIONS[hashring.topology.name]!.prepare(t, log);
    await waitForLiveHistory(t, hashring.prometheus, liveFromMs);
    return auditPath(t, caseOf(hashring.topology.name, 'hashring'), { query: t.url(hashring.pinned.query.instances[0]!), frontend: t.url(hashring.pinned.frontend.ref) });
  });
  it('clean', () => expectCase(audited()));
});
