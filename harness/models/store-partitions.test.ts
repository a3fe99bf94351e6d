import { describe, expect, it } from 'vitest';
import { fakeAddressing as addressing } from '../plan/fake-addressing.ts';
import { planTopology } from '../plan/index.ts';
import type { BlockMeta } from '../s3/bucket.ts';
import { validateTopology, type Store, type TopologyInput } from '../topology/model.ts';
import { partitionBoundary, PARTITION_GAP, storePartitions, type Slicing } from '../presets/store-partitions.ts';
import { alignDown, durationMs, HOUR_MS } from '../time.ts';
import { planHistory } from './prometheus-tsdb.ts';
import { advertisedRange, blocksLoaded, boundsOf, unservedRanges, type StoreBounds } from './store-partitions.ts';

const STEP = 15_000;
const BLOCK = 2 * HOUR_MS;
const MIN = 60_000;
const NOW = Date.UTC(2026, 11, 2, 4, 37, 12);
const block = (minTime: number, maxTime: number): BlockMeta => ({ ulid: `${minTime}-${maxTime}`, minTime, maxTime, compaction: { level: 1 }, thanos: { labels: {}, source: 'sidecar' } });
const unbounded: StoreBounds = { minTime: -Infinity, maxTime: Infinity };

/** The blocks populateWorkload's history (6h10m, 15s, 2h blocks, 4h retention) leaves in the bucket, written at nowMs. */
function historyBlocks(nowMs: number): BlockMeta[] {
  const plan = planHistory({ fromMs: alignDown(nowMs - 6 * HOUR_MS - 10 * MIN, STEP), toMs: alignDown(nowMs, STEP), stepMs: STEP, blockMs: BLOCK, retentionMs: 4 * HOUR_MS });
  return plan.blocks.map((b) => block(b.minTime, b.maxTime));
}

describe('the Stores of storePartitions().topology', () => {
  const preset = storePartitions(NOW);
  const { topology } = preset;
  const stores = topology.components.filter((c): c is Store => c.kind === 'store');
  const boundary = partitionBoundary(NOW, BLOCK);

  it('splits at a block boundary 3-5h before now, with absolute RFC 3339 bounds', () => {
    expect(new Date(boundary).toISOString()).toBe('2026-12-02T00:00:00.000Z');
    expect(Object.fromEntries(stores.map((s) => [s.name, [s.minTime, s.maxTime]]))).toEqual({
      store: [undefined, undefined],
      'store-before': [undefined, '2026-12-02T00:00:00Z'],
      'store-after': ['2026-12-02T00:00:00Z', undefined],
      'store-after-gap': ['2026-12-02T01:00:00Z', undefined],
      'store-before-edge': [undefined, '2026-12-01T23:59:59.999Z'],
    });
  });

  it('gives each Store its bounds as --min-time/--max-time and no other Store any', () => {
    const plan = planTopology(topology, addressing);
    const boundFlags = (name: string) => plan.processes.find((p) => p.id === `observer/${name}`)!.args.filter((a) => /^--(min|max)-time=/.test(a));
    expect(boundFlags('store')).toEqual([]);
    expect(boundFlags('store-before')).toEqual(['--max-time=2026-12-02T00:00:00Z']);
    expect(boundFlags('store-after')).toEqual(['--min-time=2026-12-02T00:00:00Z']);
    expect(boundFlags('store-after-gap')).toEqual(['--min-time=2026-12-02T01:00:00Z']);
    expect(boundFlags('store-before-edge')).toEqual(['--max-time=2026-12-01T23:59:59.999Z']);
  });

  it('wires each Query to its Stores only, none to a sidecar', () => {
    for (const { query, stores: slice } of Object.values(preset.slicings)) {
      const q = topology.components.find((c) => c.name === query.name);
      expect(q?.kind === 'query' && q.endpoints).toEqual(slice.map((s) => s.ref));
    }
  });

  it('keeps the boundary between two shipped blocks, and the hole inside the newer one, whenever the history is written (up to 30 min after the topology is built)', () => {
    for (let now = NOW; now < NOW + 2 * 24 * HOUR_MS; now += 7 * MIN + 3_000) {
      const b = partitionBoundary(now, BLOCK);
      expect(b % BLOCK).toBe(0);
      for (const delay of [0, 10_000, 30 * MIN]) {
        const blocks = historyBlocks(now + delay);
        expect(blocks.some((x) => x.maxTime === b), `a block ends at B (now ${new Date(now).toISOString()} + ${delay} ms)`).toBe(true);
        expect(blocks.some((x) => x.minTime === b && x.maxTime === b + BLOCK), `a whole block starts at B (now ${new Date(now).toISOString()} + ${delay} ms)`).toBe(true);
      }
    }
  });

  it('leaves no point unserved split at B; with the hole, the half hour before B + 1h (the Store ending at B serves its whole chunk starting at B), or the whole hour under B - 1ms', () => {
    const blocks = historyBlocks(NOW + 10_000);
    const byName = Object.fromEntries(stores.map((s) => [s.name, boundsOf(s)]));
    const window = { fromMs: blocks[0]!.minTime, toMs: blocks.at(-1)!.maxTime - STEP, stepMs: STEP, blockMs: BLOCK };
    const unserved = (role: Slicing) => unservedRanges(preset.slicings[role].stores.map((s) => byName[s.name]!), blocks, window);
    expect(unserved('unsplit')).toEqual([]);
    expect(unserved('split')).toEqual([]);
    const gapEnd = boundary + durationMs(PARTITION_GAP);
    expect(unserved('gap')).toEqual([{ startMs: boundary + 30 * MIN, endMs: gapEnd - STEP, points: 120 }]);
    expect(unserved('wholeGap')).toEqual([{ startMs: boundary, endMs: gapEnd - STEP, points: 240 }]);
  });
});

