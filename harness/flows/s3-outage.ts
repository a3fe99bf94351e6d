// Finding G: object storage down while Prometheus cuts blocks. S3 is stopped, then hours of
// history are written in one go (the state a real outage of that length reaches: with S3 down
// nothing could have been shipped in between, and the TSDB's end state does not depend on how the
// write is split, see workload/history.ts); each sidecar fails to ship; S3 starts again and the
// sidecars ship what is still on disk. simulateHead predicts what each Prometheus cuts and what its
// retention deletes before S3 is back; the scenario compares that with what it measures.
import { PROMETHEUS_REPLICA_LABEL } from '../plan/context.ts';
import { PromApiClient } from '../promql/client.ts';
import { metricSum, metricValue } from '../promql/metrics.ts';
import { equals, greaterOrEqual, waitForStores, waitSumMetrics } from '../promql/wait-metrics.ts';
import type { BlockMeta } from '../s3/bucket.ts';
import type { RunningTopology } from '../substrates/index.ts';
import { durationMs } from '../time.ts';
import type { Prometheus } from '../topology/model.ts';
import { OBSERVEE } from '../topology/preset-defaults.ts';
import { S3_OUTAGE_HISTORY, S3_OUTAGE_PROMETHEUS, S3_OUTAGE_QUERY, S3_OUTAGE_STORE } from '../topology/presets-s3-outage.ts';
import { EMPTY_TSDB, simulateHead, type WriteOutcome } from '../models/prometheus-tsdb.ts';
import { backfill } from '../workload/remote-write.ts';
import { alignDown } from '../time.ts';

export type Configuration = keyof typeof S3_OUTAGE_PROMETHEUS;

/** What one Prometheus and its sidecar went through. */
export interface OutageSide {
  configuration: Configuration;
  /** Instance ids. */
  prometheus: string;
  sidecar: string;
  /** Its prometheus_replica: what tells its series and blocks apart. */
  replica: string;
  retentionMs: number;
  /** simulateHead's prediction for the history written in one go. */
  predicted: WriteOutcome;
  /** Once the cuts are done, during the outage: prometheus_tsdb_blocks_loaded and prometheus_tsdb_lowest_timestamp_seconds (ms). */
  localBlocks: number;
  lowestMs: number;
  /** prometheus_tsdb_time_retentions_total then: reloads in which time retention deleted blocks. */
  retentionRuns: number;
  /** prometheus_tsdb_compactions_total then: with no block compacted further, the blocks cut from the head. */
  compactions: number;
  /** The sidecar's own counters at the outage's end. */
  dirSyncFailures: number;
  uploadFailures: number;
  existsFailures: number;
  /** thanos_shipper_uploads_total once it has shipped everything it still had. */
  uploads: number;
  /** Its blocks in the bucket after recovery, oldest first. */
  shipped: BlockMeta[];
}

export interface OutageRun {
  t: RunningTopology;
  /** The history written while S3 was down: grid timestamps fromMs..toMs, both included. */
  history: { fromMs: number; toMs: number; stepMs: number };
  /** Wall time S3 was down. */
  outageMs: number;
  sides: Record<Configuration, OutageSide>;
  /** The Query over Store and both sidecars. */
  query: PromApiClient;
  /** Blocks Store loaded after recovery. */
  storeBlocks: number;
}

