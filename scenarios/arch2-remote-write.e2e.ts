// Arch 2 (sidecar + remote write): finding D of FINDINGS.md, and F's "data redundancy" claim.
//
// One observee HA pair with 6h of history, read by three Queries (each with its Query Frontend,
// which the assertions go through) over one bucket:
// D: the pair is read twice, through its sidecars and through the Receive it remote-writes to.
// The receive copy carries labels the sidecar copy lacks (receive_replica, tenant_id); the Query
// with only the note's replica labels cannot merge the two, so every series comes back twice and
// sums double. The Query that declares those labels as replica labels merges them.
// F: take the whole observee down; Arch 2's path (Store and Receive) still answers the full 6h,
// while Arch 1's (Store and the sidecars) loses everything not yet in a shipped block (the
// mechanism of finding A). Store also serves the blocks Receive uploaded under the same prefix;
// they cover the same 2h ranges as the sidecars' (asserted), so Arch 1's path loses exactly what
// it would without them.
// "Full" is made honest by emulation: Prometheus' remote write only forwards samples newer than its
// own start, so the harness writes the backfilled history into Receive itself, as a Prometheus that
// had been running for those 6h would have (same samples, the replica's external labels, default
// tenant; see flows/arch2.ts historyForReceive). Without it, Receive would only hold the live part
// and the head's unshipped backfilled part would be lost with the observee: an artefact of how the
// harness makes history, not a property of Arch 2.
//
// The setup makes every state change in order and keeps the answers: history, live until settled,
// D's queries, the observee stopped, F's queries. Each test judges its own.
import { describe, expect, it } from 'vitest';
import { REPLICA_LABEL, type QueryPath } from '../harness/flows/arch1.ts';
import { prepareArch2, stopObservee, type Arch2Run } from '../harness/flows/arch2.ts';
import { analyseRange, labelsKey, type RangeAnalysis } from '../harness/promql/analysis.ts';
import type { QueryResponse, RangeQueryResponse } from '../harness/promql/client.ts';
import { recordFinding } from '../harness/report/findings.ts';
import { log, useTopology } from '../harness/scenario.ts';
import type { RunningTopology } from '../harness/substrates/index.ts';
import { arch2, ARCH2_SIDE_BY_SIDE } from '../harness/topology/presets.ts';
import { HOUR_MS } from '../harness/workload/history.ts';
import { alignUp, valueAt } from '../harness/workload/series.ts';

const SELECTOR = 'e2e_workload_value{cluster="observee"}';
// What only the receive path adds to a series (Receive's --label and its tenant).
const RECEIVE_ONLY_LABELS = { receive_replica: 'receive', tenant_id: 'default-tenant' };

const iso = (ms: number) => new Date(ms).toISOString();
const hours = (ms: number) => +(ms / HOUR_MS).toFixed(2);
const pointsIn = (w: Window) => (w.end - w.start) / w.step + 1;

interface Window {
  start: number;
  end: number;
  step: number;
}

/** What a Query path answered for D before the observee went down. */
interface DAnswers {
  path: QueryPath;
  count: QueryResponse;
  sum: QueryResponse;
  live: RangeQueryResponse;
}

/** count() and sum() of the workload at the settled time and the live window, through the Query Frontend, deduplicated. */
async function askD(run: Arch2Run, path: QueryPath): Promise<DAnswers> {
  const at = { time: run.settledMs, dedup: true };
  return {
    path,
    count: await path.frontend.query(`count(${SELECTOR})`, at),
    sum: await path.frontend.query(`sum(${SELECTOR})`, at),
    live: await path.frontend.queryRange(SELECTOR, { ...liveWindow(run), dedup: true }),
  };
}

