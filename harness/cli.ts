#!/usr/bin/env node
// thanos-ha-e2e: run the POC reproduction, bring a topology up by hand, or check the machine.
import { parseArgs } from 'node:util';
import { doctor, formatDoctorReport } from './binaries/doctor.ts';
import { resolveAll } from './binaries/provision.ts';
import { activeVersionOverrides } from './binaries/versions.ts';
import { writeSummary } from './report/summary.ts';
import { FINDINGS_DIR, REPORTS_DIR } from './report/paths.ts';
import { currentSubstrate, SUBSTRATES, substrateUnavailable } from './substrates/index.ts';
import { cleanAbandonedRuns } from './substrates/process/janitor.ts';
import { RUNS_BASE } from './substrates/process/index.ts';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { validateTopology, type Topology } from './topology/model.ts';
import { PRESETS, presetByName } from './presets/index.ts';
import { CHURN_VARIABLE, churnText, parseChurn, parseSeries, SERIES_VARIABLE, withSeries, type ChurnOption } from './topology/series-override.ts';
import { selectScenarioFiles } from './scenario-selection.ts';

const USAGE = `usage: thanos-ha-e2e <command> [options]

commands:
  run [--substrate S] [--series N [--churn F/P]] [finding|scenario...]
                                           provision binaries, run every scenario (the POC reproduction) or those of
                                           the findings/scenarios named (run A B), print the findings table and the report;
                                           --series N (10000, 10k, 1M): N workload series of a cluster's label shape in the
                                           scenarios that scale (Arch 1 so far); the others keep their own;
                                           --churn F/P (10%/10m): replace that share of the pods every period
  matrix [finding|scenario...]             run them once per version set (the note's, the previous minor, the pins:
                                           fixtures/versions.json) and write the findings x versions table
                                           into reports/matrix-latest/
  audit --query URL [--frontend URL] [--probe S] [--range D] [--tries K] ...
                                           read-only checks of a running Thanos Query, one per finding
                                           (audit --help); exit 0 clean, 1 a finding, 2 bad input
  up <preset|file.yaml> [--substrate S] [--keep] [--series N [--churn F/P]]
                                           bring a topology up and print its endpoints; Ctrl-C tears it down
  topologies                               list the preset topologies
  clean                                    kill what runs whose Node process died left behind, remove their dirs
  setup                                    provision every pinned binary (build from the Go module proxy if needed)
  doctor                                   show each binary, its version and where it comes from
  images [k3s]                             build the component images locally and look for the k3s image (Docker; not part of npm test)
  images kind                              the component images, and a kind node image: kindest/node pulled, or built here
  images kind-node                         build the kind node image from upstream parts (root; harness/images/kind-node)
  cluster up|down|status|smoke|load <tar> a local single-node Kubernetes cluster from upstream parts (root;
                                           kubeconfig in <cache>/cluster/kubeconfig; not part of npm test)

substrates: ${SUBSTRATES.join(', ')} (default: process, or THANOS_HA_E2E_SUBSTRATE)`;

function topologyFromFile(path: string): Topology {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    fail(`cannot read topology file ${path}`);
  }
  return validateTopology(parse(text));
}

const log = (line: string) => process.stderr.write(`${line}\n`);

function fail(message: string): never {
  log(`thanos-ha-e2e: ${message}`);
  process.exit(2);
}

/**
 * A `run` started by `matrix` (THANOS_HA_E2E_PARENT_PID) tears down and ends when the matrix process
 * is gone, however it went (SIGKILL included): the matrix runs it in a process group of its own.
 */
function stopWithParent(): void {
  const parent = Number(process.env.THANOS_HA_E2E_PARENT_PID);
  if (!parent) return;
  const watch = setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch {
      clearInterval(watch);
      log(`thanos-ha-e2e: the matrix process ${parent} is gone: stopping this run`);
      process.kill(process.pid, 'SIGTERM');
    }
  }, 1_000);
  watch.unref();
}

