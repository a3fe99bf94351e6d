// Thanos Sidecar: serves its Prometheus over gRPC and uploads finished blocks to S3.
import type { Sidecar } from '../topology/model.ts';
import { objstoreConfig, thanosListenFlags, type Instance, type PlanContext, processOf } from './context.ts';
import type { ProcessPlan } from './types.ts';

export function planSidecar(c: Sidecar, inst: Instance, ctx: PlanContext, prometheus: ProcessPlan): ProcessPlan {
  const { addressing } = ctx;
  const files: Record<string, string> = {};
  const args = [
    'sidecar',
    ...thanosListenFlags(addressing, inst.id, true),
    `--prometheus.url=http://${addressing.dial(inst.id, prometheus.id, 'http')}`,
    `--tsdb.path=${addressing.dataDir(prometheus.id)}`,
    `--prometheus.get_config_interval=${c.prometheusRefreshInterval}`,
  ];
  if (c.upload) {
    files['objstore.yml'] = objstoreConfig(addressing, c.cluster);
    args.push(`--objstore.config-file=${addressing.configFile(inst.id, 'objstore.yml')}`);
  }
  return processOf(c, inst, {
    binary: 'thanos',
    args,
    files,
    ports: ['http', 'grpc'],
    after: [prometheus.id],
    pod: prometheus.id,
    externalLabels: prometheus.externalLabels,
  });
}
