// Arch 2 (sidecar + remote write): finding D of FINDINGS.md, and F's trade-offs between Arch 1, 2
// and 3 (data redundancy, load on the observee, bucket bytes).
//
// One observee HA pair with 6h of history, read by four Queries (each with its Query Frontend,
// which D's and F's answers go through) over one bucket:
// D: the pair is read twice, through its sidecars and through the Receive it remote-writes to.
// The receive copy carries labels the sidecar copy lacks (receive_replica, tenant_id); the Query
// with only the note's replica labels cannot merge the two, so every series comes back twice and
// sums double. The Query that declares those labels as replica labels merges them.
// F: take the whole observee down; Arch 2's path (Store and Receive) still answers the full 6h,
// while Arch 1's (Store and the sidecars) loses everything not yet in a shipped block (the
// mechanism of finding A). Store would also serve blocks Receive uploaded under the same prefix;
// none reaches past the sidecars' (asserted), so Arch 1's path loses exactly what it would
// without them.
// F's load: the same bounded range queries straight to a Query over Store and the sidecars ("via
// Sidecar", Arch 1's read path) and to one over Store and Receive ("via Receive", Arch 2's claim),
// while the observee's Prometheus instances report their own CPU seconds, resident memory and
// remote reads (what a sidecar asks of its Prometheus) around each turn.
// F's bytes: Receive (v0.42) cuts a block from its head only on its own 2h schedule, or when it
// flushes on shutdown or a hashring change; so after F's queries the harness stops it, as a restart
// would, and reads what each source uploaded: the sidecars' blocks are Arch 1's bucket, Receive's
// are Arch 3's (there the agent's remote write is all Receive gets), both together are Arch 2's.
// "Full" is made honest by emulation: Prometheus' remote write only forwards samples newer than its
// own start, so the harness writes the backfilled history into Receive itself, as a Prometheus that
// had been running for those 6h would have (same samples, the replica's external labels, default
// tenant; see steps/arch2.ts historyForReceive). Without it, Receive would only hold the live part
// and the head's unshipped backfilled part would be lost with the observee: an artefact of how the
// harness makes history, not a property of Arch 2.
//
// The setup makes every state change in order and keeps the answers: history, live until settled,
// D's queries, F's query load, the observee stopped, F's queries, Receive stopped, the bucket read.
// Each test judges its own.
import { describe, expect, it } from 'vitest';
import { arch2, type Arch2Path } from '../harness/presets/arch2.ts';
import { tenantOf } from '../harness/presets/handles.ts';
import { analyseRange, labelsKey, type RangeAnalysis } from '../harness/promql/analysis.ts';
import type { QueryResponse, RangeQueryResponse } from '../harness/promql/client.ts';
import { recordFinding } from '../harness/report/findings.ts';
import { storesTimeline } from '../harness/report/plots.ts';
import { TRADE_OFFS } from '../harness/report/trade-offs.ts';
import type { BlockMeta } from '../harness/s3/bucket.ts';
import { log, useTopology } from '../harness/scenario.ts';
import type { QueryPath } from '../harness/steps/arch1.ts';
import { prepareArch2, stopObservee, type Arch2Run } from '../harness/steps/arch2.ts';
import { waitForHistoryShipped } from '../harness/steps/history.ts';
import { blocksCost, measureQueryLoad, type BlocksCost, type QueryLoad } from '../harness/steps/trade-offs.ts';
import type { RunningTopology } from '../harness/substrates/index.ts';
import { alignUp, HOUR_MS, iso } from '../harness/time.ts';
import { valueAt } from '../harness/workload/series.ts';

const preset = arch2('side-by-side');
const { topology, replicaLabel: REPLICA_LABEL } = preset;
const SELECTOR = `e2e_workload_value{cluster="${preset.prometheus.cluster}"}`;
// What only the receive path adds to a series: Receive's replica label (its instance's name) and its tenant.
const RECEIVE_ONLY_LABELS = { [preset.receive.spec.replicaLabel]: preset.receive.name, tenant_id: tenantOf(preset.receive) };

