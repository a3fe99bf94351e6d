// The lifecycle every scenario file shares: something is brought up before the file's (or describe
// block's) tests, a setup runs on it once, the tests read only what the setup returned, and it is
// torn down after them, whatever the outcome. The substrate comes from the one seam
// (currentSubstrate); where it cannot run here, every test is skipped with one line saying why.
//
//   useTopology(topology, setup)   a topology on the current substrate (most scenarios)
//   useCluster(role, setup)        one Kubernetes cluster the substrate lends (kind, kube), for a
//                                  scenario that deploys a fixture of its own (the operator's)
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { REPORTS_DIR } from './report/paths.ts';
import { currentSubstrate, type Fault, type LentCluster, type RunningTopology } from './substrates/index.ts';
import type { Topology } from './topology/model.ts';
import { CHURN_VARIABLE, churnFromEnv, churnText, SERIES_VARIABLE, seriesFromEnv, withSeries } from './topology/series-override.ts';

export const log = (line: string) => process.stderr.write(`${line}\n`);

/** What the lifecycle needs of what it brought up. */
interface Brought {
  /** One line naming a component that exited on its own, or undefined. */
  failure(): string | undefined;
  /** Copies every component's log into dir (when a test failed); returns the files. */
  collectLogs(dir: string): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * Brings `up` up in beforeAll, runs `setup` on it and keeps what it returned; a test during which a
 * component exited on its own fails, naming it; if any test failed, every component's log is copied
 * to reports/runs/<name>/logs first; then it is closed. `skip`: why nothing can run here.
 */
function useLifecycle<B extends Brought, T>(name: string, skip: string | undefined, up: () => Promise<B>, setup: (b: B) => Promise<T>): () => T {
  let brought: B | undefined;
  let prepared: { value: T } | undefined;
  let failed = false;
  const logsDir = join(REPORTS_DIR, 'runs', name, 'logs');
  if (skip) {
    beforeEach((ctx) => ctx.skip(skip));
    return () => {
      throw new Error(skip);
    };
  }

  beforeAll(async () => {
    const started = Date.now();
    brought = await up();
    log(`[${name}] up in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    try {
      prepared = { value: await setup(brought) };
      log(`[${name}] prepared in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    } catch (err) {
      failed = true;
      throw err;
    }
  });

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') failed = true;
    const exited = brought?.failure();
    if (exited) {
      failed = true;
      throw new Error(`a component of ${name} exited during the test: ${exited}`);
    }
  });

  afterAll(async () => {
    if (!brought) return;
    if (failed) {
      const files = await brought.collectLogs(logsDir);
      log(`[${name}] a test failed: ${files.length} logs copied to ${logsDir}`);
    }
    await brought.close();
  });

  return () => {
    if (!prepared) throw new Error(`${name} is not ready (its bring-up or setup failed: see above)`);
    return prepared.value;
  };
}

export interface UseTopologyOptions {
  /** The file's checks hold at any series count: it takes `--series N` (THANOS_HA_E2E_SERIES), and `--churn` (THANOS_HA_E2E_CHURN). */
  scales?: boolean;
  /** The faults the file causes that some substrate refuses (cutLink, stopS3): where one is refused, every test is skipped with one line saying why, before bring-up. */
  faults?: readonly Fault[];
}

/**
 * Brings the topology up on the current substrate before the file's (or describe block's) tests,
 * runs `setup` on it (bring-up steps, the experiment, the readings), and tears it down after them.
 * Returns a getter for what setup returned (the running topology when there is no setup).
 */
export function useTopology(topology: Topology): () => RunningTopology;
export function useTopology<T>(topology: Topology, setup: (t: RunningTopology) => Promise<T>, opts?: UseTopologyOptions): () => T;
export function useTopology<T>(declared: Topology, setup?: (t: RunningTopology) => Promise<T>, opts: UseTopologyOptions = {}): () => T | RunningTopology {
  const series = seriesFromEnv();
  const churn = churnFromEnv();
  if (churn && series === undefined) throw new Error(`${CHURN_VARIABLE}=${churnText(churn)} needs ${SERIES_VARIABLE} too: churn replaces pods of the cluster shape that --series N gives`);
  if (series !== undefined && !opts.scales) log(`[${declared.name}] ${SERIES_VARIABLE}=${series}${churn ? ` and ${CHURN_VARIABLE}` : ''} not applied: this scenario runs its own ${declared.workload.series} series`);
  const topology = series !== undefined && opts.scales ? withSeries(declared, series, churn) : declared;
  const substrate = currentSubstrate();
  const keep = process.env.THANOS_HA_E2E_KEEP === '1';
  const logsOnFailure = join(REPORTS_DIR, 'runs', topology.name, 'logs');
  const skip = substrate.unavailable ? `${substrate.name} substrate unavailable: ${substrate.unavailable}` : substrate.refuses(opts.faults ?? []);
  if (skip && !substrate.unavailable) log(`[${topology.name}] skipped: ${skip}`);
  return useLifecycle<RunningTopology, T | RunningTopology>(
    topology.name,
    skip,
    () => {
      const churning = topology.workload.churn ? ` (churn ${churnText(topology.workload.churn)})` : '';
      log(`[${topology.name}] bringing up on ${substrate.name} with ${topology.workload.series} workload series${churning}: ${topology.description}`);
      return substrate.up(topology, { onProgress: log, keep, logsOnFailure });
    },
    async (t) => (setup ? setup(t) : t),
  );
}

export interface UseClusterOptions<T> {
  /**
   * What setup made that must go when the cluster outlives the run (kube: a cluster that was there
   * before); a cluster made for the run (kind) goes whole, with everything in it.
   */
  cleanup?: (prepared: T) => Promise<void>;
  /** Copies the logs that matter when a test failed (the lent cluster has no topology to collect from). */
  collectLogs?: (prepared: T, dir: string) => Promise<string[]>;
}

/**
 * Lends one Kubernetes cluster of the current substrate (currentSubstrate().kubernetesCluster) for
 * the file's tests, for the note's role, and runs setup on it. Skipped, with one line, where the
 * substrate has none to lend or cannot run here.
 */
export function useCluster<T>(role: string, setup: (cluster: LentCluster) => Promise<T>, opts: UseClusterOptions<T> = {}): () => T {
  const substrate = currentSubstrate();
  const skip = substrate.unavailable
    ? `${substrate.name} substrate unavailable: ${substrate.unavailable}`
    : substrate.kubernetesCluster
      ? undefined
      : `the ${substrate.name} substrate lends no Kubernetes cluster: run with THANOS_HA_E2E_SUBSTRATE=kind, or kube with THANOS_HA_E2E_KUBE_CONTEXTS=${role}=<context>`;
  if (skip) log(`[${role} cluster] skipped: ${skip}`);
  let prepared: { value: T } | undefined;
  return useLifecycle(
    `${role}-cluster`,
    skip,
    async () => {
      const lent = await substrate.kubernetesCluster!(role, log);
      log(`[${role} cluster] ${substrate.name}: context ${lent.context} (${lent.server})`);
      return {
        lent,
        failure: () => undefined,
        collectLogs: async (dir: string) => (prepared && opts.collectLogs ? opts.collectLogs(prepared.value, dir) : []),
        close: async () => {
          if (lent.release) await lent.release();
          else if (prepared && opts.cleanup) await opts.cleanup(prepared.value);
        },
      };
    },
    async (b) => {
      prepared = { value: await setup(b.lent) };
      return prepared.value;
    },
  );
}
