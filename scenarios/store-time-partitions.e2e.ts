// Time-partitioned Stores (FINDINGS.md G: thanos-io/thanos #1077, #4478), over real 2h blocks that
// the observee's HA pair cut and its sidecars shipped. Five Stores read the one bucket prefix:
// unbounded, up to a block boundary B, from B, from B + 1h, and up to a millisecond before B. Four
// Queries read them, none of them the sidecars, over a range that ends before the head, so only
// Stores answer: over the unbounded Store (the reference), over the split at B (fixed: the same
// answer, point by point), and over two splits with an hour's hole (faulty: a gap in every series).
import { describe, expect, it } from 'vitest';
import { advertisedRange, blocksLoaded, boundsOf, unservedRanges, type GridRange, type StoreBounds } from '../harness/models/store-partitions.ts';
import { queryEndpointAddresses } from '../harness/plan/query.ts';
import type { Handle } from '../harness/presets/handles.ts';
import { PARTITION_GAP, SLICINGS, storePartitions, type Slicing } from '../harness/presets/store-partitions.ts';
import { analyseWindow, labelsKey, type RangeAnalysis } from '../harness/promql/analysis.ts';
import { PromApiClient, type MatrixSeries } from '../harness/promql/client.ts';
import { metricValue } from '../harness/promql/metrics.ts';
import { waitForStores } from '../harness/promql/wait-metrics.ts';
import { recordFinding } from '../harness/report/findings.ts';
import { storesTimeline } from '../harness/report/plots.ts';
import type { BlockMeta } from '../harness/s3/bucket.ts';
import { log, useTopology } from '../harness/scenario.ts';
import { populateWorkload } from '../harness/steps/history.ts';
import { waitForStoreSynced } from '../harness/steps/stores.ts';
import type { RunningTopology } from '../harness/substrates/index.ts';
import { alignUp, durationMs, gridPoints, iso } from '../harness/time.ts';

const SCENARIO = 'store-time-partitions';

const preset = storePartitions();
const { topology } = preset;
const { stores: S } = preset;

/** Query's Stores page names an endpoint by the address it dials: which component each address is, from the Query's plan. */
function endpointComponents(t: RunningTopology, query: Handle<'query'>): Record<string, string> {
  const plan = t.plan.processes.find((p) => p.id === query.ref)!;
  const spec = query.spec;
  const addresses = queryEndpointAddresses(plan);
  // One address per endpoint instance, in the order of the Query's endpoints (plan/query.ts); each Store has one instance.
  if (addresses.length !== spec.endpoints.length) throw new Error(`${query.ref} dials ${addresses.length} addresses for ${spec.endpoints.length} endpoints: one instance each expected`);
  return Object.fromEntries(addresses.map((a, i) => [a, spec.endpoints[i]!]));
}

interface PartitionedStore {
  ref: string;
  bounds: StoreBounds;
  /** What the model says it loads and advertises, from the bucket's blocks. */
  loaded: BlockMeta[];
  advertised: { minTime: number; maxTime: number };
}