async function measure(t: RunningTopology) {
  const run = await prepareArch2(t, log);
  const path = (name: string) => run.paths[name]!;
  const d = { note: await askD(run, path(ARCH2_SIDE_BY_SIDE.noteReplicaLabels)), all: await askD(run, path(ARCH2_SIDE_BY_SIDE.allReplicaLabels)) };
  const { stopped, blocks } = await stopObservee(run, log);
  const window: Window = { start: alignUp(run.settledMs - 6 * HOUR_MS, run.stepMs), end: run.settledMs, step: run.stepMs };
  // Partial responses off: had Query still asked a stopped sidecar, the query would fail.
  const ask = (p: QueryPath) => p.frontend.queryRange(SELECTOR, { ...window, dedup: true, partialResponse: false });
  const arch2Path = path(ARCH2_SIDE_BY_SIDE.allReplicaLabels);
  const arch1Path = path(ARCH2_SIDE_BY_SIDE.storeAndSidecar);
  const f = {
    window,
    stopped,
    blocks,
    arch2: { path: arch2Path, answer: await ask(arch2Path), stores: await arch2Path.query.stores() },
    arch1: { path: arch1Path, answer: await ask(arch1Path) },
  };
  return { run, d, f };
}

const topology = arch2('side-by-side');
const measured = useTopology(topology, measure);
/** Where a finding was seen: the topology and the Query path. */
const where = (path: QueryPath) => `${topology.name} ${path.ref}`;
const liveWindow = (run: Arch2Run): Window => ({ start: run.liveFromMs, end: run.settledMs, step: run.stepMs });

/** The sum of every workload series at tMs, as the exporter served it. */
function expectedSum(run: Arch2Run, tMs: number): number {
  let sum = 0;
  for (let i = 0; i < run.t.workload.workload.seriesCount; i++) sum += valueAt(i, tMs);
  return sum;
}

/** The single value of an instant aggregation. */
function scalarOf(answer: QueryResponse, what: string): number {
  expect(answer.resultType, what).toBe('vector');
  if (answer.resultType !== 'vector') throw new Error('unreachable');
  expect(answer.result, what).toHaveLength(1);
  return answer.result[0]!.v;
}

function analyse(run: Arch2Run, answer: RangeQueryResponse, window: Window): RangeAnalysis {
  expect(answer.warnings, 'warnings (a failed endpoint shows up here)').toEqual([]);
  return analyseRange(answer.result, {
    workload: run.t.workload.workload,
    startMs: window.start,
    endMs: window.end,
    stepMs: window.step,
    coverage: [{ fromMs: window.start, toMs: window.end }],
  });
}

function countAndSum(a: DAnswers): { count: number; sum: number } {
  return { count: scalarOf(a.count, `count(${SELECTOR})`), sum: scalarOf(a.sum, `sum(${SELECTOR})`) };
}

