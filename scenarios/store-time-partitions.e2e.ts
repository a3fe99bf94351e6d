// Time-partitioned Stores (FINDINGS.md G: thanos-io/thanos #1077, #4478), over real 2h blocks that
// the observee's HA pair cut and its sidecars shipped. Five Stores read the one bucket prefix:
// unbounded, up to a block boundary B, from B, from B + 1h, and up to a millisecond before B. Four
// Queries read them, none of them the sidecars, over a range that ends before the head, so only
// Stores answer: over the unbounded Store (the reference), over the split at B (fixed: the same
// answer, point by point), and over two splits with an hour's hole (faulty: a gap in every series).
import { describe, expect, it } from 'vitest';
import { prepareStorePartitions, type StorePartitionsRun } from '../harness/flows/store-partitions.ts';
import { unservedRanges, type GridRange } from '../harness/models/store-partitions.ts';
import { analyseWindow, labelsKey, type RangeAnalysis } from '../harness/promql/analysis.ts';
import { PromApiClient, type MatrixSeries } from '../harness/promql/client.ts';
import { metricValue } from '../harness/promql/metrics.ts';
import { recordFinding } from '../harness/report/findings.ts';
import { storesTimeline } from '../harness/report/plots.ts';
import { log, useTopology } from '../harness/scenario.ts';
import { durationMs } from '../harness/time.ts';
import { PARTITION_GAP, STORE_PARTITIONS, storePartitions } from '../harness/topology/presets-store-partitions.ts';
import { gridPoints } from '../harness/time.ts';

const SCENARIO = 'store-time-partitions';
const iso = (ms: number) => new Date(ms).toISOString();
const storeRef = (name: string) => `observer/${name}`;

const topology = storePartitions();
const run = useTopology(topology, (t) => prepareStorePartitions(t, log));
const where = (query: string) => `${topology.name} observer/${query}`;

/** The split's block boundary B and where the faulty split's second Store starts, from the Stores' bounds. */
function splitPoints(r: StorePartitionsRun): { boundary: number; gapStoreFrom: number } {
  const boundary = r.stores[storeRef('store-before')]!.bounds.maxTime;
  expect(r.stores[storeRef('store-after')]!.bounds.minTime).toBe(boundary);
  expect(boundary % r.blockMs, 'B is a block boundary').toBe(0);
  // B lies inside the bucket, with data on both sides of it and of the hole.
  expect(r.window.start).toBeLessThan(boundary);
  const gapStoreFrom = r.stores[storeRef('store-after-gap')]!.bounds.minTime;
  expect(gapStoreFrom - boundary).toBe(durationMs(PARTITION_GAP));
  expect(r.window.end).toBeGreaterThan(gapStoreFrom);
  return { boundary, gapStoreFrom };
}

const oldestSample = (r: StorePartitionsRun) => Math.min(...r.blocks.map((b) => b.minTime));
const newestBlockEnd = (r: StorePartitionsRun) => Math.max(...r.blocks.map((b) => b.maxTime));

async function rangeQuery(r: StorePartitionsRun, query: string, dedup: boolean): Promise<{ result: MatrixSeries[]; analysis: RangeAnalysis }> {
  const answer = await r.queries[query]!.client.queryRange(r.t.workload.workload.metric, { ...r.window, dedup });
  const analysis = analyseWindow(answer.result, r.t.workload.workload, r.window, r.workload.historyFromMs);
  return { result: answer.result, analysis };
}

/** Each Store's range as the Query's Stores page shows it, by Store ref. */
async function shownRanges(r: StorePartitionsRun, query: string): Promise<Record<string, { minTime: number | 'unbounded'; maxTime: number | 'unbounded' }>> {
  const q = r.queries[query]!;
  const page = await q.client.stores();
  expect(Object.keys(page), `${query}'s Stores page lists Stores only`).toEqual(['store']);
  return Object.fromEntries(page.store!.map((e) => [q.addresses[e.name] ?? e.name, { minTime: e.minTime, maxTime: e.maxTime }]));
}
/** The Stores page's ranges of these Stores (refs) next to the range query, for the report. */
const partitionsPlot = (r: StorePartitionsRun, title: string, shown: Awaited<ReturnType<typeof shownRanges>>, refs: string[], marks?: { label: string; from: number; to: number }[]) =>
  storesTimeline(title, refs.filter((ref) => shown[ref]).map((ref) => ({ label: ref.slice(ref.indexOf('/') + 1), ...shown[ref]! })), r.window, marks);
const shownText = (b: { minTime: number | 'unbounded'; maxTime: number | 'unbounded' } | undefined) =>
  b ? [b.minTime, b.maxTime].map((t) => (typeof t === 'number' ? iso(t) : t)).join('..') : 'absent';

/** A matrix as text, series in label order: equal texts are equal answers, point by point. */
const canonical = (m: MatrixSeries[]) =>
  m
    .map((s) => `${labelsKey(s.metric)} ${s.samples.map((p) => `${p.t}=${p.v}`).join(' ')}`)
    .sort()
    .join('\n');

