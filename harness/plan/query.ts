// Thanos Query: fans a PromQL query out to its endpoints and deduplicates replicas.
import type { Query } from '../topology/model.ts';
import { thanosListenFlags, type Instance, type PlanContext, processOf, yaml } from './context.ts';
import type { ProcessPlan } from './types.ts';

export function planQuery(c: Query, inst: Instance, ctx: PlanContext): ProcessPlan {
  const { addressing } = ctx;
  // --endpoint is deprecated since v0.40; the SD config file is the supported way.
  const endpoints = c.endpoints.flatMap((ref) =>
    ctx.instancesOf(ref).map((target) => ({ address: addressing.dial(inst.id, target, 'grpc'), ...(c.strictEndpoints.includes(ref) ? { strict: true } : {}) })),
  );
  return processOf(c, inst, {
    binary: 'thanos',
    args: [
      'query',
      ...thanosListenFlags(addressing, inst.id, true),
      `--endpoint.sd-config-file=${addressing.configFile(inst.id, 'endpoints.yml')}`,
      ...c.replicaLabels.map((l) => `--query.replica-label=${l}`),
      ...(c.deduplicationFunc ? [`--deduplication.func=${c.deduplicationFunc}`] : []),
    ],
    files: { 'endpoints.yml': yaml({ endpoints }) },
    ports: ['http', 'grpc'],
  });
}
