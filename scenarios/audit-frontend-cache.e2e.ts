// `audit` against real topologies (issue 21), one file per topology family: each preset is brought
// up and put in its finding's state by the same preparation `up <preset>` runs
// (steps/preparations.ts), then audited through its query paths, addressed by the preset's handles.
// The audit must report exactly what harness/audit/cases.ts says for each path: the findings it is
// faulty for and nothing else, its fixed twin clean. The README's preset x check table is rendered
// from those cases.
//
// The exporter holds back the newest slots while the audit's cache check asks its first range (the
// ingestion lag the finding needs, as in the cache scenario), and releases them right after it.
import { describe, expect, it } from 'vitest';
import type { AuditCase } from '../harness/audit/cases.ts';
import { auditPath, caseOf, expectCase } from '../harness/audit/proof.ts';
import { queryFrontendCache } from '../harness/presets/query-frontend-cache.ts';
import { log, useTopology } from '../harness/scenario.ts';
import { waitForLiveUpTo } from '../harness/steps/live.ts';
import { PREPARATIONS } from '../harness/steps/preparations.ts';
import { alignDown } from '../harness/time.ts';
import { waitFor } from '../harness/wait.ts';

/** Slots the exporter holds back when the cache check asks its first range. */
const HELD_SLOTS = 2;

describe("audit of the Query Frontend's results cache: max freshness 0s is flagged, 1m clean", () => {
  const preset = queryFrontendCache();
  const audited = useTopology(preset.topology, async (t) => {
    await PREPARATIONS[preset.topology.name]!.prepare(t, log);
    const step = t.workload.workload.stepMs;
    const prometheus = [...preset.prometheus.instances];
    /** The audit with the ingestion held back until its cache check's first range is asked. */
    const withHeldIngestion = async (c: AuditCase, frontend: string) => {
      const heldAfterMs = alignDown(Date.now(), step);
      await t.workload.holdAfter(heldAfterMs);
      let released = false;
      const release = async () => {
        if (released) return;
        released = true;
        await t.workload.release();
        // The cache check asks again only once every Prometheus stored what was held back.
        await waitForLiveUpTo(t, prometheus, alignDown(Date.now(), step), log);
      };
      try {
        await waitForLiveUpTo(t, prometheus, heldAfterMs, log);
        // Slots come due with the clock: a wait on the exporter's own state, not on the answer.
        await waitFor(
          `${HELD_SLOTS} workload slots held back`,
          async (note) => {
            const held = t.workload.heldBackSlots();
            note(`${held} held back`);
            return held >= HELD_SLOTS ? held : undefined;
          },
          { timeoutMs: (HELD_SLOTS + 1) * step + 10_000, intervalMs: 200, onProgress: log },
        );
        return await auditPath(t, c, { query: t.url(preset.query.ref), frontend }, { afterFirstCacheAsk: release });
      } finally {
        await release();
      }
    };
    return {
      faulty: await withHeldIngestion(caseOf(preset.topology.name, 'frontend with max freshness 0s'), t.url(preset.frontends.faulty.ref)),
      fixed: await withHeldIngestion(caseOf(preset.topology.name, 'frontend with max freshness 1m'), t.url(preset.frontends.fixed.ref)),
    };
  });
  it("max freshness 0s: the frontend's repeat keeps the gap of the held-back slots, Query has them", () => {
    const { faulty } = audited();
    expectCase(faulty);
    // Every series misses at least the held-back slots.
    const cache = faulty.outcome.run.results.find((r) => r.id === 'cache')!;
    expect(Number(cache.figures.pointsMissed)).toBeGreaterThanOrEqual(HELD_SLOTS * preset.topology.workload.series);
  });
  it('max freshness 1m: clean', () => expectCase(audited().fixed));
});
