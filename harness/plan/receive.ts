// Thanos Receive: remote-write endpoint and ingester; standalone, hashring, router or ingester.
import type { Receive } from '../topology/model.ts';
import { isBefore, objstoreConfig, thanosListenFlags, type Instance, type PlanContext, processOf } from './context.ts';
import type { ProcessPlan } from './types.ts';

/**
 * The hashrings file: one hashring over the gRPC addresses of the ring's receives; before the ring
 * grows, without the replicas that join later (the ring component's `joining`, its last replicas).
 */
function hashrings(ctx: PlanContext, inst: Instance, ringRef: string, grown: boolean): string {
  const ring = ctx.component(ringRef) as Receive;
  const ids = ctx.instancesOf(ringRef);
  const members = grown ? ids : ids.slice(0, ids.length - ring.joining);
  const endpoints = members.map((id) => ({ address: ctx.addressing.dial(inst.id, id, 'grpc') }));
  return JSON.stringify([{ hashring: 'default', endpoints }], null, 2);
}

/** Whether an instance is one of its component's replicas that join the hashring later. */
export const isJoining = (c: Receive, inst: Instance): boolean => inst.replica >= c.replicas - c.joining;

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
  // Where the ring grows later: the file every member starts with, and the one growHashrings writes.
  // A replica that joins starts with the grown ring (it is in it from its first moment).
  let grownFiles: Record<string, string> | undefined;
  if (c.mode === 'hashring' || c.mode === 'router') {
    const ringRef = c.mode === 'router' ? `${c.cluster}/${c.ingesters}` : ref;
    const grows = (ctx.component(ringRef) as Receive).joining > 0;
    files['hashrings.json'] = hashrings(ctx, inst, ringRef, isJoining(c, inst));
    if (grows && !isJoining(c, inst)) grownFiles = { 'hashrings.json': hashrings(ctx, inst, ringRef, true) };
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
    ...(isJoining(c, inst) ? { deferred: true } : {}),
    ...(grownFiles ? { grownFiles } : {}),
  });
}
