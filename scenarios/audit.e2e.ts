// `audit` against real topologies (issue 21): each preset with a faulty/fixed pair is brought up
// and put in its finding's state by the same preparation `up <preset>` runs (steps/preparations.ts),
// then audited through its query paths, addressed by the preset's handles. The audit must report
// exactly the findings the path is faulty for and nothing else, and the fixed twin must come out
// clean: harness/audit/cases.ts lists both, and the README's preset x check table is rendered from
// that list. Each topology comes up once, for all of its paths.
//
// Two presets need one more step than `up` takes, each a fault the finding is about:
// - jitter: the pinned Query pair is pinned one replica per receive (as its scenario does), so that
//   the frontend's tries land on different receives for certain, not by the Service's luck;
// - link-cut: the link between the clusters is cut once Arch 1 is served, and restored after;
// - query-frontend-cache: the exporter holds back the newest slots while the audit's cache check
//   asks its first range (the ingestion lag the finding needs), and releases them after it.
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AUDIT_CASES, auditTable, type AuditCase } from '../harness/audit/cases.ts';
import { CHECKS, type CheckId, type CheckStatus } from '../harness/audit/checks.ts';
import { runAudit, type AuditOutcome } from '../harness/audit/run.ts';
import { arch1 } from '../harness/presets/arch1.ts';
import { arch2 } from '../harness/presets/arch2.ts';
import { linkCut } from '../harness/presets/link-cut.ts';
import type { QueryPathHandle } from '../harness/presets/handles.ts';
import { queryFrontendCache } from '../harness/presets/query-frontend-cache.ts';
import { receiveJitter, type JitterPreset } from '../harness/presets/receive-jitter.ts';
import { PromApiClient } from '../harness/promql/client.ts';
import { waitForStores } from '../harness/promql/wait-metrics.ts';
import { REPORTS_DIR } from '../harness/report/paths.ts';
import { log, useTopology } from '../harness/scenario.ts';
import { waitForLiveUpTo } from '../harness/steps/live.ts';
import { waitForRemoteWriteOfSlot } from '../harness/steps/remote-write.ts';
import { PREPARATIONS } from '../harness/steps/preparations.ts';
import type { RunningTopology } from '../harness/substrates/index.ts';
import { alignDown, HOUR_MS } from '../harness/time.ts';
import { waitFor } from '../harness/wait.ts';

const OUT = join(REPORTS_DIR, 'audit');
/** The audit's step: the workload's grid (15s), or 15s where the grid is finer (jitter's 1s: 6h would be 21600 points a series). */
const MIN_STEP_MS = 15_000;
/** What each case's audit reported, for reports/audit/table.md. */
const observed = new Map<AuditCase, Record<CheckId, CheckStatus>>();

/** A case of harness/audit/cases.ts by its preset and the start of its path's description. */
function caseOf(preset: string, path: string): AuditCase {
  const c = AUDIT_CASES.find((x) => x.preset === preset && x.path.startsWith(path));
  if (!c) throw new Error(`no audit case ${preset} / ${path}`);
  return c;
}

interface Audited {
  c: AuditCase;
  outcome: AuditOutcome;
}

/**
 * The audit of one query path, as a person would run it: the Query's and the frontend's URLs, the
 * workload's metric as the probe (its values change every slot, so equal samples mean copies), the
 * workload's grid as the step (at least MIN_STEP_MS).
 */
async function audit(t: RunningTopology, c: AuditCase, urls: { query: string; frontend: string }, hooks: Parameters<typeof runAudit>[1] = {}): Promise<Audited> {
  const dir = join(OUT, `${c.preset}--${c.configuration}--${AUDIT_CASES.indexOf(c)}`);
  const outcome = await runAudit(
    { ...urls, probe: t.workload.workload.metric, rangeMs: 6 * HOUR_MS, stepMs: Math.max(t.workload.workload.stepMs, MIN_STEP_MS), tries: 20, timeoutMs: 30_000, cacheWaitMs: 0, out: dir },
    { onProgress: log, ...hooks },
  );
  for (const line of outcome.lines) log(`  [audit ${c.preset}, ${c.path}] ${line}`);
  return { c, outcome };
}

