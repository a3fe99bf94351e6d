// What a scenario file uses to get a running topology: the substrate comes from the environment,
// logs land in reports/ when a test fails, and teardown happens whatever the outcome.
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { REPORTS_DIR } from './report/paths.ts';
import { substrateFromEnv, unavailableVariable, type RunningTopology } from './substrates/index.ts';
import type { Topology } from './topology/model.ts';
import { CHURN_VARIABLE, churnFromEnv, churnText, SERIES_VARIABLE, seriesFromEnv, withSeries } from './topology/series-override.ts';

export const log = (line: string) => process.stderr.write(`${line}\n`);

/**
 * Brings the topology up before the file's (or describe block's) tests, runs `setup` on it, and
 * tears it down after them. Returns a getter for what setup returned (the running topology when
 * there is no setup): each test reads only that. A test during which a component exited on its
 * own fails, naming it. If any test failed, every component's log is copied to
 * reports/runs/<topology>/logs first.
 */
export interface UseTopologyOptions {
  /** The file's checks hold at any series count: it takes `--series N` (THANOS_HA_E2E_SERIES), and `--churn` (THANOS_HA_E2E_CHURN). */
  scales?: boolean;
}

export function useTopology(topology: Topology): () => RunningTopology;
export function useTopology<T>(topology: Topology, setup: (t: RunningTopology) => Promise<T>, opts?: UseTopologyOptions): () => T;
export function useTopology<T>(declared: Topology, setup?: (t: RunningTopology) => Promise<T>, opts: UseTopologyOptions = {}): () => T | RunningTopology {
  const series = seriesFromEnv();
  const churn = churnFromEnv();
  if (churn && series === undefined) throw new Error(`${CHURN_VARIABLE}=${churnText(churn)} needs ${SERIES_VARIABLE} too: churn replaces pods of the cluster shape that --series N gives`);
  if (series !== undefined && !opts.scales) log(`[${declared.name}] ${SERIES_VARIABLE}=${series}${churn ? ` and ${CHURN_VARIABLE}` : ''} not applied: this scenario runs its own ${declared.workload.series} series`);
  const topology = series !== undefined && opts.scales ? withSeries(declared, series, churn) : declared;
  let running: RunningTopology | undefined;
  let prepared: { value: T | RunningTopology } | undefined;
  let failed = false;
  const logsDir = join(REPORTS_DIR, 'runs', topology.name, 'logs');
  const keep = process.env.THANOS_HA_E2E_KEEP === '1';
  const substrate = process.env.THANOS_HA_E2E_SUBSTRATE ?? 'process';
  // Set by the project's global setup (substrates/vitest-substrate-check.ts) when the substrate cannot run here.
  const unavailable = process.env[unavailableVariable(substrate)];
  if (unavailable) {
    beforeEach((ctx) => ctx.skip(`${substrate} substrate unavailable: ${unavailable}`));
    return () => {
      throw new Error(`the ${substrate} substrate is unavailable: ${unavailable}`);
    };
  }

  beforeAll(async () => {
    const started = Date.now();
    const churning = topology.workload.churn ? ` (churn ${churnText(topology.workload.churn)})` : '';
    log(`[${topology.name}] bringing up on ${substrate} with ${topology.workload.series} workload series${churning}: ${topology.description}`);
    running = await substrateFromEnv().up(topology, { onProgress: log, keep, logsOnFailure: logsDir });
    log(`[${topology.name}] up in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    try {
      prepared = { value: setup ? await setup(running) : running };
      if (setup) log(`[${topology.name}] prepared in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    } catch (err) {
      failed = true;
      throw err;
    }
  });

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') failed = true;
    const exited = running?.failure();
    if (exited) {
      failed = true;
      throw new Error(`a component of ${topology.name} exited during the test: ${exited}`);
    }
  });

  afterAll(async () => {
    if (!running) return;
    if (failed) {
      const files = await running.collectLogs(logsDir);
      log(`[${topology.name}] a test failed: ${files.length} component logs copied to ${logsDir}`);
    }
    await running.close();
  });

  return () => {
    if (!prepared) throw new Error(`topology ${topology.name} is not ready (its bring-up or setup failed: see above)`);
    return prepared.value;
  };
}
