// Arch 2 (sidecar + remote write): finding D of FINDINGS.md, and F's "data redundancy" claim.
//
// D: the observee's HA pair is read twice, through its sidecars and through the Receive it
// remote-writes to. The receive copy carries labels the sidecar copy lacks (receive_replica,
// tenant_id); with only the note's replica labels Query cannot merge the two, so every series
// comes back twice and sums double. Declaring those labels as replica labels merges them.
//
// F: take the whole observee down; Arch 2's observer still answers the full 6h from Store and
// Receive, while Arch 1's loses everything not yet in a shipped block (the mechanism of finding A).
// "Full" is made honest by emulation: Prometheus' remote write only forwards samples newer than its
// own start, so the harness writes the backfilled history into Receive itself, as a Prometheus that
// had been running for those 6h would have (same samples, the replica's external labels, default
// tenant; see flows/arch2.ts historyForReceive). Without it, Receive would only hold the live part
// and the head's unshipped backfilled part would be lost with the observee: an artefact of how the
// harness makes history, not a property of Arch 2.
import { describe, expect, it } from 'vitest';
import { prepareArch1, REPLICA_LABEL, type Arch1Run } from '../harness/flows/arch1.ts';
import { prepareArch2, stopObservee, waitForQueryToCheck, waitForStoreToLoadBucket, type Arch2Run } from '../harness/flows/arch2.ts';
import { analyseRange, labelsKey, type RangeAnalysis } from '../harness/promql/analysis.ts';
import type { PromApiClient } from '../harness/promql/client.ts';
import { recordFinding } from '../harness/report/findings.ts';
import { log, useTopology } from '../harness/scenario.ts';
import type { RunningTopology } from '../harness/substrates/index.ts';
import { arch1, arch2 } from '../harness/topology/presets.ts';
import { HOUR_MS } from '../harness/workload/history.ts';
import { alignUp, valueAt } from '../harness/workload/series.ts';

const N = 10;
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

/** The sum of every workload series at tMs, as the exporter served it. */
function expectedSum(tMs: number): number {
  let sum = 0;
  for (let i = 0; i < N; i++) sum += valueAt(i, tMs);
  return sum;
}

/** count() and sum() of the workload at one time, through the Query Frontend, deduplicated. */
async function countAndSum(frontend: PromApiClient, timeMs: number): Promise<{ count: number; sum: number }> {
  const scalarOf = async (expr: string) => {
    const answer = await frontend.query(expr, { time: timeMs, dedup: true });
    expect(answer.resultType, expr).toBe('vector');
    if (answer.resultType !== 'vector') throw new Error('unreachable');
    expect(answer.result, expr).toHaveLength(1);
    return answer.result[0]!.v;
  };
  return { count: await scalarOf(`count(${SELECTOR})`), sum: await scalarOf(`sum(${SELECTOR})`) };
}

async function analyseWindow(t: RunningTopology, client: PromApiClient, window: Window, opts: { partialResponse?: boolean } = {}): Promise<RangeAnalysis> {
  const answer = await client.queryRange(SELECTOR, { ...window, dedup: true, ...opts });
  expect(answer.warnings, 'warnings (a failed endpoint shows up here)').toEqual([]);
  return analyseRange(answer.result, {
    workload: t.workload.workload,
    startMs: window.start,
    endMs: window.end,
    stepMs: window.step,
    coverage: [{ fromMs: window.start, toMs: window.end }],
  });
}

const liveWindow = (run: Arch2Run): Window => ({ start: run.liveFromMs, end: run.settledMs, step: run.stepMs });