const pathUrls = (t: RunningTopology, p: QueryPathHandle) => ({ query: t.url(p.query.ref), frontend: t.url(p.frontend.ref) });

/** The statuses an audit reported, and the test's verdict against its case. */
function expectCase({ c, outcome }: Audited): void {
  const got = Object.fromEntries(outcome.run.results.map((r) => [r.id, r.status])) as Record<CheckId, CheckStatus>;
  observed.set(c, got);
  const explained = outcome.lines.join('\n');
  expect(got, explained).toEqual(c.expected);
  expect(outcome.run.exitCode, explained).toBe(CHECKS.some((k) => c.expected[k] === 'finding') ? 1 : 0);
}

afterAll(() => {
  // The table as this run observed it, next to the one the README shows (rendered from the cases).
  mkdirSync(OUT, { recursive: true });
  const rows = AUDIT_CASES.filter((c) => observed.has(c)).map((c) => ({ ...c, expected: observed.get(c)! }));
  writeFileSync(join(OUT, 'table.md'), auditTable(rows));
});

describe('audit of Arch 1: Query over Store only is flagged with finding A, Store and sidecars is clean', () => {
  const preset = arch1('side-by-side');
  const audited = useTopology(preset.topology, async (t) => {
    await PREPARATIONS[preset.topology.name]!.prepare(t, log);
    return {
      faulty: await audit(t, caseOf(preset.topology.name, 'Query over Store only'), pathUrls(t, preset.paths.storeOnly)),
      fixed: await audit(t, caseOf(preset.topology.name, 'Query over Store and sidecars'), pathUrls(t, preset.paths.storeAndSidecar)),
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

describe("audit of Arch 2: the note's replica labels are flagged with finding D, all replica labels clean", () => {
  const preset = arch2('side-by-side');
  const audited = useTopology(preset.topology, async (t) => {
    await PREPARATIONS[preset.topology.name]!.prepare(t, log);
    return {
      faulty: await audit(t, caseOf(preset.topology.name, "the note's replica labels"), pathUrls(t, preset.paths.noteReplicaLabels!)),
      fixed: await audit(t, caseOf(preset.topology.name, 'receive_replica and tenant_id declared'), pathUrls(t, preset.paths.allReplicaLabels!)),
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

/**
 * The jitter presets hold live data only, from the moment they went live: the audit asks about a
 * minute back (its tries) and its probe ends a step or two back. Waits until the receives hold
 * remote-written data from LIVE_HISTORY_MS after the live data began, so that both lie inside it.
 */
const LIVE_HISTORY_MS = 90_000;
async function waitForLiveHistory(t: RunningTopology, preset: JitterPreset, liveFromMs: number): Promise<void> {
  await waitForRemoteWriteOfSlot(t, [...preset.prometheus.instances], alignDown(liveFromMs + LIVE_HISTORY_MS, t.workload.workload.stepMs), { timeoutMs: 2 * LIVE_HISTORY_MS, onProgress: log });
}

/** Pins replica i of the pinned Query pair to receive i through the gRPC Service (as the jitter scenario does). */
async function pinEachQueryToItsReceive(t: RunningTopology, preset: JitterPreset): Promise<void> {
  const replicas = [...preset.pinned.query.instances];
  const receives = [...preset.receive.instances];
  const grpc = t.service(preset.grpcService.ref);
  const backends = t.plan.services.find((s) => s.id === preset.grpcService.ref)!.backends;
  for (const q of replicas) await t.stop(q);
  for (const [i, q] of replicas.entries()) {
    await grpc.pin(backends.indexOf(receives[i]!));
    await t.start(q);
    await waitForStores(q, new PromApiClient(t.url(q)), { count: 1, labels: { [preset.replicaLabels.receive]: receives[i]!.split('/')[1]! } }, { timeoutMs: 30_000, onProgress: log });
  }
  await grpc.pin(undefined);
}

describe('audit of the receive jitter: the pinned pair is flagged with finding B, the fan-out and the hashring clean', () => {
  const standalone = receiveJitter('standalone-behind-service');
  const audited = useTopology(standalone.topology, async (t) => {
    const liveFromMs = Date.now();
    await PREPARATIONS[standalone.topology.name]!.prepare(t, log);
    // Once the receives hold data (and so advertise their label sets), each pinned replica to its own.
    await pinEachQueryToItsReceive(t, standalone);
    await waitForLiveHistory(t, standalone, liveFromMs);
    const fanout = standalone.fanout!;
    const audit1 = (h: typeof standalone.pinned) => ({ query: t.url(h.query.instances[0]!), frontend: t.url(h.frontend.ref) });
    return {
      faulty: await audit(t, caseOf(standalone.topology.name, 'Query pair pinned'), audit1(standalone.pinned)),
      fixed: await audit(t, caseOf(standalone.topology.name, 'Query pair fanning out'), audit1(fanout)),
    };
  });
  it('pinned one replica per receive: B (distinct answers to identical requests), nothing else', () => {
    const { faulty } = audited();
    expectCase(faulty);
    expect(Number(faulty.outcome.run.results.find((r) => r.id === 'B')!.figures.distinct)).toBeGreaterThan(1);
  });
  it('fanning out to both receives: clean', () => expectCase(audited().fixed));
});

describe('audit of the receive jitter fixed by a hashring with replication factor 2: clean', () => {
  const hashring = receiveJitter('hashring-rf2');
  const audited = useTopology(hashring.topology, async (t) => {
    const liveFromMs = Date.now();
    await PREPARATIONS[hashring.topology.name]!.prepare(t, log);
    await waitForLiveHistory(t, hashring, liveFromMs);
    return audit(t, caseOf(hashring.topology.name, 'hashring'), { query: t.url(hashring.pinned.query.instances[0]!), frontend: t.url(hashring.pinned.frontend.ref) });
  });
  it('clean', () => expectCase(audited()));
});

describe("audit of the Query Frontend's results cache: max freshness 0s is flagged, 1m clean", () => {
  const preset = queryFrontendCache();
  /** Slots the exporter holds back while the cache check asks its first range (as in the cache scenario). */
  const HELD_SLOTS = 2;
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
        await waitFor(
          `${HELD_SLOTS} workload slots held back`,
          async (note) => {
            const held = t.workload.heldBackSlots();
            note(`${held} held back`);
            return held >= HELD_SLOTS ? held : undefined;
          },
          { timeoutMs: (HELD_SLOTS + 1) * step + 10_000, intervalMs: 200, onProgress: log },
        );
        return await audit(t, c, { query: t.url(preset.query.ref), frontend }, { afterFirstCacheAsk: release });
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
    const plain = await audit(t, caseOf(preset.topology.name, 'sidecars as plain endpoints (the note), the link cut'), pathUrls(t, preset.paths.plain));
    const strict = await audit(t, caseOf(preset.topology.name, 'sidecars as strict endpoints, the link cut'), pathUrls(t, preset.paths.strict));
    const restoredAt = Date.now();
    await t.restoreLink(preset.clusters.observer, preset.clusters.observee);
    await waitForStores(preset.paths.plain.query.ref, client(preset.paths.plain), { type: 'sidecar', count: sidecars, checkedAfter: restoredAt }, { onProgress: log });
    const restored = await audit(t, caseOf(preset.topology.name, 'sidecars as plain endpoints, the link restored'), pathUrls(t, preset.paths.plain));
    return { plain, strict, restored };
  });
  it('plain endpoints, cut: A, E and partial (HTTP 200 without a warning even with partial_response=false)', () => expectCase(audited().plain));
  it('strict endpoints, cut: A and E, and Query says so (partial ok)', () => expectCase(audited().strict));
  it('the link restored: clean', () => expectCase(audited().restored));
});
