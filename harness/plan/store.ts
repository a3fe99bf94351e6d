// Thanos Store: serves the blocks in S3 under one cluster's prefix.
import type { Store } from '../topology/model.ts';
import { objstoreConfig, thanosListenFlags, type Instance, type PlanContext, processOf } from './context.ts';
import type { ProcessPlan } from './types.ts';

export function planStore(c: Store, inst: Instance, ctx: PlanContext): ProcessPlan {
  const { addressing } = ctx;
  return processOf(c, inst, {
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
  });
}
