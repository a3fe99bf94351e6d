// Thanos Compactor: compacts, deduplicates and downsamples the blocks under one cluster's prefix.
import type { Compactor } from '../topology/model.ts';
import { objstoreConfig, thanosListenFlags, type Instance, type PlanContext, processOf } from './context.ts';
import type { ProcessPlan } from './types.ts';

export function planCompactor(c: Compactor, inst: Instance, ctx: PlanContext): ProcessPlan {
  const { addressing } = ctx;
  return processOf(c, inst, {
    binary: 'thanos',
    args: [
      'compact',
      ...thanosListenFlags(addressing, inst.id, false),
      `--data-dir=${addressing.dataDir(inst.id)}`,
      `--objstore.config-file=${addressing.configFile(inst.id, 'objstore.yml')}`,
      // A long-running service, as in the note's Arch 2: a halt (thanos_compact_halted) is then visible.
      '--wait',
      `--wait-interval=${c.waitInterval}`,
      `--consistency-delay=${c.consistencyDelay}`,
      `--delete-delay=${c.deleteDelay}`,
      ...c.deduplicationReplicaLabels.map((l) => `--deduplication.replica-label=${l}`),
      ...(c.downsampling ? [] : ['--downsampling.disable']),
    ],
    files: { 'objstore.yml': objstoreConfig(addressing, c.bucketPrefix) },
    ports: ['http'],
  });
}
