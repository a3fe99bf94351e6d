// The Compactor and an HA pair's blocks: finding G "Compactor halting on overlapping blocks"
// (thanos-io/thanos #2161, #4778, #6815, #7197) and F "Compactor reduces storage cost".
//
// Two observees side by side, each an HA pair with 5h of history whose real sidecars ship the real
// 2h blocks Prometheus cut to the cluster's prefix, with a Compactor there:
// - same-labels (faulty): the replicas carry identical external labels (prometheus-operator's
//   replica label cleared), so the bucket holds two overlapping copies of every block under one
//   label set. Its Compactor, without vertical compaction, halts on the first group.
// - replica-labels (fixed): each replica carries prometheus_replica and the Compactor declares it
//   with --deduplication.replica-label: it merges the copies vertically, the prefix keeps one
//   block per time range and fewer bytes, and Query over Store answers every sample as before.
// Both Compactors start once the blocks are in; the expected outcome of their first iteration comes
// from a model of Thanos' planner (models/compaction.ts) over the blocks.
import { describe, expect, it } from 'vitest';
import { modelCompactorIteration, type IterationOutcome } from '../harness/models/compaction.ts';
import { compactorOverlap, type CompactedObservee } from '../harness/presets/compactor-overlap.ts';
import { analyseWindow, labelsKey } from '../harness/promql/analysis.ts';
import { PromApiClient, type RangeQueryResponse } from '../harness/promql/client.ts';
import { equals, waitForStores, waitSumMetrics } from '../harness/promql/wait-metrics.ts';
import { recordFinding } from '../harness/report/findings.ts';
import { TRADE_OFFS } from '../harness/report/trade-offs.ts';
import type { BlockMeta } from '../harness/s3/bucket.ts';
import { log, useTopology } from '../harness/scenario.ts';
import { compactorOptionsOf, HALT_LOG, modelBlockOf, OVERLAP_ERROR, prefixState, waitForFirstIteration, type CompactorMetrics, type PrefixState } from '../harness/steps/compactor.ts';
import { populateWorkload } from '../harness/steps/history.ts';
import { logLines } from '../harness/steps/logs.ts';
import { alignDown, alignUp, HOUR_MS } from '../harness/time.ts';

const preset = compactorOverlap();
const { topology, replicaLabel: REPLICA_LABEL } = preset;
const SCENARIO = 'compactor-overlap';
// 5h of history: two 2h blocks per replica (one when it starts on a 2h boundary), none deleted by
// the 4h retention before its upload, so the backfill never waits for the shipper in between.
const HISTORY_MS = 5 * HOUR_MS;

/** One observee: its prefix before and after its Compactor's first iteration. */
interface ObserveeCompaction extends CompactedObservee {
  before: PrefixState;
  after: PrefixState;
  /** What the model of the Compactor says its first iteration does with `before.blocks`. */
  expected: IterationOutcome;
  metrics: CompactorMetrics;
}