// Bring-up: history in and shipped by the HA pair's sidecars, every Store through a whole sync of
// the complete bucket (its own sync counter: what it loaded is for the tests to judge), every
// Query's Stores page checked since. The window is the whole bucket on the workload grid: first
// sample of the oldest block to last of the newest; it ends before the head.
const run = useTopology(topology, async (t) => {
  const workload = await populateWorkload(t, { onProgress: log });
  const blocks = await t.bucket.blocks(preset.prefix);
  const replicas = preset.prometheus.instances.length;
  if (blocks.length !== replicas * workload.blocks.length) {
    throw new Error(`expected ${replicas * workload.blocks.length} blocks in the bucket (every replica ships every block it cut), found ${blocks.length}`);
  }
  const blockMs = durationMs(preset.prometheus.spec.blockDuration);
  const stores: Record<string, PartitionedStore> = {};
  for (const s of Object.values(S)) {
    const bounds = boundsOf(s.spec);
    const loaded = blocksLoaded(bounds, blocks);
    stores[s.ref] = { ref: s.ref, bounds, loaded, advertised: advertisedRange(bounds, loaded) };
  }
  await Promise.all(Object.values(S).map((s) => waitForStoreSynced(t, s, log)));
  const syncedAt = Date.now();
  const queries = Object.fromEntries(
    SLICINGS.map((role) => {
      const q = preset.slicings[role].query;
      return [role, { ref: q.ref, client: new PromApiClient(t.url(q.ref)), stores: q.spec.endpoints, addresses: endpointComponents(t, q) }];
    }),
  ) as Record<Slicing, { ref: string; client: PromApiClient; stores: string[]; addresses: Record<string, string> }>;
  // Query refreshes endpoint metadata every few seconds: a check made after every Store synced.
  await Promise.all(Object.values(queries).map((q) => waitForStores(q.ref, q.client, { type: 'store', count: q.stores.length, checkedAfter: syncedAt }, { onProgress: log })));
  const step = t.workload.workload.stepMs;
  const window = { start: alignUp(Math.min(...blocks.map((b) => b.minTime)), step), end: Math.max(...blocks.map((b) => b.maxTime)) - step, step };
  return { t, workload, blocks, blockMs, stores, queries, window };
});
type StorePartitionsRun = ReturnType<typeof run>;
const where = (role: Slicing) => `${topology.name} ${preset.slicings[role].query.ref}`;

/** The split's block boundary B and where the faulty split's second Store starts, from the Stores' bounds. */
function splitPoints(r: StorePartitionsRun): { boundary: number; gapStoreFrom: number } {
  const boundary = r.stores[S.before.ref]!.bounds.maxTime;
  expect(r.stores[S.after.ref]!.bounds.minTime).toBe(boundary);
  expect(boundary % r.blockMs, 'B is a block boundary').toBe(0);
  // B lies inside the bucket, with data on both sides of it and of the hole.
  expect(r.window.start).toBeLessThan(boundary);
  const gapStoreFrom = r.stores[S.afterGap.ref]!.bounds.minTime;
  expect(gapStoreFrom - boundary).toBe(durationMs(PARTITION_GAP));
  expect(r.window.end).toBeGreaterThan(gapStoreFrom);
  return { boundary, gapStoreFrom };
}

const oldestSample = (r: StorePartitionsRun) => Math.min(...r.blocks.map((b) => b.minTime));
const newestBlockEnd = (r: StorePartitionsRun) => Math.max(...r.blocks.map((b) => b.maxTime));

async function rangeQuery(r: StorePartitionsRun, role: Slicing, dedup: boolean): Promise<{ result: MatrixSeries[]; analysis: RangeAnalysis }> {
  const answer = await r.queries[role].client.queryRange(r.t.workload.workload.metric, { ...r.window, dedup });
  const analysis = analyseWindow(answer.result, r.t.workload.workload, r.window, r.workload.historyFromMs);
  return { result: answer.result, analysis };
}