describe('Arch 2, faulty: replica labels as in the note (finding D)', () => {
  it('counts every series twice and sums double at a settled time', () => {
    const { run, d } = measured();
    const n = run.t.workload.workload.seriesCount;
    const { count, sum } = countAndSum(d.note);
    expect(count).toBe(2 * n);
    expect(sum).toBe(2 * expectedSum(run, run.settledMs));
    log(`[${where(d.note.path)}] at ${iso(run.settledMs)}: count ${count} (expected ${n}), sum ${sum} = 2 x ${expectedSum(run, run.settledMs)}`);
  });

  it('returns a sidecar copy and a receive copy of every series over the live window, each complete', () => {
    const { run, d } = measured();
    const n = run.t.workload.workload.seriesCount;
    const window = liveWindow(run);
    const analysis = analyse(run, d.note.live, window);
    expect(analysis.series).toHaveLength(2 * n);
    // Each copy alone is complete and exact: nothing is lost, everything is doubled.
    expect(analysis.summary, analysis.description).toMatchObject({ missingPoints: 0, wrongPoints: 0, repeatedTimestamps: 0 });
    expect(analysis.summary.presentPoints).toBe(2 * n * pointsIn(window));
    for (let i = 0; i < n; i++) {
      const copies = analysis.series.filter((s) => s.index === i).map((s) => s.labels);
      expect(copies, `series ${i}`).toHaveLength(2);
      const viaReceive = copies.find((l) => 'receive_replica' in l)!;
      const viaSidecar = copies.find((l) => !('receive_replica' in l))!;
      // The two differ exactly by what the receive path adds; prometheus_replica is gone from both (deduplicated).
      expect(labelsKey(viaReceive)).toBe(labelsKey({ ...viaSidecar, ...RECEIVE_ONLY_LABELS }));
      expect(REPLICA_LABEL in viaSidecar || REPLICA_LABEL in viaReceive).toBe(false);
    }
    const { count, sum } = countAndSum(d.note);
    log(`[${where(d.note.path)}] live window: ${analysis.description}`);
    recordFinding({
      finding: 'D',
      scenario: 'arch2-remote-write',
      topology: where(d.note.path),
      substrate: run.t.substrate,
      configuration: 'faulty',
      observed:
        `count(${SELECTOR}) is ${count} for ${n} series and sum() is ${sum / expectedSum(run, run.settledMs)} times the exporter's (${sum}); over the live window ${analysis.series.length} series come back, ` +
        `each complete: a sidecar copy and a receive copy (+receive_replica, +tenant_id) of every series`,
      figures: {
        count,
        expectedCount: n,
        sum,
        expectedSum: expectedSum(run, run.settledMs),
        at: iso(run.settledMs),
        seriesInRange: analysis.series.length,
        presentPoints: analysis.summary.presentPoints,
        pointsPerSeries: pointsIn(window),
      },
    });
  });
});

describe('Arch 2, fixed: the receive replica label and tenant are replica labels too (findings D, F)', () => {
  it('counts every series once and sums exactly at a settled time', () => {
    const { run, d } = measured();
    const { count, sum } = countAndSum(d.all);
    expect(count).toBe(run.t.workload.workload.seriesCount);
    expect(sum).toBe(expectedSum(run, run.settledMs));
  });

  it('returns every series once, complete and exact, over the live window', () => {
    const { run, d } = measured();
    const n = run.t.workload.workload.seriesCount;
    const window = liveWindow(run);
    const analysis = analyse(run, d.all.live, window);
    expect(analysis.series).toHaveLength(n);
    expect(analysis.summary, analysis.description).toMatchObject({ missingPoints: 0, wrongPoints: 0, repeatedTimestamps: 0, ok: true });
    expect(analysis.summary.presentPoints).toBe(n * pointsIn(window));
    expect(analysis.series.every((s) => !('receive_replica' in s.labels) && !('tenant_id' in s.labels))).toBe(true);
    const { count, sum } = countAndSum(d.all);
    recordFinding({
      finding: 'D',
      scenario: 'arch2-remote-write',
      topology: where(d.all.path),
      substrate: run.t.substrate,
      configuration: 'fixed',
      observed: `count() is ${count} and sum() is ${sum} (the exporter's: ${expectedSum(run, run.settledMs)}) at ${iso(run.settledMs)}; the live window (${pointsIn(window)} points) gives ${analysis.series.length} series, each complete and exact`,
      figures: { count, sum, expectedSum: expectedSum(run, run.settledMs), at: iso(run.settledMs), seriesInRange: analysis.series.length, presentPoints: analysis.summary.presentPoints, pointsPerSeries: pointsIn(window) },
    });
  });

  it('answers the full 6h exactly from Store and Receive once the whole observee is down (finding F)', () => {
    const { run, f } = measured();
    const n = run.t.workload.workload.seriesCount;
    const analysis = analyse(run, f.arch2.answer, f.window);
    expect(analysis.series).toHaveLength(n);
    expect(analysis.summary, analysis.description).toMatchObject({ missingPoints: 0, wrongPoints: 0, repeatedTimestamps: 0, ok: true });
    expect(analysis.summary.presentPoints).toBe(n * pointsIn(f.window));

    // Which source covers what: Store ends at its newest block; the rest exists only in Receive.
    const store = f.arch2.stores.store?.[0];
    const receive = f.arch2.stores.receive?.[0];
    expect(typeof store?.maxTime).toBe('number');
    expect(typeof receive?.minTime).toBe('number');
    const storeMaxTime = store!.maxTime as number;
    expect(storeMaxTime).toBeLessThan(f.window.end);
    expect(receive!.minTime as number).toBeLessThanOrEqual(f.window.start);
    const onlyInReceive = Math.floor((f.window.end - storeMaxTime) / f.window.step) + 1;
    log(`[${where(f.arch2.path)}] observee down: ${analysis.description}`);
    recordFinding({
      finding: 'F',
      scenario: 'arch2-remote-write',
      topology: where(f.arch2.path),
      substrate: run.t.substrate,
      configuration: 'fixed',
      observed:
        `with the whole observee stopped (${f.stopped.length} processes), all ${analysis.summary.presentPoints} points of ${iso(f.window.start)}..${iso(f.window.end)} come back once and exact; ` +
        `Store covers up to ${iso(storeMaxTime)}, the last ${hours(f.window.end - storeMaxTime)}h (${onlyInReceive} points per series) only Receive has (history written into it on Prometheus' behalf, see the file comment)`,
      figures: {
        presentPoints: analysis.summary.presentPoints,
        missingPoints: analysis.summary.missingPoints,
        storeMaxTime: iso(storeMaxTime),
        receiveMinTime: iso(receive!.minTime as number),
        pointsPerSeriesOnlyInReceive: onlyInReceive,
        // Receive got [historyFrom, historyTo] from the harness on Prometheus' behalf, the rest by real remote write.
        receiveEmulatedHistory: `${iso(run.history.historyFromMs)}..${iso(run.history.historyToMs)}`,
        receiveRemoteWrittenFrom: iso(run.liveFromMs),
      },
    });
  });
});