// A Compactor with --wait compacts at once when it starts, then every --wait-interval (5m). So each
// is stopped right after bring-up (its first pass saw an empty bucket) and started again once every
// block is uploaded: its first iteration then sees exactly the blocks measured "before".
const run = useTopology(topology, async (t) => {
  const observees = [preset.sameLabels, preset.replicaLabels];
  for (const o of observees) await t.stop(o.compactor.ref);

  // Bring-up: the history shipped by both HA pairs, read through Store before any compaction.
  const workload = await populateWorkload(t, { historyMs: HISTORY_MS, onProgress: log });
  const before = new Map<CompactedObservee, PrefixState>();
  for (const o of observees) {
    const state = await prefixState(t, o.prefix);
    const replicas = o.prometheus.instances.length;
    if (state.blocks.length !== replicas * workload.blocks.length) {
      throw new Error(`expected ${replicas * workload.blocks.length} blocks under ${o.prefix}/ (every replica ships every block it cut), found ${state.blocks.length}`);
    }
    before.set(o, state);
  }
  const query = new PromApiClient(t.url(preset.query.ref));
  const storeReads = before.get(preset.replicaLabels)!;
  const step = t.workload.workload.stepMs;
  // Every shipped sample: from the first of the history to the last before the newest block's (exclusive) end.
  const window = { start: alignUp(workload.historyFromMs, step), end: alignDown(Math.max(...storeReads.blocks.map((b) => b.maxTime)) - 1, step), step };
  const ask = async () => ({
    dedup: await query.queryRange(t.workload.workload.metric, { ...window, dedup: true }),
    noDedup: await query.queryRange(t.workload.workload.metric, { ...window, dedup: false }),
  });
  // Store has loaded what the bucket holds (the bucket is the truth here, not Store), and Query has checked Store since.
  const storeLoads = async (n: number) => {
    await waitSumMetrics(preset.store.ref, t.url(preset.store.ref), equals(n), 'thanos_bucket_store_blocks_loaded', { onProgress: log });
    await waitForStores(preset.query.ref, query, { type: 'store', count: 1, checkedAfter: Date.now() }, { onProgress: log });
  };
  await storeLoads(storeReads.blocks.length);
  const answersBefore = await ask();

  // The experiment: both Compactors run one iteration over the blocks.
  for (const o of observees) await t.start(o.compactor.ref);
  const metrics = await Promise.all(observees.map((o) => waitForFirstIteration(t, o.compactor, log)));
  const compactions = new Map<CompactedObservee, ObserveeCompaction>();
  for (const [i, o] of observees.entries()) {
    const b = before.get(o)!;
    compactions.set(o, {
      ...o,
      before: b,
      after: await prefixState(t, o.prefix),
      expected: modelCompactorIteration(b.blocks.map(modelBlockOf), compactorOptionsOf(o.compactor)),
      metrics: metrics[i]!,
    });
  }
  // The iteration is over, so the bucket holds its final blocks; every state Store can have synced
  // in between held more (a merged block is uploaded before its sources go).
  await storeLoads(compactions.get(preset.replicaLabels)!.after.blocks.length);
  const answersAfter = await ask();
  return {
    t,
    workload,
    sameLabels: compactions.get(preset.sameLabels)!,
    replicaLabels: compactions.get(preset.replicaLabels)!,
    window,
    answers: { before: answersBefore, after: answersAfter },
  };
});
type OverlapRun = ReturnType<typeof run>;

const where = (o: ObserveeCompaction) => `${topology.name} ${o.cluster}`;

/** A row per block, oldest first, for the report's timeline: the replica's copies before, the merged blocks after. */
const blockRows = (when: string, blocks: BlockMeta[]) =>
  blocks
    .map((b) => ({ label: `${when}: ${b.thanos.labels[REPLICA_LABEL] ?? b.thanos.source}`, segments: [{ from: b.minTime, to: b.maxTime }] }))
    .sort((a, b) => a.segments[0]!.from - b.segments[0]!.from || a.label.localeCompare(b.label));

const shape = (blocks: { minTime: number; maxTime: number; labels: Record<string, string> }[]) =>
  blocks.map((b) => ({ minTime: b.minTime, maxTime: b.maxTime, labels: b.labels })).sort((a, b) => a.minTime - b.minTime);

function analyse(r: OverlapRun, answer: RangeQueryResponse) {
  return analyseWindow(answer.result, r.t.workload.workload, r.window);
}

/** Each series' samples by its labels, for a point-by-point comparison. */
const byLabels = (answer: RangeQueryResponse) => Object.fromEntries(answer.result.map((s) => [labelsKey(s.metric), s.samples]));

