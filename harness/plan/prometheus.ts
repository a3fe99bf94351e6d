// Prometheus: every flag and config key of a Prometheus instance lives here.
import { scrapeIntervalOf, type Prometheus } from '../topology/model.ts';
import { clusterLabels, isBefore, PROMETHEUS_REPLICA_LABEL, type Instance, type PlanContext, processOf, yaml } from './context.ts';
import type { ProcessPlan } from './types.ts';

export const WORKLOAD_JOB = 'workload';

export function prometheusReplicaName(c: Prometheus, replica: number): string {
  return `${c.name}-${replica}`;
}

export function planPrometheus(c: Prometheus, inst: Instance, ctx: PlanContext): ProcessPlan {
  const { addressing } = ctx;
  const externalLabels: Record<string, string> = {
    ...clusterLabels(c.cluster),
    ...(c.replicaExternalLabel ? { [PROMETHEUS_REPLICA_LABEL]: prometheusReplicaName(c, inst.replica) } : {}),
  };

  const scrapeConfigs: object[] = c.scrapeWorkload
    ? [
        {
          job_name: WORKLOAD_JOB,
          // The workload exposes its own job/instance labels so that backfilled and scraped
          // samples land in the same series whatever address the substrate gives the exporter.
          honor_labels: true,
          // Targets appear only once the harness has written the history (see harness/workload).
          http_sd_configs: [{ url: addressing.workloadSdUrl(inst.id), refresh_interval: '2s' }],
        },
      ]
    : [];
  if (c.scrapeCluster) {
    const targets = ctx.topology.components
      .filter((other) => other.cluster === c.cluster && other.name !== c.name)
      .flatMap((other) => ctx.instancesOf(`${other.cluster}/${other.name}`))
      .map((target) => addressing.dial(inst.id, target, 'http'));
    scrapeConfigs.push({ job_name: 'cluster', static_configs: [{ targets }] });
  }
  const queueConfig = {
    ...(c.remoteWriteShards ? { min_shards: c.remoteWriteShards, max_shards: c.remoteWriteShards } : {}),
    ...(c.remoteWriteMaxSamplesPerSend ? { max_samples_per_send: c.remoteWriteMaxSamplesPerSend } : {}),
    ...(c.remoteWriteBatchSendDeadline ? { batch_send_deadline: c.remoteWriteBatchSendDeadline } : {}),
  };
  const remoteWrite = c.remoteWrite.flatMap((ref) =>
    ctx.instancesOf(ref).map((target) => ({
      url: `http://${addressing.dial(inst.id, target, 'remote-write')}/api/v1/receive`,
      ...(Object.keys(queueConfig).length ? { queue_config: queueConfig } : {}),
    })),
  );
  const scrapeInterval = scrapeIntervalOf(c, ctx.topology);
  const config = {
    global: { scrape_interval: scrapeInterval, evaluation_interval: scrapeInterval, external_labels: externalLabels },
    scrape_configs: scrapeConfigs,
    ...(remoteWrite.length ? { remote_write: remoteWrite } : {}),
  };

  const configFile = addressing.configFile(inst.id, 'prometheus.yml');
  const args = [
    `--config.file=${configFile}`,
    `--web.listen-address=${addressing.listen(inst.id, 'http')}`,
    '--web.enable-lifecycle',
  ];
  if (c.mode === 'agent') {
    // Agent mode became a flag of its own in 3.0; 2.x switches it on as a feature.
    args.push(isBefore(ctx.versions.prometheus, 3, 0) ? '--enable-feature=agent' : '--agent', `--storage.agent.path=${addressing.dataDir(inst.id)}`);
  } else {
    args.push(
      `--storage.tsdb.path=${addressing.dataDir(inst.id)}`,
      `--storage.tsdb.retention.time=${c.retention}`,
      // Set both, as prometheus-operator does for a Thanos sidecar: min == max is what the sidecar requires.
      `--storage.tsdb.min-block-duration=${c.blockDuration}`,
      `--storage.tsdb.max-block-duration=${c.blockDuration}`,
      // How the harness writes backdated history fast (in order, before the live scrape starts).
      '--web.enable-remote-write-receiver',
    );
  }

  return processOf(c, inst, {
    binary: 'prometheus',
    args,
    files: { 'prometheus.yml': yaml(config) },
    ports: ['http'],
    externalLabels,
    // Started once what it remote-writes to is ready: Thanos Receive 0.42.4 panicked at bring-up in
    // CI (nil pointer in tsdb.(*DB).Head) with its writers started beside it; a write arriving while
    // it opens its TSDB is the likely trigger, not yet proven.
    after: c.remoteWrite.flatMap((ref) => ctx.backendsOf(ref)),
  });
}