describe('what a bounded Store loads and advertises (Thanos v0.42.4)', () => {
  // Upstream's TestTimePartitionMetaFilter_Filter: bounds [1, 10].
  const bounds: StoreBounds = { minTime: 1, maxTime: 10 };
  const blocks = [block(0, 1), block(1, 10), block(2, 30), block(0, 30), block(-1, 0), block(20, 30)];

  it('loads every block that overlaps the bounds, comparing its exclusive maxTime inclusively', () => {
    expect(blocksLoaded(bounds, blocks).map((b) => b.ulid)).toEqual(['0-1', '1-10', '2-30', '0-30']);
    expect(blocksLoaded(unbounded, blocks)).toHaveLength(blocks.length);
  });

  it("advertises its loaded blocks' range clipped to the bounds", () => {
    expect(advertisedRange(bounds, blocksLoaded(bounds, blocks))).toEqual({ minTime: 1, maxTime: 10 });
    expect(advertisedRange({ minTime: 5, maxTime: Infinity }, [block(0, 30)])).toEqual({ minTime: 5, maxTime: 30 });
    expect(advertisedRange(unbounded, [block(2, 8), block(8, 20)])).toEqual({ minTime: 2, maxTime: 20 });
    expect(() => advertisedRange(bounds, [])).toThrow('no blocks');
  });

  it('serves whole chunks: up to the end of the chunk starting at its maxTime, from the start of the chunk holding its minTime', () => {
    const B = Date.UTC(2026, 11, 2, 4);
    const twoBlocks = [block(B - BLOCK, B), block(B, B + BLOCK)];
    const window = { fromMs: B - BLOCK, toMs: B + BLOCK - STEP, stepMs: STEP, blockMs: BLOCK };
    // Ends at B: the chunk [B, B+30m) comes back entire; starts at B+40m: from the chunk starting at B+30m.
    expect(unservedRanges([{ minTime: -Infinity, maxTime: B }, { minTime: B + 40 * MIN, maxTime: Infinity }], twoBlocks, window)).toEqual([]);
    // Ends a millisecond before B: the block starting at B is not even loaded.
    expect(unservedRanges([{ minTime: -Infinity, maxTime: B - 1 }, { minTime: B + HOUR_MS, maxTime: Infinity }], twoBlocks, window)).toEqual([
      { startMs: B, endMs: B + HOUR_MS - STEP, points: 240 },
    ]);
  });
});

describe('Store bounds in the topology model', () => {
  const withStore = (bounds: { minTime?: string; maxTime?: string }): TopologyInput => ({
    name: 't',
    description: '',
    clusters: [{ name: 'observer', role: 'observer' }],
    components: [{ kind: 'store', name: 'store', cluster: 'observer', bucketPrefix: 'observee', ...bounds }],
  });

  it('takes RFC 3339 times and durations relative to now as Thanos parses them', () => {
    for (const t of ['2026-12-02T04:00:00Z', '2026-12-02T04:00:00.500Z', '2026-12-02T06:00:00+02:00', '-6h', '-2h45m', '-1d', '-1w2d', '30s', '-500ms'])
      expect(() => validateTopology(withStore({ minTime: t })), t).not.toThrow();
    for (const t of ['-45m2h', '2h2h', '-6', 'yesterday', '2026-12-02 04:00:00Z', '-'])
      expect(() => validateTopology(withStore({ maxTime: t })), t).toThrow('components.0.maxTime must be an RFC 3339 time');
  });

  it('refuses a minTime after the maxTime, as Thanos does, and accepts equal ones', () => {
    expect(() => validateTopology(withStore({ minTime: '2026-12-02T04:00:00Z', maxTime: '2026-12-02T02:00:00Z' }))).toThrow(
      'invalid topology "t": components.0.maxTime 2026-12-02T02:00:00Z is before minTime 2026-12-02T04:00:00Z: swap them, or move one',
    );
    expect(() => validateTopology(withStore({ minTime: '2026-12-02T04:00:00Z', maxTime: '2026-12-02T04:00:00Z' }))).not.toThrow();
  });

  it('models only absolute bounds', () => {
    const store = validateTopology(withStore({ minTime: '-6h' })).components[0] as Store;
    expect(() => boundsOf(store)).toThrow('store "observer/store": minTime -6h is relative to now; the model needs an RFC 3339 time');
    expect(boundsOf(validateTopology(withStore({ maxTime: '2026-12-02T04:00:00Z' })).components[0] as Store)).toEqual({ minTime: -Infinity, maxTime: Date.UTC(2026, 11, 2, 4) });
  });
});
