// `npm run bench -- --ceiling [--ceiling-step-seconds N] [--ceiling-rigs receive,receive-rf3,prometheus]`:
// the ingest ceiling (ceiling.ts). Runs the rigs one after another, each brought up, stepped to its
// limit and torn down before the next, so no two share the machine; writes reports/ceiling-<id>/
// (results.json and index.html, after every step, so a run stopped half-way keeps what it measured)
// and points reports/ceiling-latest at it. Bad input: one line naming the fix, exit 2, nothing started.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { resolveAll } from '../binaries/provision.ts';
import { REPORTS_DIR } from '../report/paths.ts';
import { effectiveVersionNames, pointLink, runIdOf } from '../report/run-report.ts';
import { currentSubstrate } from '../substrates/index.ts';
import { describeCeiling, parseCeilingArgs, RIG_TITLES, type CeilingOptions } from './ceiling.ts';
import { runReceiveRig } from './ceiling-receive.ts';
import { describeRatio, renderCeilingHtml, rigResult, type CeilingResults } from './ceiling-report.ts';
import { runScrapeRig } from './ceiling-scrape.ts';

const log = (line: string) => process.stderr.write(`${line}\n`);

function commitOf(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: new URL('../..', import.meta.url), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

export async function runCeilingBench(argv: string[], reports = REPORTS_DIR): Promise<number> {
  let options: CeilingOptions;
  try {
    options = parseCeilingArgs(argv);
    // The scrape rig rewrites Prometheus' config file on this machine, and the figure is this machine's.
    const { name, local } = currentSubstrate();
    if (!local) throw new Error(`THANOS_HA_E2E_SUBSTRATE=${name}: the ceiling is measured on the process substrate only; unset the variable`);
  } catch (err) {
    log(`thanos-ha-e2e bench --ceiling: ${(err as Error).message}`);
    return 2;
  }
  await resolveAll({ onProgress: log });
  const substrate = currentSubstrate();
  const started = new Date();
  const results: CeilingResults = {
    id: runIdOf(started),
    startedAt: started.toISOString(),
    finishedAt: '',
    commit: commitOf(),
    substrate: substrate.name,
    machine: { cores: cpus().length, memoryBytes: totalmem(), cpu: cpus()[0]?.model ?? 'unknown' },
    versions: effectiveVersionNames(),
    stepSeconds: options.stepSeconds,
    rigs: {},
  };
  const dir = join(reports, `ceiling-${results.id}`);
  const save = () => {
    results.finishedAt = new Date().toISOString();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'results.json'), JSON.stringify(results, null, 2));
    writeFileSync(join(dir, 'index.html'), renderCeilingHtml(results));
    pointLink(reports, 'ceiling-latest', `ceiling-${results.id}`);
  };
  // Ctrl-C tears the running rig down (substrates/teardown.ts); no further step or rig starts after it.
  let signalled: string | undefined;
  const onSignal = (signal: string) => (signalled = `stopped by ${signal}`);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  log(`ingest ceiling: ${options.rigs.map((r) => RIG_TITLES[r]).join('; ')}; each step held ${options.stepSeconds} s`);
  for (const rig of options.rigs) {
    if (signalled) break;
    const common = { stepSeconds: options.stepSeconds, onProgress: log, signalled: () => signalled, logsDir: join(dir, 'logs', rig) };
    const run =
      rig === 'prometheus'
        ? await runScrapeRig(substrate, { ...common, onStep: (r) => ((results.rigs[rig] = rigResult(rig, r)), save()) })
        : await runReceiveRig(rig, substrate, { ...common, onStep: (r) => ((results.rigs[rig] = rigResult(rig, r)), save()) });
    results.rigs[rig] = rigResult(rig, run);
    save();
  }
  for (const [rig, x] of Object.entries(results.rigs)) log(`  ${RIG_TITLES[rig as keyof typeof RIG_TITLES]}: ${describeCeiling(x.ceiling)}; stopped by ${x.ceiling.stoppedBy}`);
  for (const rig of ['receive', 'receive-rf3'] as const) {
    if (results.rigs[rig] && results.rigs.prometheus) log(`  ${RIG_TITLES[rig]} / Prometheus' scrape ceiling: ${describeRatio(results.rigs[rig].ceiling, results.rigs.prometheus.ceiling)}`);
  }
  log(`ingest ceiling done in ${((Date.now() - started.getTime()) / 60_000).toFixed(1)} min: ${dir}/index.html (reports/ceiling-latest)`);
  return Object.values(results.rigs).some((x) => x.run.stopped) ? 1 : 0;
}
