// Thanos Receive: remote-write endpoint and ingester; standalone, hashring, router or ingester.
import type { Receive } from '../topology/model.ts';
import { isBefore, objstoreConfig, thanosListenFlags, type Instance, type PlanContext, processOf } from './context.ts';
import type { ProcessPlan } from './types.ts';

/** The hashrings file: one hashring over the gRPC addresses of the ring's receives. */
function hashrings(ctx: PlanContext, inst: Instance, ringRef: string): string {
  const endpoints = ctx.instancesOf(ringRef).map((id) => ({ address: ctx.addressing.dial(inst.id, id, 'grpc') }));
  return JSON.stringify([{ hashring: 'default', endpoints }], null, 2);
}

/** Receive's graceful stop: time to cut its head into a block and upload it. */
export const RECEIVE_STOP_GRACE_MS = 600_000;

export function receiveReplicaName(c: Receive, inst: Instance): string {
  return inst.id.split('/')[1]!;
}

export function planReceive(c: Receive, inst: Instance, ctx: PlanContext): ProcessPlan {
  const { addressing } = ctx;
  const ref = `${c.cluster}/${c.name}`;
  const externalLabels = { ...c.labels, [c.replicaLabel]: receiveReplicaName(c, inst) };
  const files: Record<string, string> = {};
  const args = [
    'receive',
    ...thanosListenFlags(addressing, inst.id, true),
    `--remote-write.address=${addressing.listen(inst.id, 'remote-write')}`,
    // From 0.37 it always listens; its default 0.0.0.0:19391 would clash between receives on one host.
    ...(isBefore(ctx.versions.thanos, 0, 37) ? [] : [`--receive.capnproto-address=${addressing.listen(inst.id, 'capnp')}`]),
    `--tsdb.path=${addressing.dataDir(inst.id)}`,
    `--tsdb.retention=${c.retention}`,
    ...Object.entries(externalLabels).map(([k, v]) => `--label=${k}="${v}"`),
    `--receive.tenant-header=${c.tenantHeader}`,
    `--receive.default-tenant-id=${c.defaultTenant}`,
    ...(c.tooFarInFutureWindow ? [`--tsdb.too-far-in-future.time-window=${c.tooFarInFutureWindow}`] : []),
    ...(c.outOfOrderWindow ? [`--tsdb.out-of-order.time-window=${c.outOfOrderWindow}`] : []),
    ...(c.blockDuration ? [`--tsdb.min-block-duration=${c.blockDuration}`, `--tsdb.max-block-duration=${c.blockDuration}`] : []),
  ];
  // Thanos picks the role from two flags: hashring + local endpoint = router and ingester,
  // hashring alone = router only, neither = ingester only.
  if (c.mode === 'hashring' || c.mode === 'router') {
    files['hashrings.json'] = hashrings(ctx, inst, c.mode === 'router' ? `${c.cluster}/${c.ingesters}` : ref);
    args.push(`--receive.hashrings-file=${addressing.configFile(inst.id, 'hashrings.json')}`, `--receive.replication-factor=${c.replicationFactor}`);
    if (c.hashringsAlgorithm) args.push(`--receive.hashrings-algorithm=${c.hashringsAlgorithm}`);
  }
  if (c.mode === 'hashring' || c.mode === 'ingester') {
    args.push(`--receive.local-endpoint=${addressing.dial(inst.id, inst.id, 'grpc')}`);
  }
  if (c.bucketPrefix && c.mode !== 'router') {
    files['objstore.yml'] = objstoreConfig(addressing, c.bucketPrefix);
    args.push(`--objstore.config-file=${addressing.configFile(inst.id, 'objstore.yml')}`);
  }
  return processOf(c, inst, {
    binary: 'thanos',
    args,
    files,
    ports: ['http', 'grpc', 'remote-write', 'capnp'],
    externalLabels,
    // On SIGTERM Receive cuts its head into a block and uploads it: at 100k series of 6h that took
    // longer than 5 s, and a SIGKILL then left the bucket without Receive's blocks.
    ...(c.bucketPrefix && c.mode !== 'router' ? { stopGraceMs: RECEIVE_STOP_GRACE_MS } : {}),
  });
}
