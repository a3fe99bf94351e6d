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
      // A long-running service, as in the note's Arch 2. Only with --wait does a halt (the hidden
      // --debug.halt-on-error, on by default) set thanos_compact_halted to 1 and keep the process
      // up; without it the process exits with the error.
      '--wait',
      `--wait-interval=${c.waitInterval}`,
      `--consistency-delay=${c.consistencyDelay}`,
      `--delete-delay=${c.deleteDelay}`,
      ...c.deduplicationReplicaLabels.map((l) => `--deduplication.replica-label=${l}`),
      ...(c.verticalCompaction ? ['--compact.enable-vertical-compaction'] : []),
      ...(c.downsampling ? [] : ['--downsampling.disable']),
    ],
    files: { 'objstore.yml': objstoreConfig(addressing, c.bucketPrefix) },
    // HTTP only (no StoreAPI). Its /-/ready (processOf's default) answers 200 once it is set up,
    // before the first iteration, and stays so when halted: only the compaction loop blocks.
    ports: ['http'],
  });
}
