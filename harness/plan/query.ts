// Thanos Query: fans a PromQL query out to its endpoints and deduplicates replicas.
import type { QueryTimeouts } from '../models/hung-endpoint.ts';
import { durationMs } from '../time.ts';
import type { Query } from '../topology/model.ts';
import { isBefore, thanosListenFlags, type Instance, type PlanContext, processOf, yaml } from './context.ts';
import { parse } from 'yaml';
import type { ProcessPlan } from './types.ts';

export function planQuery(c: Query, inst: Instance, ctx: PlanContext): ProcessPlan {
  const { addressing } = ctx;
  // --endpoint is deprecated since v0.40; the SD config file is the supported way.
  // Paired: replica i dials instance i of each (the topology checks that the counts agree).
  const dialled = (ref: string) => (c.pairedEndpoints ? [ctx.instancesOf(ref)[inst.replica]!] : ctx.instancesOf(ref));
  const endpoints = c.endpoints.flatMap((ref) =>
    dialled(ref).map((target) => ({ address: addressing.dial(inst.id, target, 'grpc'), ...(c.strictEndpoints.includes(ref) ? { strict: true } : {}) })),
  );
  // The endpoint SD config file and --deduplication.func came with 0.38; before, static flags.
  const sdConfig = !isBefore(ctx.versions.thanos, 0, 38);
  if (c.deduplicationFunc && !sdConfig) {
    throw new Error(`${inst.id}: --deduplication.func=${c.deduplicationFunc} needs Thanos >= 0.38 (before it, Query has only its default penalty deduplication; this run has ${ctx.versions.thanos})`);
  }
  return processOf(c, inst, {
    binary: 'thanos',
    args: [
      'query',
      ...thanosListenFlags(addressing, inst.id, true),
      ...(sdConfig
        ? [`--endpoint.sd-config-file=${addressing.configFile(inst.id, 'endpoints.yml')}`]
        : endpoints.map((e) => `--${e.strict ? 'endpoint-strict' : 'endpoint'}=${e.address}`)),
      ...c.replicaLabels.map((l) => `--query.replica-label=${l}`),
      ...(c.deduplicationFunc ? [`--deduplication.func=${c.deduplicationFunc}`] : []),
      ...(c.storeResponseTimeout ? [`--store.response-timeout=${c.storeResponseTimeout}`] : []),
      ...(c.queryTimeout ? [`--query.timeout=${c.queryTimeout}`] : []),
    ],
    files: sdConfig ? { 'endpoints.yml': yaml({ endpoints }) } : {},
    ports: ['http', 'grpc'],
  });
}

/** The addresses a planned Query dials, in its endpoints' order, whichever way the plan passes them. */
export function queryEndpointAddresses(plan: Pick<ProcessPlan, 'args' | 'files'>): string[] {
  const file = plan.files['endpoints.yml'];
  if (file) return (parse(file) as { endpoints: { address: string }[] }).endpoints.map((e) => e.address);
  return plan.args.flatMap((a) => /^--endpoint(?:-strict)?=(.*)$/.exec(a)?.[1] ?? []);
}

/**
 * Thanos' defaults (cmd/thanos/query.go, v0.42) for the timeouts queryTimeouts reads: `--query.timeout`
 * 2m, `--store.response-timeout` 0ms (off), and the hidden `--endpoint.info-timeout` 5s, which is
 * also how often Query checks its endpoints (cmd/thanos/endpointset.go).
 */
export const QUERY_TIMEOUT_DEFAULTS: Readonly<Record<'--query.timeout' | '--store.response-timeout' | '--endpoint.info-timeout', string>> = {
  '--query.timeout': '2m',
  '--store.response-timeout': '0ms',
  '--endpoint.info-timeout': '5s',
};

/** The timeouts a planned Query runs with: its flags where the plan sets them, Thanos' defaults otherwise. */
export function queryTimeouts(plan: Pick<ProcessPlan, 'args'>): QueryTimeouts {
  const flag = (name: keyof typeof QUERY_TIMEOUT_DEFAULTS) => durationMs(plan.args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1) ?? QUERY_TIMEOUT_DEFAULTS[name]);
  return { queryMs: flag('--query.timeout'), storeResponseMs: flag('--store.response-timeout'), endpointInfoMs: flag('--endpoint.info-timeout') };
}
