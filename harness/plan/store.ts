// Thanos Store: serves the blocks in S3 under one cluster's prefix.
import type { Store } from '../topology/model.ts';
import { objstoreConfig, thanosListenFlags, type Instance, type PlanContext } from './context.ts';
import type { ProcessPlan } from './types.ts';

export function planStore(c: Store, inst: Instance, ctx: PlanContext): ProcessPlan {
  const { addressing } = ctx;
  return {
    id: inst.id,
    component: `${c.cluster}/${c.name}`,
    cluster: c.cluster,
    kind: 'store',
    replica: inst.replica,
    binary: 'thanos',
    args: [
      'store',
      ...thanosListenFlags(addressing, inst.id, true),
      `--data-dir=${addressing.dataDir(inst.id)}`,
      `--objstore.config-file=${addressing.configFile(inst.id, 'objstore.yml')}`,
      `--sync-block-duration=${c.syncInterval}`,
    ],
    files: { 'objstore.yml': objstoreConfig(addressing, c.bucketPrefix) },
    ports: ['http', 'grpc'],
    ready: { port: 'http', path: '/-/ready' },
    after: [],
    pod: inst.id,
    externalLabels: {},
  };
}