describe('Store time partitions (finding G)', () => {
  it('each Store loads every block its bounds overlap, boundary neighbours included, and the Stores page shows each bound exactly', async () => {
    const r = run();
    const { boundary, gapStoreFrom } = splitPoints(r);
    // Inclusive at both ends against the block's exclusive maxTime: the Store ending at B also loads
    // the block starting at B (one per replica), the Store starting at B the block ending at B.
    const replicas = r.workload.prometheus.length;
    const expectedLoaded: Record<string, number> = {
      store: r.blocks.length,
      'store-before': r.blocks.filter((b) => b.maxTime <= boundary).length + replicas,
      'store-after': r.blocks.filter((b) => b.minTime >= boundary).length + replicas,
      'store-after-gap': r.blocks.filter((b) => b.maxTime >= gapStoreFrom).length,
      // Ending a millisecond before B: exactly the blocks before B.
      'store-before-edge': r.blocks.filter((b) => b.maxTime <= boundary).length,
    };
    for (const [name, n] of Object.entries(expectedLoaded)) {
      const metrics = await new PromApiClient(r.t.url(storeRef(name))).metrics();
      expect(metricValue(metrics, 'thanos_bucket_store_blocks_loaded'), name).toBe(n);
      expect(r.stores[storeRef(name)]!.loaded, name).toHaveLength(n);
    }

    // Each Store's range: its loaded blocks' range, clipped to its bounds.
    const expectedRange: Record<string, { minTime: number; maxTime: number }> = {
      store: { minTime: oldestSample(r), maxTime: newestBlockEnd(r) },
      'store-before': { minTime: oldestSample(r), maxTime: boundary },
      'store-after': { minTime: boundary, maxTime: newestBlockEnd(r) },
      'store-after-gap': { minTime: gapStoreFrom, maxTime: newestBlockEnd(r) },
      'store-before-edge': { minTime: oldestSample(r), maxTime: boundary - 1 },
    };
    for (const { query, stores } of Object.values(STORE_PARTITIONS)) {
      expect(await shownRanges(r, query), `${query}'s Stores page`).toEqual(Object.fromEntries(stores.map((s) => [storeRef(s), expectedRange[s]])));
      for (const s of stores) expect(r.stores[storeRef(s)]!.advertised, `the model of ${s}`).toEqual(expectedRange[s]);
    }
  });

  it('fixed: split at a block boundary, the two Stores answer exactly what one unbounded Store does, point by point', async () => {
    const r = run();
    const { boundary } = splitPoints(r);
    const n = r.t.workload.workload.seriesCount;
    const points = gridPoints(r.window.start, r.window.end, r.window.step).length;
    const figures: Record<string, number | string> = {};
    for (const dedup of [true, false]) {
      const [unsplit, split] = [await rangeQuery(r, STORE_PARTITIONS.unsplit.query, dedup), await rangeQuery(r, STORE_PARTITIONS.split.query, dedup)];
      const seriesCount = dedup ? n : r.workload.prometheus.length * n;
      expect(unsplit.analysis.series, `unsplit, dedup=${dedup}`).toHaveLength(seriesCount);
      expect(unsplit.analysis.summary, unsplit.analysis.description).toMatchObject({ missingPoints: 0, wrongPoints: 0, repeatedTimestamps: 0, ok: true });
      expect(unsplit.analysis.summary.presentPoints).toBe(seriesCount * points);
      // Both Stores serve the chunk starting at B (the one ending at B loads that block too): Query
      // merges identical chunks, so it comes back once.
      expect(split.analysis.summary, split.analysis.description).toMatchObject({ missingPoints: 0, wrongPoints: 0, repeatedTimestamps: 0, ok: true });
      expect(canonical(split.result) === canonical(unsplit.result), `dedup=${dedup}: split and unsplit answers differ`).toBe(true);
      figures[dedup ? 'pointsCompared' : 'pointsComparedNoDedup'] = split.analysis.summary.presentPoints;
    }
    const shown = await shownRanges(r, STORE_PARTITIONS.split.query);
    recordFinding({
      finding: 'G',
      scenario: SCENARIO,
      topology: where(STORE_PARTITIONS.split.query),
      substrate: r.t.substrate,
      configuration: 'fixed',
      observed:
        `Stores split at the block boundary ${iso(boundary)} (--max-time / --min-time there) answer ${figures.pointsCompared} points ` +
        `identical to one unbounded Store's, with and without dedup; each loads the boundary's neighbour block too`,
      figures: {
        ...figures,
        boundary: iso(boundary),
        window: `${iso(r.window.start)}..${iso(r.window.end)}`,
        storeBeforeShown: shownText(shown[storeRef('store-before')]),
        storeAfterShown: shownText(shown[storeRef('store-after')]),
        storeBeforeBlocks: metricValue(await new PromApiClient(r.t.url(storeRef('store-before'))).metrics(), 'thanos_bucket_store_blocks_loaded')!,
        storeAfterBlocks: metricValue(await new PromApiClient(r.t.url(storeRef('store-after'))).metrics(), 'thanos_bucket_store_blocks_loaded')!,
        blocksInBucket: r.blocks.length,
      },
      plots: [partitionsPlot(r, `Stores page of ${STORE_PARTITIONS.split.query}: each Store's min/max time, split at B = ${iso(boundary)}, next to the range query`, shown, STORE_PARTITIONS.split.stores.map(storeRef))],
    });
  });

  it("faulty: --max-time=B, --min-time=B+1h: a gap in every series from the end of the chunk starting at B to B+1h", async () => {
    const r = run();
    const { boundary } = splitPoints(r);
    const { gap, hole } = await expectGap(r, 'gap');
    // Store returns whole chunks: the one starting at B (the lower Store's --max-time) comes back
    // entire, so the gap starts later than the hole, at that chunk's end.
    expect(gap.startMs).toBeGreaterThan(boundary);
    expect(gap.points).toBeLessThan(hole.points);
  });

  it('faulty: --max-time=B-1ms, --min-time=B+1h: a gap in every series of exactly the hole\'s grid points', async () => {
    const r = run();
    const { gap, hole } = await expectGap(r, 'wholeGap');
    // No chunk reaches past either bound: the lower Store does not load the block starting at B.
    expect(gap).toEqual(hole);
  });
});

