// `npm run bench -- --scale [--series 1k,10k,100k,1M]` (`--exporter`: the exporter's figures only):
// parses the arguments, runs the sweep, prints
// its table's file and what each point came to. Bad input: one line, exit 2, nothing started.
import { parseArgs } from 'node:util';
import { resolveAll } from '../binaries/provision.ts';
import { writeSummary } from '../report/summary.ts';
import { benchExporter, describeExporterFigures } from './exporter-bench.ts';
import { DEFAULT_POINTS, parsePoints } from './plan.ts';
import { runSweep } from './sweep.ts';

const log = (line: string) => process.stderr.write(`${line}\n`);

export async function runScaleBench(argv: string[]): Promise<number> {
  let points: number[];
  let exporterOnly = false;
  try {
    const { values } = parseArgs({ args: argv, options: { scale: { type: 'boolean' }, exporter: { type: 'boolean' }, series: { type: 'string' } }, strict: true });
    points = values.series === undefined ? DEFAULT_POINTS : parsePoints(values.series);
    exporterOnly = values.exporter === true;
  } catch (err) {
    log(`thanos-ha-e2e bench --scale: ${(err as Error).message}`);
    return 2;
  }
  // The exporter first, on its own: cheap, and what every point's scrapes depend on.
  log('the workload exporter, one scrape at each point:');
  for (const line of describeExporterFigures(await benchExporter(points))) log(line);
  if (exporterOnly) return 0;
  await resolveAll({ onProgress: log });
  const started = Date.now();
  const { dir, results } = await runSweep({ points, onProgress: log });
  for (const p of results.points) log(`  ${p.series.toLocaleString('en').padStart(9)} series: ${p.status}${p.reason ? ` (${p.reason})` : ''}`);
  log(`scale sweep done in ${((Date.now() - started) / 60_000).toFixed(1)} min: ${dir}/index.html (reports/scale-latest)`);
  // summary.md's trade-offs at scale come from the newest sweep: rewritten now, next to the last run's findings.
  log(`summary with the largest point's trade-offs: ${writeSummary().path}`);
  return results.points.some((p) => p.status === 'failed') ? 1 : 0;
}