export async function prepareS3Outage(t: RunningTopology, log: (line: string) => void): Promise<OutageRun> {
  const step = t.workload.workload.stepMs;
  const now = Date.now();
  const history = { fromMs: alignDown(now - durationMs(S3_OUTAGE_HISTORY), step), toMs: alignDown(now, step), stepMs: step };

  const sides = {} as Record<Configuration, Pick<OutageSide, 'configuration' | 'prometheus' | 'sidecar' | 'replica' | 'retentionMs' | 'predicted'>>;
  for (const configuration of Object.keys(S3_OUTAGE_PROMETHEUS) as Configuration[]) {
    const name = S3_OUTAGE_PROMETHEUS[configuration].name;
    const spec = t.topology.components.find((c): c is Prometheus => c.kind === 'prometheus' && c.cluster === OBSERVEE && c.name === name)!;
    const prometheus = t.plan.processes.find((p) => p.component === `${OBSERVEE}/${name}`)!;
    const sidecar = t.plan.processes.find((p) => p.kind === 'sidecar' && p.pod === prometheus.id)!;
    const params = { blockMs: durationMs(spec.blockDuration), retentionMs: durationMs(spec.retention) };
    sides[configuration] = {
      configuration,
      prometheus: prometheus.id,
      sidecar: sidecar.id,
      replica: prometheus.externalLabels[PROMETHEUS_REPLICA_LABEL]!,
      retentionMs: params.retentionMs,
      predicted: simulateHead(EMPTY_TSDB, history.fromMs, history.toMs, params),
    };
  }
  const all = Object.values(sides);

  const outageStarted = Date.now();
  await t.stopS3();
  log(`  S3 stopped; writing ${S3_OUTAGE_HISTORY} of history in one go into ${all.map((s) => s.prometheus).join(', ')}`);
  await Promise.all(all.map((s) => backfill(`${t.url(s.prometheus)}/api/v1/write`, t.workload.workload, history.fromMs, history.toMs)));
  // The head's min time moves past a block only after the reload that applied retention.
  await Promise.all(all.map((s) => waitSumMetrics(s.prometheus, t.url(s.prometheus), equals(s.predicted.state.head!.minTime), 'prometheus_tsdb_head_min_time', { onProgress: log })));
  const local = await Promise.all(
    all.map(async (s) => {
      const metrics = await new PromApiClient(t.url(s.prometheus)).metrics();
      return {
        localBlocks: metricValue(metrics, 'prometheus_tsdb_blocks_loaded')!,
        lowestMs: metricValue(metrics, 'prometheus_tsdb_lowest_timestamp_seconds')! * 1000,
        retentionRuns: metricValue(metrics, 'prometheus_tsdb_time_retentions_total')!,
        compactions: metricValue(metrics, 'prometheus_tsdb_compactions_total')!,
      };
    }),
  );
  // Nothing was cut before the history, so a failed sync is one that met S3 down with blocks to ship.
  await Promise.all(all.map((s) => waitSumMetrics(s.sidecar, t.url(s.sidecar), greaterOrEqual(1), 'thanos_shipper_dir_sync_failures_total', { onProgress: log })));
  const failures = await Promise.all(
    all.map(async (s) => {
      const metrics = await new PromApiClient(t.url(s.sidecar)).metrics();
      return {
        dirSyncFailures: metricSum(metrics, 'thanos_shipper_dir_sync_failures_total') ?? 0,
        uploadFailures: metricSum(metrics, 'thanos_shipper_upload_failures_total') ?? 0,
        existsFailures: metricSum(metrics, 'thanos_objstore_bucket_operation_failures_total', { operation: 'exists' }) ?? 0,
      };
    }),
  );
  await t.startS3();
  const outageMs = Date.now() - outageStarted;
  log(`  S3 back after ${(outageMs / 1000).toFixed(1)}s`);

  // Each sidecar ships what its Prometheus still has: no block is cut after the history.
  await Promise.all(all.map((s, i) => waitSumMetrics(s.sidecar, t.url(s.sidecar), equals(local[i]!.localBlocks), 'thanos_shipper_uploads_total', { onProgress: log })));
  const uploads = await Promise.all(all.map(async (s) => metricSum(await new PromApiClient(t.url(s.sidecar)).metrics(), 'thanos_shipper_uploads_total') ?? 0));
  const blocks = await t.bucket.blocks(OBSERVEE);
  await waitSumMetrics(S3_OUTAGE_STORE, t.url(S3_OUTAGE_STORE), equals(blocks.length), 'thanos_bucket_store_blocks_loaded', { onProgress: log });
  const storeLoadedAt = Date.now();
  const query = new PromApiClient(t.url(S3_OUTAGE_QUERY));
  // Query refreshes its endpoints' time ranges every few seconds: one check made after Store loaded the blocks.
  await waitForStores(S3_OUTAGE_QUERY, query, { count: all.length + 1, checkedAfter: storeLoadedAt }, { onProgress: log });

  const done = Object.fromEntries(
    all.map((s, i) => [
      s.configuration,
      { ...s, ...local[i]!, ...failures[i]!, uploads: uploads[i]!, shipped: blocks.filter((b) => b.thanos.labels[PROMETHEUS_REPLICA_LABEL] === s.replica) },
    ]),
  ) as Record<Configuration, OutageSide>;
  return { t, history, outageMs, sides: done, query, storeBlocks: blocks.length };
}