describe('Compactor, faulty: the HA pair ships overlapping blocks under identical external labels (finding G)', () => {
  it('halts on the overlap (thanos_compact_halted = 1) and leaves the prefix as it was', async () => {
    const r = run();
    const o = r.sameLabels;
    const replicas = o.prometheus.instances.map((id) => r.t.plan.processes.find((p) => p.id === id)!);
    // The premise: both replicas' blocks carry one label set, and each time range is there twice.
    expect(new Set(replicas.map((p) => JSON.stringify(p.externalLabels))).size).toBe(1);
    expect(new Set(o.before.blocks.map((b) => JSON.stringify(b.thanos.labels))).size).toBe(1);
    expect(o.before.blocks).toHaveLength(replicas.length * r.workload.blocks.length);
    expect(o.expected.halted).toBeDefined();

    expect(o.metrics).toMatchObject({ halted: 1, iterations: 0, compactions: 0, verticalCompactions: 0, blocksCleaned: 0, blocksMarkedForDeletion: 0 });
    expect(o.after.blocks.map((b) => b.ulid)).toEqual(o.before.blocks.map((b) => b.ulid));
    expect(o.after.bytes).toBe(o.before.bytes);
    const overlapLines = await logLines(r.t, o.compactor.ref, OVERLAP_ERROR);
    expect(overlapLines.filter((l) => l.includes(HALT_LOG)), overlapLines.join('\n')).toHaveLength(1);
    const logLine = overlapLines.find((l) => l.includes(HALT_LOG))!;
    log(`[${where(o)}] ${logLine}`);
    recordFinding({
      finding: 'G',
      scenario: SCENARIO,
      topology: where(o),
      substrate: r.t.substrate,
      configuration: 'faulty',
      observed: `with identical external labels on both replicas, the Compactor halted on its first group (thanos_compact_halted 1, "${OVERLAP_ERROR}"); ${o.before.blocks.length} blocks and ${o.before.bytes} bytes stayed as they were`,
      figures: { halted: o.metrics.halted, iterations: o.metrics.iterations, blocks: o.after.blocks.length, bytes: o.after.bytes, logLine: logLine.slice(0, 500) },
    });
  });
});

