// `npm run bench -- --exporter [--series 10k,100k,1M]`: how long the workload exporter takes to serve
// one scrape at each series count, in the harness servers' worker as a run uses it, and how big the
// scrape is. Issue 18 asks that 100k series be served comfortably inside the 15 s scrape interval.
// No binaries: the exporter alone, scraped over HTTP from this process.
import { HarnessServers } from '../servers/index.ts';
import { workloadOf } from '../workload/series.ts';
import { percentile } from './report.ts';

export interface ExporterFigure {
  series: number;
  /** Wall time of each scrape, from request to the last byte. */
  scrapeMs: number[];
  bytes: number;
}

export async function benchExporter(points: number[], scrapes = 5): Promise<ExporterFigure[]> {
  const figures: ExporterFigure[] = [];
  for (const series of points) {
    await using servers = await HarnessServers.start();
    const exporter = await servers.startExporter({ workload: workloadOf({ grid: '15s', workload: { series, shape: 'cluster', namespaces: 10, containersPerPod: 2 } }) });
    await exporter.arm(Math.floor(Date.now() / 15_000) * 15_000 - 15_000);
    const scrapeMs: number[] = [];
    let bytes = 0;
    for (let k = 0; k < scrapes; k++) {
      const started = performance.now();
      const body = await (await fetch(`${exporter.url}/metrics`, { signal: AbortSignal.timeout(60_000) })).arrayBuffer();
      scrapeMs.push(+(performance.now() - started).toFixed(1));
      bytes = body.byteLength;
    }
    figures.push({ series, scrapeMs, bytes });
  }
  return figures;
}

export function describeExporterFigures(figures: ExporterFigure[]): string[] {
  return figures.map(
    (f) =>
      `  ${f.series.toLocaleString('en').padStart(9)} series: ${(f.bytes / 2 ** 20).toFixed(1)} MiB a scrape, median ${percentile(f.scrapeMs, 50)} ms, slowest ${Math.max(...f.scrapeMs)} ms (the first renders the label text once)`,
  );
}
