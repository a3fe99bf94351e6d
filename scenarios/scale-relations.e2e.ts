// The note's cost claims as relations that must hold at any size (issue 18, finding F): at each of a
// small sweep's points (1k and 5k series by default, THANOS_HA_E2E_SCALE_POINTS to change), from
// values measured on scaleSweep() (harness/scale/measure.ts):
//   - Arch 2 keeps every sample twice: its bucket bytes per series-hour are about twice Arch 1's;
//   - querying through Receive spares the observee: its Prometheus' CPU under the same query load is
//     lower via Receive than via the sidecars;
//   - the Compactor's vertical deduplication about halves the HA pair's bytes.
// No absolute number is asserted; the full sweep with its figures is `npm run bench -- --scale`.
// "About" is a stated band: the copies are the same samples, but blocks of different lengths and
// sources compress differently (measured here: see docs/scale.md).
import { describe, expect, it } from 'vitest';
import { recordFinding } from '../harness/report/findings.ts';
import { TRADE_OFFS } from '../harness/report/trade-offs.ts';
import { measurePoint, type PointBudget } from '../harness/scale/measure.ts';
import { parsePoints } from '../harness/scale/plan.ts';
import { log, useTopology } from '../harness/scenario.ts';
import { scaleSweep } from '../harness/presets/scale.ts';
import { withSeries } from '../harness/topology/series-override.ts';

const POINTS = parsePoints(process.env.THANOS_HA_E2E_SCALE_POINTS ?? '1k,5k');
/** Arch 2 / Arch 1 bucket bytes per series-hour: "about twice". */
const TWICE = { min: 1.5, max: 2.5 };
/** After / before the Compactor's vertical deduplication of the HA pair: "about half". */
const HALF = { min: 0.35, max: 0.65 };
/** Only what the relations need: the load, the bucket, the Compactor. Latency, freshness and Receive's ingest belong to the sweep. */
const CI_BUDGET: PointBudget = { loadQueries: 10, loadConcurrency: 2, latencyRequests: 0, freshnessProbes: 0, ingestWindowMs: 0 };

for (const series of POINTS) {
  describe(`At ${series.toLocaleString('en')} series, the note's cost claims hold (finding F)`, () => {
    const topology = withSeries(scaleSweep(), series);
    const measured = useTopology(topology, async (t) => ({ substrate: t.substrate, figures: await measurePoint(t, log, CI_BUDGET) }));
    const point = () => measured().figures;
    /** One record per relation: what was observed, its figures, and its cell of the trade-offs table. */
    const record = (observed: string, figures: Record<string, number>, tradeOff: { row: string; cells: Record<string, string> }) =>
      recordFinding({
        finding: 'F',
        scenario: 'scale-relations',
        topology: `${topology.name} at ${series} series`,
        substrate: measured().substrate,
        configuration: 'fixed',
        observed,
        figures: { series, ...figures },
        tradeOff: { row: `${tradeOff.row}, at ${series.toLocaleString('en')} series`, cells: tradeOff.cells },
      });

    it("stores about twice Arch 1's bytes per series-hour in Arch 2", () => {
      const { bucket, partial } = point();
      expect(partial).toEqual([]);
      const arch1 = bucket.sidecar.bytesPerSeriesHour;
      const arch2 = arch1 + bucket.receive.bytesPerSeriesHour;
      expect(arch1).toBeGreaterThan(0);
      const ratio = arch2 / arch1;
      expect(ratio).toBeGreaterThanOrEqual(TWICE.min);
      expect(ratio).toBeLessThanOrEqual(TWICE.max);
      record(
        `at ${series} series Arch 2 keeps ${ratio.toFixed(2)}x Arch 1's bucket bytes per series-hour (${arch2.toFixed(1)} against ${arch1})`,
        { arch1BytesPerSeriesHour: arch1, arch2BytesPerSeriesHour: +arch2.toFixed(2), arch3BytesPerSeriesHour: bucket.receive.bytesPerSeriesHour, ratio: +ratio.toFixed(3) },
        { row: `${TRADE_OFFS.bucketBytes}, per series-hour`, cells: { 'Arch 1': `${arch1} B`, 'Arch 2': `${arch2.toFixed(1)} B (${ratio.toFixed(2)}x)`, 'Arch 3': `${bucket.receive.bytesPerSeriesHour} B` } },
      );
    });

    it('costs the observee less CPU under the same query load via Receive than via the sidecars', () => {
      const { observee, partial } = point();
      expect(partial).toEqual([]);
      expect(observee.viaSidecar.queries).toBe(CI_BUDGET.loadQueries);
      expect(observee.viaReceive.queries).toBe(CI_BUDGET.loadQueries);
      expect(observee.viaReceive.cpuSeconds).toBeLessThan(observee.viaSidecar.cpuSeconds);
      record(
        `at ${series} series ${CI_BUDGET.loadQueries} queries cost the observee ${observee.viaSidecar.cpuSeconds} s CPU via Sidecar, ${observee.viaReceive.cpuSeconds} s via Receive`,
        { cpuViaSidecar: observee.viaSidecar.cpuSeconds, cpuViaReceive: observee.viaReceive.cpuSeconds },
        { row: TRADE_OFFS.observeeLoad, cells: { 'Arch 1': `${observee.viaSidecar.cpuSeconds} s CPU`, 'Arch 2': `${observee.viaReceive.cpuSeconds} s CPU (via Receive)` } },
      );
    });

    it("about halves the HA pair's bytes with the Compactor's vertical deduplication", () => {
      const { bucket } = point();
      expect(bucket.compactorHalted).toBe(false);
      const ratio = bucket.sidecarCompacted.bytes / bucket.sidecar.bytes;
      expect(ratio).toBeGreaterThanOrEqual(HALF.min);
      expect(ratio).toBeLessThanOrEqual(HALF.max);
      record(
        `at ${series} series the Compactor's deduplication keeps ${(ratio * 100).toFixed(0)}% of the HA pair's bytes (${bucket.sidecar.blocks} blocks, ${bucket.sidecar.bytes} B -> ${bucket.sidecarCompacted.blocks} blocks, ${bucket.sidecarCompacted.bytes} B)`,
        { bytesBefore: bucket.sidecar.bytes, bytesAfter: bucket.sidecarCompacted.bytes, blocksBefore: bucket.sidecar.blocks, blocksAfter: bucket.sidecarCompacted.blocks, ratio: +ratio.toFixed(3) },
        { row: TRADE_OFFS.compactorSaving, cells: { 'Arch 1': `${(ratio * 100).toFixed(0)}% of the bytes kept` } },
      );
    });
  });
}