describe('Arch 2, faulty: replica labels as in the note (finding D)', () => {
  let run: Arch2Run;
  const figures: Record<string, number | string> = {};
  // Only live data matters for D: both paths have it from the first live slot on.
  useTopology(arch2('note-replica-labels'), async (t) => {
    run = await prepareArch2(t, { history: false, log });
  });

  it('counts every series twice and sums double at a settled time', async () => {
    const { count, sum } = await countAndSum(run.frontend, run.settledMs);
    expect(count).toBe(2 * N);
    expect(sum).toBe(2 * expectedSum(run.settledMs));
    log(`[arch2-note-replica-labels] at ${iso(run.settledMs)}: count ${count} (expected ${N}), sum ${sum} = 2 x ${expectedSum(run.settledMs)}`);
    Object.assign(figures, { count, expectedCount: N, sum, expectedSum: expectedSum(run.settledMs), at: iso(run.settledMs) });
  });

  it('returns a sidecar copy and a receive copy of every series over the live window, each complete', async () => {
    const window = liveWindow(run);
    const analysis = await analyseWindow(run.t, run.frontend, window);
    expect(analysis.series).toHaveLength(2 * N);
    // Each copy alone is complete and exact: nothing is lost, everything is doubled.
    expect(analysis.summary, analysis.description).toMatchObject({ missingPoints: 0, wrongPoints: 0, repeatedTimestamps: 0 });
    expect(analysis.summary.presentPoints).toBe(2 * N * pointsIn(window));
    for (let i = 0; i < N; i++) {
      const copies = analysis.series.filter((s) => s.index === i).map((s) => s.labels);
      expect(copies, `series ${i}`).toHaveLength(2);
      const viaReceive = copies.find((l) => 'receive_replica' in l)!;
      const viaSidecar = copies.find((l) => !('receive_replica' in l))!;
      // The two differ exactly by what the receive path adds; prometheus_replica is gone from both (deduplicated).
      expect(labelsKey(viaReceive)).toBe(labelsKey({ ...viaSidecar, ...RECEIVE_ONLY_LABELS }));
      expect(REPLICA_LABEL in viaSidecar || REPLICA_LABEL in viaReceive).toBe(false);
    }
    log(`[arch2-note-replica-labels] live window: ${analysis.description}`);
    recordFinding({
      finding: 'D',
      scenario: 'arch2-remote-write',
      topology: 'arch2-note-replica-labels',
      substrate: run.t.substrate,
      configuration: 'faulty',
      observed:
        `count(${SELECTOR}) is ${figures.count ?? '?'} for ${N} series and sum() exactly double (${figures.sum ?? '?'}); over the live window ${analysis.series.length} series come back, ` +
        `each complete: a sidecar copy and a receive copy (+receive_replica, +tenant_id) of every series`,
      figures: { ...figures, seriesInRange: analysis.series.length, presentPoints: analysis.summary.presentPoints, pointsPerSeries: pointsIn(window) },
    });
  });
});

describe('Arch 2, fixed: the receive replica label and tenant are replica labels too (findings D, F)', () => {
  let run: Arch2Run;
  const figures: Record<string, number | string> = {};
  useTopology(arch2('all-replica-labels'), async (t) => {
    run = await prepareArch2(t, { history: true, log });
  });

  it('counts every series once and sums exactly at a settled time', async () => {
    const { count, sum } = await countAndSum(run.frontend, run.settledMs);
    expect(count).toBe(N);
    expect(sum).toBe(expectedSum(run.settledMs));
    Object.assign(figures, { count, sum, at: iso(run.settledMs) });
  });

  it('returns every series once, complete and exact, over the live window', async () => {
    const window = liveWindow(run);
    const analysis = await analyseWindow(run.t, run.frontend, window);
    expect(analysis.series).toHaveLength(N);
    expect(analysis.summary, analysis.description).toMatchObject({ missingPoints: 0, wrongPoints: 0, repeatedTimestamps: 0, ok: true });
    expect(analysis.summary.presentPoints).toBe(N * pointsIn(window));
    expect(analysis.series.every((s) => !('receive_replica' in s.labels) && !('tenant_id' in s.labels))).toBe(true);
    recordFinding({
      finding: 'D',
      scenario: 'arch2-remote-write',
      topology: 'arch2-all-replica-labels',
      substrate: run.t.substrate,
      configuration: 'fixed',
      observed: `count() is ${figures.count ?? '?'} and sum() exact (${figures.sum ?? '?'}) at ${iso(run.settledMs)}; the live window (${pointsIn(window)} points) gives ${N} series, each complete and exact`,
      figures: { ...figures, seriesInRange: analysis.series.length, presentPoints: analysis.summary.presentPoints, pointsPerSeries: pointsIn(window) },
    });
  });

  it('answers the full 6h exactly from Store and Receive once the whole observee is down (finding F)', async () => {
    const { stopped } = await stopObservee(run.t, run.query, log);
    const window: Window = { start: alignUp(run.settledMs - 6 * HOUR_MS, run.stepMs), end: run.settledMs, step: run.stepMs };
    // Partial responses off: had Query still asked a stopped sidecar, the query would fail.
    const analysis = await analyseWindow(run.t, run.frontend, window, { partialResponse: false });
    expect(analysis.series).toHaveLength(N);
    expect(analysis.summary, analysis.description).toMatchObject({ missingPoints: 0, wrongPoints: 0, repeatedTimestamps: 0, ok: true });
    expect(analysis.summary.presentPoints).toBe(N * pointsIn(window));

    // Which source covers what: Store ends at its newest block; the rest exists only in Receive.
    const stores = await run.query.stores();
    const store = stores.store?.[0];
    const receive = stores.receive?.[0];
    expect(typeof store?.maxTime).toBe('number');
    expect(typeof receive?.minTime).toBe('number');
    const storeMaxTime = store!.maxTime as number;
    expect(storeMaxTime).toBeLessThan(window.end);
    expect(receive!.minTime as number).toBeLessThanOrEqual(window.start);
    const onlyInReceive = Math.floor((window.end - storeMaxTime) / window.step) + 1;
    log(`[arch2-all-replica-labels] observee down: ${analysis.description}`);
    recordFinding({
      finding: 'F',
      scenario: 'arch2-remote-write',
      topology: 'arch2-all-replica-labels',
      substrate: run.t.substrate,
      configuration: 'fixed',
      observed:
        `with the whole observee stopped (${stopped.length} processes), all ${analysis.summary.presentPoints} points of ${iso(window.start)}..${iso(window.end)} come back once and exact; ` +
        `Store covers up to ${iso(storeMaxTime)}, the last ${hours(window.end - storeMaxTime)}h (${onlyInReceive} points per series) only Receive has (history written into it on Prometheus' behalf, see the file comment)`,
      figures: {
        presentPoints: analysis.summary.presentPoints,
        missingPoints: 0,
        storeMaxTime: iso(storeMaxTime),
        receiveMinTime: iso(receive!.minTime as number),
        pointsPerSeriesOnlyInReceive: onlyInReceive,
        // Receive got [historyFrom, historyTo] from the harness on Prometheus' behalf, the rest by real remote write.
        receiveEmulatedHistory: `${iso(run.history!.historyFromMs)}..${iso(run.history!.historyToMs)}`,
        receiveRemoteWrittenFrom: iso(run.liveFromMs),
      },
    });
  });
});

