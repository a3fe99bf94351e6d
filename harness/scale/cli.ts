// `npm run bench -- --scale [--series 1k,10k,100k,1M] [--churn 10%/10m] [--force] [--resume <id>]` (`--exporter`: the
// exporter's figures only; --force: run a point the memory estimate would skip, watched; --resume: add
// the points to an earlier sweep's report):
// parses the arguments, runs the sweep, prints
// its table's file and what each point came to. Bad input: one line, exit 2, nothing started.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveAll } from '../binaries/provision.ts';
import { REPORTS_DIR } from '../report/paths.ts';
import { writeSummary } from '../report/summary.ts';
import type { SweepResults } from './report.ts';
import { benchExporter, describeExporterFigures } from './exporter-bench.ts';
import { DEFAULT_POINTS, parsePoints } from './plan.ts';
import { runSweep } from './sweep.ts';
import { churnText, parseChurn, type ChurnOption } from '../topology/series-override.ts';

const log = (line: string) => process.stderr.write(`${line}\n`);

/** A sweep's results by id ("2026-12-06T14-46-41Z") or directory; one line naming the fix if there is none. */
function readSweep(idOrDir: string): SweepResults {
  const file = join(existsSync(idOrDir) ? idOrDir : join(REPORTS_DIR, `scale-${idOrDir}`), 'results.json');
  if (!existsSync(file)) throw new Error(`--resume ${idOrDir}: no ${file}; give a sweep's id as in reports/scale-<id>/ or its directory`);
  return JSON.parse(readFileSync(file, 'utf8')) as SweepResults;
}

export async function runScaleBench(argv: string[]): Promise<number> {
  let points: number[];
  let exporterOnly = false;
  let force = false;
  let resume: SweepResults | undefined;
  let churn: ChurnOption | undefined;
  try {
    const { values } = parseArgs({
      args: argv,
      options: { scale: { type: 'boolean' }, exporter: { type: 'boolean' }, series: { type: 'string' }, churn: { type: 'string' }, force: { type: 'boolean' }, resume: { type: 'string' } },
      strict: true,
    });
    points = values.series === undefined ? DEFAULT_POINTS : parsePoints(values.series);
    exporterOnly = values.exporter === true;
    force = values.force === true;
    if (values.resume !== undefined) resume = readSweep(values.resume);
    if (values.churn !== undefined) churn = parseChurn(values.churn);
    if (resume && resume.churn !== (churn ? churnText(churn) : undefined)) {
      throw new Error(`--resume ${resume.id}: that sweep ran ${resume.churn ? `with --churn ${resume.churn}` : 'without churn'}; give the same, or start a new sweep`);
    }
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
  const { dir, results } = await runSweep({ points, force, resume, churn, onProgress: log });
  for (const p of results.points) log(`  ${p.series.toLocaleString('en').padStart(9)} series: ${p.status}${p.reason ? ` (${p.reason})` : ''}`);
  log(`scale sweep done in ${((Date.now() - started) / 60_000).toFixed(1)} min: ${dir}/index.html (reports/scale-latest)`);
  // summary.md's trade-offs at scale come from the newest sweep: rewritten now, next to the last run's findings.
  log(`summary with the largest point's trade-offs: ${writeSummary().path}`);
  return results.points.some((p) => p.status === 'failed') ? 1 : 0;
}