/** Each Store's range as the Query's Stores page shows it, by Store ref. */
async function shownRanges(r: StorePartitionsRun, role: Slicing): Promise<Record<string, { minTime: number | 'unbounded'; maxTime: number | 'unbounded' }>> {
  const q = r.queries[role];
  const page = await q.client.stores();
  expect(Object.keys(page), `${q.ref}'s Stores page lists Stores only`).toEqual(['store']);
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
    const expectedLoaded: [Handle<'store'>, number][] = [
      [S.unbounded, r.blocks.length],
      [S.before, r.blocks.filter((b) => b.maxTime <= boundary).length + replicas],
      [S.after, r.blocks.filter((b) => b.minTime >= boundary).length + replicas],
      [S.afterGap, r.blocks.filter((b) => b.maxTime >= gapStoreFrom).length],
      // Ending a millisecond before B: exactly the blocks before B.
      [S.beforeEdge, r.blocks.filter((b) => b.maxTime <= boundary).length],
    ];
    for (const [store, n] of expectedLoaded) {
      const metrics = await new PromApiClient(r.t.url(store.ref)).metrics();
      expect(metricValue(metrics, 'thanos_bucket_store_blocks_loaded'), store.name).toBe(n);
      expect(r.stores[store.ref]!.loaded, store.name).toHaveLength(n);
    }

    // Each Store's range: its loaded blocks' range, clipped to its bounds.
    const expectedRange: Record<string, { minTime: number; maxTime: number }> = {
      [S.unbounded.ref]: { minTime: oldestSample(r), maxTime: newestBlockEnd(r) },
      [S.before.ref]: { minTime: oldestSample(r), maxTime: boundary },
      [S.after.ref]: { minTime: boundary, maxTime: newestBlockEnd(r) },
      [S.afterGap.ref]: { minTime: gapStoreFrom, maxTime: newestBlockEnd(r) },
      [S.beforeEdge.ref]: { minTime: oldestSample(r), maxTime: boundary - 1 },
    };
    for (const role of SLICINGS) {
      const { query, stores } = preset.slicings[role];
      expect(await shownRanges(r, role), `${query.ref}'s Stores page`).toEqual(Object.fromEntries(stores.map((s) => [s.ref, expectedRange[s.ref]])));
      for (const s of stores) expect(r.stores[s.ref]!.advertised, `the model of ${s.name}`).toEqual(expectedRange[s.ref]);
    }
  });

  it('fixed: split at a block boundary, the two Stores answer exactly what one unbounded Store does, point by point', async () => {
    const r = run();
    const { boundary } = splitPoints(r);
    const n = r.t.workload.workload.seriesCount;
    const points = gridPoints(r.window.start, r.window.end, r.window.step).length;
    const figures: Record<string, number | string> = {};
    for (const dedup of [true, false]) {
      const [unsplit, split] = [await rangeQuery(r, 'unsplit', dedup), await rangeQuery(r, 'split', dedup)];
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
    const shown = await shownRanges(r, 'split');
    recordFinding({
      finding: 'G',
      scenario: SCENARIO,
      topology: where('split'),
      substrate: r.t.substrate,
      configuration: 'fixed',
      observed:
        `Stores split at the block boundary ${iso(boundary)} (--max-time / --min-time there) answer ${figures.pointsCompared} points ` +
        `identical to one unbounded Store's, with and without dedup; each loads the boundary's neighbour block too`,
      figures: {
        ...figures,
        boundary: iso(boundary),
        window: `${iso(r.window.start)}..${iso(r.window.end)}`,
        storeBeforeShown: shownText(shown[S.before.ref]),
        storeAfterShown: shownText(shown[S.after.ref]),
        storeBeforeBlocks: metricValue(await new PromApiClient(r.t.url(S.before.ref)).metrics(), 'thanos_bucket_store_blocks_loaded')!,
        storeAfterBlocks: metricValue(await new PromApiClient(r.t.url(S.after.ref)).metrics(), 'thanos_bucket_store_blocks_loaded')!,
        blocksInBucket: r.blocks.length,
      },
      plots: [partitionsPlot(r, `Stores page of ${preset.slicings.split.query.name}: each Store's min/max time, split at B = ${iso(boundary)}, next to the range query`, shown, preset.slicings.split.stores.map((s) => s.ref))],
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
  const { query, stores } = preset.slicings[role];
  const [lower, upper] = stores.map((s) => r.stores[s.ref]!);
  const { analysis } = await rangeQuery(r, role, true);
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
  log(`[${where(role)}] ${analysis.description}`);

  const shown = await shownRanges(r, role);
  const flags = (ref: string) => {
    const c = stores.find((x) => x.ref === ref)!.spec;
    return [c.minTime && `--min-time=${c.minTime}`, c.maxTime && `--max-time=${c.maxTime}`].filter(Boolean).join(' ');
  };
  const observed = analysis.series[0]!.missing[0]!;
  recordFinding({
    finding: 'G',
    scenario: SCENARIO,
    topology: where(role),
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
      partitionsPlot(r, `Stores page of ${query.name}: each Store's min/max time next to the range query, with the gap every series has`, shown, [lower!.ref, upper!.ref], [
        { label: `missing ${observed.points} points`, from: observed.startMs, to: observed.endMs },
      ]),
    ],
  });
  return { gap, hole };
}