describe("Compactor, fixed: each replica's blocks carry prometheus_replica, declared for deduplication (findings G, F)", () => {
  it('compacts vertically as the planner model says, without halting (thanos_compact_halted = 0)', () => {
    const r = run();
    const o = r.replicaLabels;
    expect(o.compactor.spec.deduplicationReplicaLabels).toEqual([REPLICA_LABEL]);
    const replicas = o.prometheus.instances.map((id) => r.t.plan.processes.find((p) => p.id === id)!);
    expect(new Set(o.before.blocks.map((b) => b.thanos.labels[REPLICA_LABEL]))).toEqual(new Set(replicas.map((p) => p.externalLabels[REPLICA_LABEL])));
    expect(o.expected.halted).toBeUndefined();
    // Each time range once per replica before; the model merges each into one.
    expect(o.expected.verticalCompactions).toBe(r.workload.blocks.length);
    expect(o.metrics).toMatchObject({
      halted: 0,
      compactions: o.expected.compactions,
      verticalCompactions: o.expected.verticalCompactions,
      // --delete-delay=0s: every compacted-away block is marked and deleted within the iteration.
      blocksMarkedForDeletion: o.expected.deleted,
      blocksCleaned: o.expected.deleted,
    });
    expect(o.metrics.iterations).toBeGreaterThanOrEqual(1);
    recordFinding({
      finding: 'G',
      scenario: SCENARIO,
      topology: where(o),
      substrate: r.t.substrate,
      configuration: 'fixed',
      observed: `with prometheus_replica on each replica and declared for deduplication, the Compactor made ${o.metrics.compactions} compactions (${o.metrics.verticalCompactions} vertical) and deleted ${o.metrics.blocksCleaned} source blocks; thanos_compact_halted stayed 0`,
      figures: { ...o.metrics },
    });
  });

  it('leaves one block per time range and fewer bytes under the prefix (finding F)', () => {
    const r = run();
    const o = r.replicaLabels;
    expect(o.after.blocks).toHaveLength(o.expected.blocks.length);
    expect(o.after.blocks.length).toBeLessThan(o.before.blocks.length);
    expect(shape(o.after.blocks.map((b) => ({ ...b, labels: b.thanos.labels })))).toEqual(shape(o.expected.blocks));
    expect(o.after.blocks.every((b) => !(REPLICA_LABEL in b.thanos.labels) && b.thanos.source === 'compactor')).toBe(true);
    // No deletion-marked block is left: delete-delay 0s removed them.
    expect(o.after.bytes).toBeLessThan(o.before.bytes);
    const ratio = +(o.after.bytes / o.before.bytes).toFixed(3);
    log(`[${where(o)}] blocks ${o.before.blocks.length} -> ${o.after.blocks.length}, bytes ${o.before.bytes} -> ${o.after.bytes} (${ratio})`);
    const observed = `vertical deduplication of the HA pair's blocks: ${o.before.blocks.length} -> ${o.after.blocks.length} blocks, ${o.before.bytes} -> ${o.after.bytes} bytes under the prefix (${ratio} of before)`;
    recordFinding({
      finding: 'F',
      scenario: SCENARIO,
      topology: where(o),
      substrate: r.t.substrate,
      configuration: 'fixed',
      observed,
      tradeOff: { row: TRADE_OFFS.compactorSaving, cells: { 'Arch 2': observed } },
      figures: { blocksBefore: o.before.blocks.length, blocksAfter: o.after.blocks.length, bytesBefore: o.before.bytes, bytesAfter: o.after.bytes, bytesRatio: ratio },
      plots: [
        {
          kind: 'timeline',
          title: "Blocks under the prefix before and after the Compactor's first iteration: a copy per replica, then one merged block per time range",
          range: { from: Math.min(...o.before.blocks.map((b) => b.minTime)), to: Math.max(...o.before.blocks.map((b) => b.maxTime)) },
          rows: [...blockRows('before', o.before.blocks), ...blockRows('after', o.after.blocks)],
        },
      ],
    });
  });

  it('answers Query over Store point by point as before, every sample exact (finding F)', () => {
    const r = run();
    const n = r.t.workload.workload.seriesCount;
    const { before, after } = r.answers;
    for (const answer of [before.dedup, after.dedup]) {
      const a = analyse(r, answer);
      expect(a.series).toHaveLength(n);
      expect(a.summary, a.description).toMatchObject({ missingPoints: 0, wrongPoints: 0, repeatedTimestamps: 0, ok: true });
    }
    expect(byLabels(after.dedup)).toEqual(byLabels(before.dedup));
    // Without deduplication: a copy per replica before, one merged series after.
    const replicas = r.replicaLabels.prometheus.instances.length;
    expect(before.noDedup.result).toHaveLength(replicas * n);
    expect(after.noDedup.result).toHaveLength(n);
    expect(byLabels(after.noDedup)).toEqual(byLabels(before.dedup));
    const points = after.dedup.result.reduce((sum, s) => sum + s.samples.length, 0);
    const observed = `Query over Store gave the same ${points} points of ${n} series before and after the Compactor merged the replicas; dedup=false went from ${before.noDedup.result.length} series to ${after.noDedup.result.length}`;
    recordFinding({
      finding: 'F',
      scenario: SCENARIO,
      topology: `${topology.name} ${r.replicaLabels.cluster} query`,
      substrate: r.t.substrate,
      configuration: 'fixed',
      observed,
      tradeOff: { row: TRADE_OFFS.compactorSaving, cells: { 'Arch 2': observed } },
      figures: { points, seriesDedup: n, seriesNoDedupBefore: before.noDedup.result.length, seriesNoDedupAfter: after.noDedup.result.length },
    });
  });
});
