import { describe, expect, it } from 'vitest';
import { HOUR_MS } from '../time.ts';
import { modelCompactorIteration, planGroup, RESOLUTION_5M_MS, type ModelBlock } from './compaction.ts';

const H = HOUR_MS;
// A day boundary, so that 2h and 8h ranges are aligned at T.
const T = Date.UTC(2026, 11, 2);
const labels = (replica?: string) => ({ cluster: 'observee', ...(replica ? { prometheus_replica: replica } : {}) });
let next = 0;
const block = (minTime: number, maxTime: number, l: Record<string, string>, resolution = 0): ModelBlock => ({ minTime, maxTime, labels: l, resolution, sources: [`b${next++}`] });
/** What Prometheus cuts from 5h of history starting at 00:50: [00:50, 02:00) and [02:00, 04:00). */
const haPair = (replicaLabel: boolean) =>
  ['prometheus-0', 'prometheus-1'].flatMap((r) => [block(T + 50 * 60_000, T + 2 * H, labels(replicaLabel ? r : undefined)), block(T + 2 * H, T + 4 * H, labels(replicaLabel ? r : undefined))]);
const ranges = (blocks: ModelBlock[]) => blocks.map((b) => [(b.minTime - T) / 60_000, (b.maxTime - T) / 60_000]);

describe('model of a Compactor iteration', () => {
  it("merges an HA pair's copies of each time range into one block without the replica label", () => {
    const out = modelCompactorIteration(haPair(true), { replicaLabels: ['prometheus_replica'], downsampling: true, verticalCompaction: false });
    expect(out.halted).toBeUndefined();
    expect(ranges(out.blocks)).toEqual([
      [50, 120],
      [120, 240],
    ]);
    expect(out.blocks.every((b) => JSON.stringify(b.labels) === JSON.stringify(labels()))).toBe(true);
    expect(out).toMatchObject({ compactions: 2, verticalCompactions: 2, deleted: 4, downsampled: 0 });
  });

  it('halts on the first group whose blocks overlap when no replica label turns vertical compaction on', () => {
    const input = haPair(false);
    const out = modelCompactorIteration(input, { replicaLabels: [], downsampling: true, verticalCompaction: false });
    expect(out.halted).toContain('"cluster","observee"');
    expect(out).toMatchObject({ compactions: 0, verticalCompactions: 0, deleted: 0 });
    expect(out.blocks).toHaveLength(input.length);
  });

  it('leaves distinct replicas alone without deduplication: two groups, nothing to compact yet', () => {
    const out = modelCompactorIteration(haPair(true), { replicaLabels: [], downsampling: true, verticalCompaction: false });
    expect(out.halted).toBeUndefined();
    expect(out).toMatchObject({ compactions: 0, verticalCompactions: 0, deleted: 0 });
    expect(out.blocks).toHaveLength(4);
  });

  it("halts on a Receive's out-of-order block over a minute it also shipped in order, unless vertical compaction is on", () => {
    // 1m blocks as the backlog preset's Receive cuts them, and one its out-of-order head cut over the second minute.
    const M = 60_000;
    const receive = { receive_replica: 'receive', tenant_id: 'default-tenant' };
    const input = [0, 1, 2, 3].map((m) => block(T + m * M, T + (m + 1) * M, receive));
    const ooo = block(T + M, T + 2 * M, receive);
    expect(modelCompactorIteration([...input, ooo], { replicaLabels: [], downsampling: true, verticalCompaction: false }).halted).toBeDefined();
    const out = modelCompactorIteration([...input, ooo], { replicaLabels: [], downsampling: true, verticalCompaction: true });
    expect(out.halted).toBeUndefined();
    // The overlapping pair is merged; 1m blocks inside one 2h range are left as they are.
    expect(out).toMatchObject({ compactions: 1, verticalCompactions: 1, deleted: 2 });
    expect(ranges(out.blocks)).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 4],
    ]);
    expect(out.blocks[1]!.sources).toEqual([input[1]!.sources[0], ooo.sources[0]].sort());
  });

  it('compacts four 2h blocks that fill an 8h range once a newer block exists, and not before', () => {
    const four = [0, 2, 4, 6].map((h) => block(T + h * H, T + (h + 2) * H, labels('a')));
    expect(planGroup(four)).toEqual([]); // the newest is left out: 6h of the 8h range, and none of it before the newest left
    const out = modelCompactorIteration([...four, block(T + 8 * H, T + 10 * H, labels('a'))], { replicaLabels: [], downsampling: false, verticalCompaction: false });
    expect(ranges(out.blocks)).toEqual([
      [0, 480],
      [480, 600],
    ]);
    expect(out).toMatchObject({ compactions: 1, verticalCompactions: 0, deleted: 4 });
  });

  it('downsamples a raw block of at least 40h to 5m, once, and a shorter one not at all', () => {
    const long = block(T, T + 48 * H + 1, labels('a'));
    const out = modelCompactorIteration([long, block(T + 60 * H, T + 99 * H, labels('b'))], { replicaLabels: [], downsampling: true, verticalCompaction: false });
    expect(out.downsampled).toBe(1);
    expect(out.blocks.filter((b) => b.resolution === RESOLUTION_5M_MS)).toEqual([{ ...long, resolution: RESOLUTION_5M_MS }]);
    const again = modelCompactorIteration(out.blocks, { replicaLabels: [], downsampling: true, verticalCompaction: false });
    expect(again.downsampled).toBe(0);
    expect(modelCompactorIteration([long], { replicaLabels: [], downsampling: false, verticalCompaction: false }).downsampled).toBe(0);
  });
});