describe("Arch 1's query path (Store and sidecars) with the whole observee down loses what was not shipped yet (finding F, faulty counterpart)", () => {
  it('answers every sample up to the newest shipped block and none after it', () => {
    const { run, f } = measured();
    const n = run.t.workload.workload.seriesCount;
    const shippedUpTo = Math.max(...f.blocks.map((b) => b.maxTime));
    // What the sidecars shipped ends there too: Receive's blocks add nothing Arch 1 would lack.
    expect(Math.max(...f.blocks.filter((b) => b.thanos.source === 'sidecar').map((b) => b.maxTime))).toBe(shippedUpTo);
    const analysis = analyse(run, f.arch1.answer, f.window);
    // Block maxTime is exclusive: the sample at shippedUpTo was in the head too, and is gone with it.
    const lostPoints = (f.window.end - shippedUpTo) / f.window.step + 1;
    expect(analysis.series).toHaveLength(n);
    expect(analysis.summary.wrongPoints).toBe(0);
    for (const s of analysis.series) {
      expect(s.missing.map((m) => [iso(m.startMs), iso(m.endMs), m.points])).toEqual([[iso(shippedUpTo), iso(f.window.end), lostPoints]]);
      expect(s.present).toBe(pointsIn(f.window) - lostPoints);
    }
    const lostMs = f.window.end - shippedUpTo;
    expect(lostMs).toBeGreaterThan(0);
    log(`[${where(f.arch1.path)}] observee down: ${analysis.description}`);
    recordFinding({
      finding: 'F',
      scenario: 'arch2-remote-write',
      topology: where(f.arch1.path),
      substrate: run.t.substrate,
      configuration: 'faulty',
      observed: `with the whole observee stopped, the last ${hours(lostMs)}h of the 6h range are lost (${iso(shippedUpTo)} to ${iso(f.window.end)}, ${lostPoints} points per series): they were only in the Prometheus heads, not yet in a shipped block`,
      figures: { lostHours: hours(lostMs), lostPointsPerSeries: lostPoints, shippedUpTo: iso(shippedUpTo), blocksInBucket: f.blocks.length },
    });
  });
});