async function main(argv: string[]): Promise<number> {
  // audit has options of its own (harness/audit/run.ts), and touches no substrate.
  if (argv[0] === 'audit') return audit(argv.slice(1));
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      substrate: { type: 'string' },
      keep: { type: 'boolean', default: false },
      series: { type: 'string' },
      churn: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  if (values.substrate) {
    if (!SUBSTRATES.includes(values.substrate as never)) fail(`unknown substrate "${values.substrate}": choose one of ${SUBSTRATES.join(', ')}`);
    process.env.THANOS_HA_E2E_SUBSTRATE = values.substrate;
  }

  // The workload's size (issue 18): the scenarios that scale take it from the environment, as vitest runs them.
  let series: number | undefined;
  if (values.series !== undefined) {
    if (command !== 'run' && command !== 'up') fail(`--series is for run and up (and npm run bench), not ${command}`);
    try {
      series = parseSeries(values.series);
    } catch (err) {
      fail((err as Error).message);
    }
    process.env[SERIES_VARIABLE] = String(series);
  }
  // Churn (pods replaced every period) needs the cluster shape that --series gives.
  let churn: ChurnOption | undefined;
  if (values.churn !== undefined) {
    if (command !== 'run' && command !== 'up') fail(`--churn is for run and up (and npm run bench -- --scale), not ${command}`);
    if (series === undefined) fail(`--churn ${values.churn} needs --series N too: churn replaces pods of the cluster shape that --series gives`);
    try {
      churn = parseChurn(values.churn);
    } catch (err) {
      fail((err as Error).message);
    }
    process.env[CHURN_VARIABLE] = churnText(churn);
  }

  switch (command) {
    case 'doctor': {
      const report = await doctor();
      console.log(formatDoctorReport(report));
      // The "pinned" column shows the version in effect; say where it differs from fixtures/versions.json.
      for (const o of activeVersionOverrides()) {
        console.log(`version override: ${o.binaries.join(', ')} ${o.version} from ${o.variable} (fixtures/versions.json pins ${o.pinned})`);
      }
      // Informational: only the process substrate is needed for npm test. Looks, pulls nothing.
      for (const name of SUBSTRATES) {
        const reason = await substrateUnavailable(name, process.env, { pull: false });
        console.log(`substrate ${name.padEnd(8)} ${reason ? `unavailable: ${reason}` : 'available'}`);
      }
      return report.ok ? 0 : 1;
    }
    case 'setup': {
      const started = Date.now();
      const resolved = await resolveAll({ onProgress: log });
      for (const b of resolved) log(`  ${b.name.padEnd(12)} ${b.version.padEnd(8)} ${b.source.padEnd(8)} ${b.path}`);
      log(`all ${resolved.length} binaries ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
      return 0;
    }
    case 'images': {
      const started = Date.now();
      if (rest[0] === 'kind-node') {
        const { buildKindNodeImage } = await import('./images/kind-node/index.ts');
        const image = await buildKindNodeImage({ onProgress: log });
        log(`${image.tag} ${image.rebuilt ? 'built' : 'up to date'} in ${((Date.now() - started) / 1000).toFixed(1)}s (${image.tarFile})`);
        return 0;
      }
      if (rest[0] !== undefined && rest[0] !== 'k3s' && rest[0] !== 'kind') fail(`unknown images target "${rest[0]}": use k3s (default), kind or kind-node`);
      const { buildImages } = await import('./images/index.ts');
      const result = await buildImages({ onProgress: log });
      log(`${result.images.length} images ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
      if (rest[0] === 'kind') {
        // The pinned kindest/node where the engine has it or a registry serves it; else built here.
        const { chooseNodeImage } = await import('./substrates/kind/node-image.ts');
        const found = await chooseNodeImage(process.env, { pull: true, onProgress: log });
        if (found.image) {
          log(`kind node image ${found.image} (${found.how})`);
          return 0;
        }
        log(`${found.why}: building it now`);
        const { buildKindNodeImage } = await import('./images/kind-node/index.ts');
        const image = await buildKindNodeImage({ onProgress: log });
        log(`kind node image ${image.tag} ${image.rebuilt ? 'built' : 'up to date'}; everything ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
        return 0;
      }
      if (!result.k3s.present) fail(result.k3s.reason);
      log(`k3s image ${result.k3s.image} is present`);
      return 0;
    }
    case 'cluster': {
      const { runClusterCommand } = await import('./local-cluster/cli.ts');
      return runClusterCommand(rest, log);
    }
    case 'clean': {
      const cleaned = cleanAbandonedRuns(RUNS_BASE);
      log(cleaned.length ? `cleaned ${cleaned.length} abandoned run(s): ${cleaned.join(', ')}` : `no abandoned runs under ${RUNS_BASE}`);
      // kind runs of this host whose process and reaper are gone (substrates/kind/janitor.ts); needs a Docker engine.
      const { cleanAbandonedKindRuns } = await import('./substrates/kind/janitor.ts');
      if ((await cleanAbandonedKindRuns(process.env, log)).length === 0) log('no abandoned kind runs of this host');
      if (process.env.THANOS_HA_E2E_KUBE_CONTEXTS) {
        // Namespaces of kube runs of this host whose process died (see substrates/kubernetes/janitor.ts).
        const { connectContexts, kubeSettings } = await import('./substrates/kube/index.ts');
        const { cleanAbandonedNamespaces } = await import('./substrates/kubernetes/janitor.ts');
        const dir = mkdtempSync(join(tmpdir(), 'thanos-ha-e2e-kubeconfig-'));
        try {
          for (const kube of new Set(Object.values(await connectContexts(kubeSettings().contexts, dir)))) {
            if ((await cleanAbandonedNamespaces(kube, log)).length === 0) log(`no abandoned namespaces of this host in context ${kube.context}`);
          }
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
      return 0;
    }
    case 'topologies': {
      for (const name of Object.keys(PRESETS)) console.log(`${name.padEnd(28)} ${presetByName(name).description}`);
      return 0;
    }
    case 'up': {
      const name = rest[0] ?? fail(`up needs a topology: a preset (${Object.keys(PRESETS).join(', ')}) or a YAML file`);
      const fromFile = /\.ya?ml$/.test(name);
      const declared = fromFile ? topologyFromFile(name) : presetByName(name);
      let topology = declared;
      try {
        if (series !== undefined) topology = withSeries(declared, series, churn);
      } catch (err) {
        fail((err as Error).message);
      }
      const started = Date.now();
      const running = await currentSubstrate().up(topology, { onProgress: log, keep: values.keep });
      // A preset goes on to its finding's state, by the shared steps its scenario runs too (steps/preparations.ts).
      const { PREPARATIONS } = await import('./steps/preparations.ts');
      const preparation = fromFile ? undefined : PREPARATIONS[topology.name];
      if (preparation) {
        log(`preparing ${topology.name}: ${preparation.state}`);
        await preparation.prepare(running, log);
      }
      const took = ((Date.now() - started) / 1000).toFixed(1);
      console.log(`${topology.name} is up (${running.substrate}) ${preparation ? `in its finding's state after ${took}s` : `after ${took}s, with the live workload only`}; run directory ${running.runDir}`);
      for (const p of running.plan.processes) console.log(`  ${p.id.padEnd(28)} ${running.url(p.id)}`);
      for (const p of running.plan.processes.filter((p) => p.kind === 'query')) console.log(`  ${`${p.id} Stores page`.padEnd(28)} ${running.url(p.id)}/stores`);
      console.log(`  ${'workload exporter'.padEnd(28)} ${running.workload.url}`);
      console.log(`  ${'S3'.padEnd(28)} ${running.bucket.endpoint.url} bucket ${running.bucket.endpoint.bucket}`);
      console.log('Ctrl-C tears everything down.');
      await new Promise(() => {}); // teardown runs from the SIGINT handler
      return 0;
    }
    case 'run': {
      // Finding letters (run A B) or scenario names; nothing means every scenario.
      let files: string[];
      try {
        files = rest.length ? selectScenarioFiles(rest) : [];
      } catch (err) {
        fail((err as Error).message);
      }
      stopWithParent();
      await resolveAll({ onProgress: log });
      rmSync(FINDINGS_DIR, { recursive: true, force: true }); // the summary speaks of this run only
      const { startVitest } = await import('vitest/node');
      const vitest = await startVitest('test', files, { run: true, project: ['e2e'] });
      await vitest.close();
      const summary = writeSummary();
      console.log(`\n${summary.markdown}`);
      console.log(`reports: ${REPORTS_DIR}/latest (index.html, results.json, junit.xml, logs/ of what failed); summary.md`);
      return process.exitCode === undefined || process.exitCode === 0 ? 0 : 1;
    }
    case 'matrix': {
      const { runMatrix } = await import('./matrix/run-matrix.ts');
      let result: Awaited<ReturnType<typeof runMatrix>>;
      try {
        result = await runMatrix(rest, log);
      } catch (err) {
        fail((err as Error).message);
      }
      console.log(`\n${result.markdown}`);
      console.log(`matrix report: ${result.dir}/index.html (reports/matrix-latest)`);
      return result.ok ? 0 : 1;
    }
    default:
      fail(`unknown command "${command}"\n${USAGE}`);
  }
}

async function audit(argv: string[]): Promise<number> {
  const { AUDIT_USAGE, parseAuditArgs, runAudit } = await import('./audit/run.ts');
  const { BadInput } = await import('./audit/gather.ts');
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(AUDIT_USAGE);
    return 0;
  }
  try {
    const { run, lines, report } = await runAudit(parseAuditArgs(argv), { onProgress: log });
    for (const line of lines) console.log(line);
    console.log(`${run.requests} GET requests; report: ${report.index} (${report.json})`);
    return run.exitCode;
  } catch (err) {
    if (err instanceof BadInput) fail(`audit: ${err.message}`);
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => fail(err instanceof Error ? err.message : String(err)),
);