/**
 * A faulty split's range query: every series misses exactly the grid points that, by Thanos'
 * rules, neither Store serves (one range, ending right before the upper Store's --min-time, where
 * a chunk starts), and nothing else. Records the finding; returns the gap and the configured hole
 * (the grid points strictly between the lower Store's --max-time and the upper one's --min-time;
 * holeStart/holeEnd in the figures are its first and last).
 */
async function expectGap(r: StorePartitionsRun, role: 'gap' | 'wholeGap'): Promise<{ gap: GridRange; hole: GridRange }> {
  const { query, stores } = STORE_PARTITIONS[role];
  const [lower, upper] = stores.map((s) => r.stores[storeRef(s)]!);
  const { analysis } = await rangeQuery(r, query, true);
  const predicted = unservedRanges([lower!.bounds, upper!.bounds], r.blocks, { fromMs: r.window.start, toMs: r.window.end, stepMs: r.window.step, blockMs: r.blockMs });
  expect(predicted).toHaveLength(1);
  const gap = predicted[0]!;
  const holePoints = gridPoints(lower!.bounds.maxTime + 1, upper!.bounds.minTime - 1, r.window.step);
  const hole = { startMs: holePoints[0]!, endMs: holePoints.at(-1)!, points: holePoints.length };
  expect(gap.endMs).toBe(hole.endMs);

  expect(analysis.series).toHaveLength(r.t.workload.workload.seriesCount);
  expect(analysis.summary.wrongPoints, analysis.description).toBe(0);
  for (const s of analysis.series) {
    expect(s.missing.map((m) => [iso(m.startMs), iso(m.endMs), m.points]), analysis.description).toEqual([[iso(gap.startMs), iso(gap.endMs), gap.points]]);
    expect(s.present).toBe(s.expected - gap.points);
  }
  log(`[${where(query)}] ${analysis.description}`);

  const shown = await shownRanges(r, query);
  const flags = (ref: string) => {
    const c = r.t.topology.components.find((x) => `${x.cluster}/${x.name}` === ref);
    return c?.kind === 'store' ? [c.minTime && `--min-time=${c.minTime}`, c.maxTime && `--max-time=${c.maxTime}`].filter(Boolean).join(' ') : '';
  };
  const observed = analysis.series[0]!.missing[0]!;
  recordFinding({
    finding: 'G',
    scenario: SCENARIO,
    topology: where(query),
    substrate: r.t.substrate,
    configuration: 'faulty',
    observed:
      `Stores with ${flags(lower!.ref)} and ${flags(upper!.ref)}: every series misses ${iso(observed.startMs)} to ${iso(observed.endMs)}, ` +
      `${observed.points} of the hole's ${hole.points} grid points` +
      (gap.points < hole.points ? ` (the lower Store returns its whole chunk starting at its --max-time)` : ''),
    figures: {
      lowerMaxTime: iso(lower!.bounds.maxTime),
      upperMinTime: iso(upper!.bounds.minTime),
      holeStart: iso(hole.startMs),
      holeEnd: iso(hole.endMs),
      holeGridPoints: hole.points,
      gapStart: iso(observed.startMs),
      gapEnd: iso(observed.endMs),
      missingPointsPerSeries: observed.points,
      missingPoints: analysis.summary.missingPoints,
      lowerStoreShown: shownText(shown[lower!.ref]),
      upperStoreShown: shownText(shown[upper!.ref]),
    },
    plots: [
      partitionsPlot(r, `Stores page of ${query}: each Store's min/max time next to the range query, with the gap every series has`, shown, [lower!.ref, upper!.ref], [
        { label: `missing ${observed.points} points`, from: observed.startMs, to: observed.endMs },
      ]),
    ],
  });
  return { gap, hole };
}
