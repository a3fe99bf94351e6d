// Thanos Store: serves the blocks in S3 under one cluster's prefix.
import type { Store } from '../topology/model.ts';
import { isBefore, objstoreConfig, thanosListenFlags, type Instance, type PlanContext, processOf } from './context.ts';
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
      ...(c.minTime ? [`--min-time=${c.minTime}`] : []),
      ...(c.maxTime ? [`--max-time=${c.maxTime}`] : []),
      ...compatibilityLabelFlags(ctx.versions.thanos),
    ],
    files: { 'objstore.yml': objstoreConfig(addressing, c.bucketPrefix) },
    ports: ['http', 'grpc'],
  });
}

/**
 * Before 0.42.0 Store advertises, besides its blocks' external labels, an artificial label set
 * {"@thanos_compatibility_store_type":"store"} (for Queriers before 0.8.0), which the Stores page then
 * lists as a label set of its own. The hidden flag switches it off there; 0.42.0 removed both the label
 * and the flag (thanos-io/thanos#8839) and refuses the flag, so it is passed only before 0.42.
 */
export function compatibilityLabelFlags(thanosVersion: string): string[] {
  return isBefore(thanosVersion, 0, 42) ? ['--no-debug.advertise-compatibility-label'] : [];
}
