// Days of workload history as TSDB blocks in seconds, without a Prometheus: the workload's samples
// as OpenMetrics text, turned into blocks by `promtool tsdb create-blocks-from openmetrics`.
//
// promtool cuts blocks at multiples of its block duration since the epoch: the largest of 2h * 3^k
// (2h, 6h, 18h, 54h, ...) not above --max-block-duration (cmd/promtool/backfill.go,
// getCompatibleBlockDuration). A window inside one 54h slot gives one block.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { resolveBinary } from '../binaries/provision.ts';
import { HOUR_MS, alignDown, gridPoints } from '../time.ts';
import { seriesLabels, valueAt, type Workload } from './series.ts';

/** The block duration promtool uses for --max-block-duration=54h. */
export const PROMTOOL_BLOCK_MS = 54 * HOUR_MS;
/** valueAt's period (1e6 s): a window crossing a multiple of it has a value that drops back to i*1e6. */
const VALUE_PERIOD_MS = 1_000_000_000;

/**
 * The newest window of lengthMs that promtool writes as one block (inside one PROMTOOL_BLOCK_MS
 * slot, from its start), ends before notAfterMs, and in which no workload value wraps (so an
 * average over part of it lies between its first and last value).
 */
export function oneBlockWindow(notAfterMs: number, lengthMs: number): { fromMs: number; toMs: number } {
  if (lengthMs >= PROMTOOL_BLOCK_MS) throw new Error(`a window of ${lengthMs / HOUR_MS}h does not fit in one ${PROMTOOL_BLOCK_MS / HOUR_MS}h promtool block`);
  for (let from = alignDown(notAfterMs - lengthMs, PROMTOOL_BLOCK_MS); ; from -= PROMTOOL_BLOCK_MS) {
    if (Math.floor(from / VALUE_PERIOD_MS) === Math.floor((from + lengthMs) / VALUE_PERIOD_MS)) return { fromMs: from, toMs: from + lengthMs };
  }
}

/** The workload's samples on its grid in [fromMs, toMs] as OpenMetrics text (timestamps in seconds), series by series. */
export function openMetricsHistory(w: Workload, fromMs: number, toMs: number): string {
  const points = gridPoints(fromMs, toMs, w.stepMs);
  const lines = [`# TYPE ${w.metric} gauge`];
  for (let i = 0; i < w.seriesCount; i++) {
    const { __name__: name, ...labels } = seriesLabels(w, i);
    const text = `${name}{${Object.entries(labels)
      .map(([k, v]) => `${k}="${v}"`)
      .join(',')}}`;
    for (const t of points) lines.push(`${text} ${valueAt(i, t)} ${t / 1000}`);
  }
  lines.push('# EOF', '');
  return lines.join('\n');
}

/** Writes the history into blocks under dir/blocks with promtool; returns the block directories. */
export async function promtoolBlocks(w: Workload, window: { fromMs: number; toMs: number }, dir: string): Promise<string[]> {
  const promtool = await resolveBinary('promtool');
  const input = join(dir, 'history.om.txt');
  const output = join(dir, 'blocks');
  await mkdir(output, { recursive: true });
  await writeFile(input, openMetricsHistory(w, window.fromMs, window.toMs));
  await execa(promtool.path, ['tsdb', 'create-blocks-from', 'openmetrics', `--max-block-duration=${PROMTOOL_BLOCK_MS / HOUR_MS}h`, '--quiet', input, output]);
  const entries = await readdir(output, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory() && /^[0-9A-HJKMNP-TV-Z]{26}$/.test(e.name)).map((e) => join(output, e.name));
}
