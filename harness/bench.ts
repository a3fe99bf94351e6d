// npm run bench: the figures behind the README's performance section. Not a test: nothing here
// passes or fails on a number. Writes reports/bench.json.
//   npm run bench                 Arch 1 timings and memory, Arch 2/3 and jitter bring-up,
//                                 binaries as they resolve (cache)
//   npm run bench -- --builds     also time a fresh build of each binary into a scratch cache
//   npm run bench -- --suite [files]  instead: each e2e scenario file's wall time (harness/bench-suite.ts)
//   npm run bench -- --scale [--series 1k,10k,100k,1M] [--churn 10%/10m]  instead: the architectures' costs as curves
//                                 (harness/scale/), reports/scale-<id>/; --exporter: the exporter's scrape only
//   npm run bench -- --ceiling [--ceiling-step-seconds N] [--ceiling-rigs receive,receive-rf3,prometheus]
//                                 instead: the highest sample rate Receive (alone, and 3 with replication
//                                 factor 3) and one scraping Prometheus take (harness/scale/ceiling.ts),
//                                 reports/ceiling-<id>/
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envVarName, resolveBinary } from './binaries/provision.ts';
import { BINARY_NAMES } from './binaries/names.ts';
import { prepareArch1, queryPathOf, rangeAnalysis } from './steps/arch1.ts';
import { readBench } from './bench-suite.ts';
import { REPORTS_DIR } from './report/paths.ts';
import { processesOfRun } from './substrates/process/janitor.ts';
import { processSubstrate } from './substrates/process/index.ts';
import { arch1 } from './presets/arch1.ts';
import { arch2 } from './presets/arch2.ts';
import { arch3 } from './presets/arch3.ts';
import { receiveJitter } from './presets/receive-jitter.ts';

if (process.argv.includes('--ceiling')) {
  const { runCeilingBench } = await import('./scale/ceiling-run.ts');
  process.exit(await runCeilingBench(process.argv.slice(2)));
}

if (process.argv.includes('--scale') || process.argv.includes('--exporter')) {
  const { runScaleBench } = await import('./scale/cli.ts');
  process.exit(await runScaleBench(process.argv.slice(2)));
}

if (process.argv.includes('--suite')) {
  const { benchSuite } = await import('./bench-suite.ts');
  process.exit(await benchSuite(process.argv.slice(process.argv.indexOf('--suite') + 1)));
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const seconds = (ms: number) => +(ms / 1000).toFixed(1);
const figures: Record<string, unknown> = { date: new Date().toISOString(), node: process.version };

// 1. Provisioning.
const provisioning: Record<string, { seconds: number; source: string }> = {};
const scratch = process.argv.includes('--builds') ? mkdtempSync(join(tmpdir(), 'thanos-ha-e2e-bench-cache-')) : undefined;
for (const name of BINARY_NAMES) {
  const started = Date.now();
  const env = scratch ? { ...process.env, THANOS_HA_E2E_CACHE: scratch, [envVarName(name)]: undefined } : process.env;
  const resolved = await resolveBinary(name, { env, onProgress: log });
  provisioning[name] = { seconds: seconds(Date.now() - started), source: resolved.source };
}
if (scratch) rmSync(scratch, { recursive: true, force: true });
figures.provisioning = provisioning;

// 2. Arch 1 (fixed), sampling the summed RSS of the topology's processes every 500 ms.
const rssOfRun = (runDir: string): number =>
  processesOfRun(runDir).reduce((sum, pid) => {
    try {
      const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return sum + (kb ? Number(kb[1]) * 1024 : 0);
    } catch {
      return sum;
    }
  }, 0);

const started = Date.now();
const preset = arch1('store-and-sidecar');
await using t = await processSubstrate.up(preset.topology, { onProgress: log });
const bringUpMs = Date.now() - started;
let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssOfRun(t.runDir))), 500);
try {
  const run = await prepareArch1(t, { ...preset, queries: [preset.paths.storeAndSidecar.query] }, log);
  const analysis = await rangeAnalysis(run, queryPathOf(t, preset.paths.storeAndSidecar), true);
  const completeAt = Date.now() - started;
  if (!analysis.summary.ok) log(`warning: the answer was not complete: ${analysis.description}`);
  peakRss = Math.max(peakRss, rssOfRun(t.runDir));
  figures.arch1 = {
    bringUpSeconds: seconds(bringUpMs),
    firstUploadedBlockSeconds: run.workload.timings.firstUploadMs === undefined ? null : seconds(bringUpMs + run.workload.timings.firstUploadMs),
    backfillWriteSeconds: seconds(run.workload.timings.backfillMs),
    firstCompleteBoundaryAnswerSeconds: seconds(completeAt),
    answerComplete: analysis.summary.ok,
    processes: t.plan.processes.length,
    peakRssMiB: Math.round(peakRss / 2 ** 20),
  };
} finally {
  clearInterval(sampler);
}
await t.close();
(figures.arch1 as Record<string, unknown>).scenarioWallSeconds = seconds(Date.now() - started);

// 3. Bring-up (start until every component is ready) of the other architectures.
const bringUp: Record<string, number> = {};
for (const topology of [arch2('all-replica-labels').topology, arch3().topology, receiveJitter('standalone-behind-service').topology]) {
  const t0 = Date.now();
  const running = await processSubstrate.up(topology, { onProgress: log });
  bringUp[topology.name] = seconds(Date.now() - t0);
  await running.close();
}
figures.bringUpSeconds = bringUp;

// Keep what the suite mode wrote ("suite"): the two modes measure different things.
const benchFile = join(REPORTS_DIR, 'bench.json');
writeFileSync(benchFile, JSON.stringify({ ...readBench(benchFile), ...figures }, null, 2));
console.log(JSON.stringify(figures, null, 2));
