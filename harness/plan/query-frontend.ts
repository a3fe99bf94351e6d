// Thanos Query Frontend: splits range queries (1h, as in the note) and forwards them to Query.
import type { QueryFrontend } from '../topology/model.ts';
import { thanosListenFlags, type Instance, type PlanContext, processOf, yaml } from './context.ts';
import type { ProcessPlan } from './types.ts';

export function planQueryFrontend(c: QueryFrontend, inst: Instance, ctx: PlanContext): ProcessPlan {
  const { addressing } = ctx;
  const downstream = ctx.instancesOf(c.downstream);
  if (downstream.length !== 1) {
    // One URL only: several Query replicas must sit behind a Service.
    throw new Error(`query-frontend ${inst.id}: downstream ${c.downstream} has ${downstream.length} instances; put a service in front`);
  }
  return processOf(c, inst, {
    binary: 'thanos',
    args: [
      'query-frontend',
      ...thanosListenFlags(addressing, inst.id, false),
      `--query-frontend.downstream-url=http://${addressing.dial(inst.id, downstream[0]!, 'http')}`,
      `--query-range.split-interval=${c.splitInterval}`,
      `--labels.split-interval=${c.labelsSplitInterval}`,
      ...(c.maxQueryParallelism ? [`--query-range.max-query-parallelism=${c.maxQueryParallelism}`] : []),
      ...cacheFlags(c, inst, ctx),
      ...(c.downstreamIdleConnTimeout ? [`--query-frontend.downstream-tripper-config-file=${addressing.configFile(inst.id, 'tripper.yml')}`] : []),
    ],
    files: {
      ...(c.resultsCache ? { 'cache.yml': cacheConfig(c.resultsCache) } : {}),
      // pkg/queryfrontend/config.go DownstreamTripperConfig; the other fields keep Thanos' defaults.
      ...(c.downstreamIdleConnTimeout ? { 'tripper.yml': yaml({ idle_conn_timeout: c.downstreamIdleConnTimeout }) } : {}),
    },
    ports: ['http'],
    // Its readiness probes the downstream only every 10 s: start it once Query is ready.
    after: ctx.backendsOf(c.downstream),
  });
}

/** One in-memory cache config for both caches: each gets its own instance of it. */
function cacheConfig(cache: NonNullable<QueryFrontend['resultsCache']>): string {
  return yaml({ type: 'IN-MEMORY', config: { max_size: cache.maxSize, validity: '0s' } });
}

function cacheFlags(c: QueryFrontend, inst: Instance, ctx: PlanContext): string[] {
  if (!c.resultsCache) return [];
  const file = ctx.addressing.configFile(inst.id, 'cache.yml');
  return [
    `--query-range.response-cache-config-file=${file}`,
    `--query-range.response-cache-max-freshness=${c.resultsCache.maxFreshness}`,
    `--labels.response-cache-config-file=${file}`,
    `--labels.response-cache-max-freshness=${c.resultsCache.maxFreshness}`,
  ];
}