// F's query load: a dashboard panel's 6h range query, this many times through each path, this
// many at once. At a 5m step the answers are small, so the turns are short and what the observee
// spends serving them stands well above what its 1s scrapes and remote write cost meanwhile
// (measured here: 40 queries cost it 0.12-0.21s CPU via Sidecar, 0.02-0.08s via Receive).
const LOAD_QUERIES = 100;
const LOAD_CONCURRENCY = 4;
const LOAD_STEP_MS = 5 * 60_000;

const seconds = (ms: number) => +(ms / 1000).toFixed(2);
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
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
  // Bring-up: history in both paths, live until a slot every Prometheus stored and remote-wrote.
  const run = await prepareArch2(t, preset, log);
  const path = (name: Arch2Path) => run.paths[name]!;
  const d = { note: await askD(run, path('noteReplicaLabels')), all: await askD(run, path('allReplicaLabels')) };
  const window: Window = { start: alignUp(run.settledMs - 6 * HOUR_MS, run.stepMs), end: run.settledMs, step: run.stepMs };
  // Once shipped, no cut or upload of the history is in flight to weigh on one turn of the load.
  await waitForHistoryShipped(t, run.history, log);
  const viaSidecar = path('storeAndSidecar');
  const viaReceive = path('storeAndReceive');
  const load: QueryLoad = { expr: SELECTOR, range: { start: window.start, end: window.end, step: LOAD_STEP_MS, dedup: true }, count: LOAD_QUERIES, concurrency: LOAD_CONCURRENCY };
  const cost = await measureQueryLoad(run.prometheus.map((id) => t.url(id)), { viaSidecar, viaReceive }, load);
  const { stopped, blocks } = await stopObservee(run, log);
  // Partial responses off: had Query still asked a stopped sidecar, the query would fail.
  const ask = (p: QueryPath) => p.frontend.queryRange(SELECTOR, { ...window, dedup: true, partialResponse: false });
  const arch2Path = path('allReplicaLabels');
  const arch1Path = path('storeAndSidecar');
  const f = {
    window,
    stopped,
    blocks,
    arch2: { path: arch2Path, answer: await ask(arch2Path), stores: await arch2Path.query.stores() },
    arch1: { path: arch1Path, answer: await ask(arch1Path) },
  };
  const bucket = await bucketAfterReceiveFlush(t, blocks);
  return { run, d, f, load: { load, cost, viaSidecar, viaReceive }, bucket };
}

/** Stops Receive (it flushes its head into blocks and uploads them before exiting) and reads each source's blocks. */
async function bucketAfterReceiveFlush(t: RunningTopology, before: BlockMeta[]) {
  await t.stop(preset.receive.ref);
  const blocks = await t.bucket.blocks(preset.prefix);
  const bySource = (source: string) => blocks.filter((b) => b.thanos.source === source);
  return {
    receiveBlocksBeforeStop: before.filter((b) => b.thanos.source === 'receive').length,
    sidecar: await blocksCost(t.bucket, preset.prefix, bySource('sidecar')),
    receive: await blocksCost(t.bucket, preset.prefix, bySource('receive')),
  };
}

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
      plots: [
        storesTimeline("Stores page of the Arch 2 Query with the observee down: Store's and Receive's min/max time next to the 6h range query", [
          { label: 'store', minTime: store!.minTime, maxTime: storeMaxTime },
          { label: 'receive', minTime: receive!.minTime, maxTime: receive!.maxTime },
        ], f.window, [{ label: 'only in Receive', from: storeMaxTime, to: f.window.end }]),
      ],
      tradeOff: {
        row: TRADE_OFFS.observeeLost,
        cells: { 'Arch 2': `the full 6h: all ${analysis.summary.presentPoints} points, exact, from Store and Receive (the last ${hours(f.window.end - storeMaxTime)}h only in Receive)` },
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
      tradeOff: {
        row: TRADE_OFFS.observeeLost,
        cells: { 'Arch 1': `all but the last ${hours(lostMs)}h of 6h, from Store: ${lostPoints} points per series were only in the Prometheus heads` },
      },
    });
  });
});