describe('Arch 1 with the whole observee down loses what was not shipped yet (finding F, faulty counterpart)', () => {
  let run: Arch1Run;
  useTopology(arch1('store-and-sidecar'), async (t) => {
    run = await prepareArch1(t, 'store-and-sidecar', log);
  });

  it('answers every sample up to the newest shipped block and none after it', async () => {
    await stopObservee(run.t, run.query, log);
    // The bucket is final now that the sidecars are stopped; Store must have loaded all of it.
    const { blocks, loadedAt } = await waitForStoreToLoadBucket(run.t, log);
    await waitForQueryToCheck(run.query, 'store', loadedAt, log);
    const shippedUpTo = Math.max(...blocks.map((b) => b.maxTime));
    const analysis = await analyseWindow(run.t, run.frontend, run.window, { partialResponse: false });
    // Block maxTime is exclusive: the sample at shippedUpTo was in the head too, and is gone with it.
    const lostPoints = (run.window.end - shippedUpTo) / run.window.step + 1;
    expect(analysis.series).toHaveLength(N);
    expect(analysis.summary.wrongPoints).toBe(0);
    for (const s of analysis.series) {
      expect(s.missing.map((m) => [iso(m.startMs), iso(m.endMs), m.points])).toEqual([[iso(shippedUpTo), iso(run.window.end), lostPoints]]);
      expect(s.present).toBe(pointsIn(run.window) - lostPoints);
    }
    const lostMs = run.window.end - shippedUpTo;
    expect(lostMs).toBeGreaterThan(0);
    log(`[arch1-store-and-sidecar] observee down: ${analysis.description}`);
    recordFinding({
      finding: 'F',
      scenario: 'arch2-remote-write',
      topology: 'arch1-store-and-sidecar',
      substrate: run.t.substrate,
      configuration: 'faulty',
      observed: `with the whole observee stopped, the last ${hours(lostMs)}h of the 6h range are lost (${iso(shippedUpTo)} to ${iso(run.window.end)}, ${lostPoints} points per series): they were only in the Prometheus heads, not yet in a shipped block`,
      figures: { lostHours: hours(lostMs), lostPointsPerSeries: lostPoints, shippedUpTo: iso(shippedUpTo), blocksInBucket: blocks.length },
    });
  });
});