describe('The same query load via Sidecar and via Receive: what it costs the observee Prometheus (finding F)', () => {
  it('reads the observee through every sidecar for each query via Sidecar, never via Receive, and costs it more CPU via Sidecar', () => {
    const { run, load } = measured();
    const { cost } = load;
    const n = run.t.workload.workload.seriesCount;
    const sidecars = preset.sidecar.instances.length;
    for (const c of [cost.viaSidecar, cost.viaReceive]) {
      expect(c.queries).toBe(load.load.count);
      expect(c.seriesPerAnswer).toEqual([n]);
      expect(c.warnings).toEqual([]);
    }
    // Each query asks every sidecar once, and each sidecar asks its Prometheus once (remote read).
    expect(cost.viaSidecar.remoteReads).toBe(load.load.count * sidecars);
    expect(cost.viaReceive.remoteReads).toBe(0);
    // Via Receive the observee only scrapes and remote-writes meanwhile; via Sidecar it also serves
    // every read. Per second of the turns too, so that a longer Sidecar turn alone cannot explain it.
    const perSecond = (c: typeof cost.viaSidecar) => +(c.cpuSeconds / (c.wallMs / 1000)).toFixed(3);
    expect(cost.viaReceive.cpuSeconds).toBeLessThan(cost.viaSidecar.cpuSeconds);
    expect(perSecond(cost.viaReceive)).toBeLessThan(perSecond(cost.viaSidecar));

    const what = `${load.load.count} range queries of ${SELECTOR} over 6h at a ${seconds(load.load.range.step)}s step (${load.load.concurrency} at once)`;
    const cell = (c: typeof cost.viaSidecar, via: string) =>
      `via ${via}: ${c.cpuSeconds}s CPU over ${seconds(c.wallMs)}s, ${c.remoteReads} remote reads, RSS change ${c.rssDeltaBytes >= 0 ? '+' : ''}${mib(c.rssDeltaBytes)} (now ${mib(c.rssAfterBytes)})`;
    const figures = (c: typeof cost.viaSidecar) => ({
      cpuSeconds: c.cpuSeconds,
      rssDeltaBytes: c.rssDeltaBytes,
      rssAfterBytes: c.rssAfterBytes,
      remoteReads: c.remoteReads,
      queries: c.queries,
      concurrency: load.load.concurrency,
      wallSeconds: seconds(c.wallMs),
      cpuSecondsPerSecond: perSecond(c),
      observeePrometheus: run.prometheus.length,
    });
    log(`[${where(load.viaSidecar)}] ${what}: ${cell(cost.viaSidecar, 'Sidecar')}`);
    log(`[${where(load.viaReceive)}] ${what}: ${cell(cost.viaReceive, 'Receive')}`);
    recordFinding({
      finding: 'F',
      scenario: 'arch2-remote-write',
      // Its own name: the observee-down record of this Query path is another F record.
      topology: `${where(load.viaSidecar)} query load`,
      substrate: run.t.substrate,
      configuration: 'faulty',
      observed: `${what} through Store and the sidecars cost the observee's ${run.prometheus.length} Prometheus ${cost.viaSidecar.cpuSeconds}s CPU and ${cost.viaSidecar.remoteReads} remote reads (RSS ${mib(cost.viaSidecar.rssDeltaBytes)})`,
      figures: figures(cost.viaSidecar),
      tradeOff: { row: TRADE_OFFS.observeeLoad, cells: { 'Arch 1': cell(cost.viaSidecar, 'Sidecar') } },
    });
    recordFinding({
      finding: 'F',
      scenario: 'arch2-remote-write',
      topology: `${where(load.viaReceive)} query load`,
      substrate: run.t.substrate,
      configuration: 'fixed',
      observed: `the same load through Store and Receive cost the observee's ${run.prometheus.length} Prometheus ${cost.viaReceive.cpuSeconds}s CPU (its scrapes and remote write meanwhile) and no remote read (RSS ${mib(cost.viaReceive.rssDeltaBytes)})`,
      figures: figures(cost.viaReceive),
      tradeOff: { row: TRADE_OFFS.observeeLoad, cells: { 'Arch 2': cell(cost.viaReceive, 'Receive') } },
    });
  });
});

describe('Bucket bytes for the same history: the sidecars\' blocks (Arch 1), Receive\'s (Arch 3), both (Arch 2) (finding F)', () => {
  it("keeps the history twice in Arch 2: Receive's blocks hold every sample range the sidecars shipped, on top of them", () => {
    const { run, bucket } = measured();
    const { sidecar, receive } = bucket;
    // Every replica shipped every block it cut from the history.
    expect(sidecar.blocks).toBe(run.prometheus.length * run.history.blocks.length);
    expect(receive.blocks).toBeGreaterThan(0);
    expect(receive.minTime).toBeLessThanOrEqual(sidecar.minTime);
    expect(receive.maxTime).toBeGreaterThanOrEqual(sidecar.maxTime);
    // Both replicas' series over at least the same span (Receive's reaches the observee's last write).
    expect(receive.samples).toBeGreaterThan(sidecar.samples);

    const perSample = (c: BlocksCost) => +(c.bytes / c.samples).toFixed(2);
    const arch2Bytes = sidecar.bytes + receive.bytes;
    // The same samples cost Arch 2 both paths' bytes per sample.
    const arch2PerArch1 = +((perSample(sidecar) + perSample(receive)) / perSample(sidecar)).toFixed(2);
    const span = (c: BlocksCost) => `${iso(c.minTime)}..${iso(c.maxTime)}`;
    const describeBlocks = (c: BlocksCost, source: string) => `${kib(c.bytes)} in ${c.blocks} ${source} blocks (${span(c)}, ${c.samples} samples, ${perSample(c)} B/sample)`;
    log(`[${topology.name} bucket] sidecars: ${describeBlocks(sidecar, 'sidecar')}; Receive: ${describeBlocks(receive, 'receive')}`);
    recordFinding({
      finding: 'F',
      scenario: 'arch2-remote-write',
      topology: `${topology.name} bucket`,
      substrate: run.t.substrate,
      configuration: 'fixed',
      observed: `the sidecars uploaded ${describeBlocks(sidecar, 'sidecar')}; Receive, flushed on stop, ${describeBlocks(receive, 'receive')} (none before its stop: ${bucket.receiveBlocksBeforeStop}); Arch 2 stores each sample in both`,
      figures: {
        sidecarBytes: sidecar.bytes,
        sidecarBlocks: sidecar.blocks,
        sidecarSamples: sidecar.samples,
        sidecarSpan: span(sidecar),
        receiveBytes: receive.bytes,
        receiveBlocks: receive.blocks,
        receiveSamples: receive.samples,
        receiveSpan: span(receive),
        receiveBlocksBeforeStop: bucket.receiveBlocksBeforeStop,
        arch2Bytes,
        arch2BytesPerSampleOverArch1: arch2PerArch1,
      },
      tradeOff: {
        row: TRADE_OFFS.bucketBytes,
        cells: {
          'Arch 1': describeBlocks(sidecar, 'sidecar'),
          'Arch 2': `${kib(arch2Bytes)}: the sidecars' and Receive's blocks; each sample stored by both, ${arch2PerArch1}x Arch 1's bytes per sample`,
          'Arch 3': `${describeBlocks(receive, 'receive')}; Receive uploaded them when stopped (its 2h head compaction had not run)`,
        },
      },
    });
  });
});
