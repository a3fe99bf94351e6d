// Shared helpers for the per-component planners.
import { stringify } from 'yaml';
import type { Component, Topology } from '../topology/model.ts';
import type { Addressing, ProcessPlan, S3Access } from './types.ts';

export interface Instance {
  id: string;
  replica: number;
}

/** The versions of the binaries the plan is for, where a flag differs between releases. */
export interface PlanVersions {
  /** Thanos release, no leading v ("0.42.4"). */
  thanos: string;
  /** Prometheus release ("3.16.0"); the note's version set runs 2.48. */
  prometheus: string;
}

export interface PlanContext {
  topology: Topology;
  addressing: Addressing;
  versions: PlanVersions;
  /** Instance ids of a component ref, or [ref] itself when it names a service. */
  instancesOf(ref: string): string[];
  /** Instance ids behind a ref: a component's instances, or the instances a service balances over. */
  backendsOf(ref: string): string[];
  /** The component declared at "cluster/name". */
  component(ref: string): Component;
}

export const yaml = (value: unknown): string => stringify(value, { lineWidth: 0 });

/** The note's external labels: every Prometheus of a cluster carries its cluster's name three times. */
export const clusterLabels = (cluster: string): Record<string, string> => ({
  cluster,
  cluster_name: cluster,
  origin_prometheus: cluster,
});

/** Replica label set by prometheus-operator on each Prometheus of an HA group. */
export const PROMETHEUS_REPLICA_LABEL = 'prometheus_replica';

/** Thanos' objstore config: one bucket, a prefix per cluster (as in the note). */
export function objstoreConfig(addressing: Addressing, prefix: string): string {
  return s3ObjstoreConfig(addressing.s3, prefix);
}

/** The same for an S3 given directly (the kube substrate's reachability check runs Thanos against it). */
export function s3ObjstoreConfig(s3: S3Access, prefix: string): string {
  return yaml({
    type: 'S3',
    prefix,
    config: {
      bucket: s3.bucket,
      endpoint: s3.endpoint,
      region: s3.region,
      access_key: s3.accessKey,
      secret_key: s3.secretKey,
      insecure: s3.insecure,
      bucket_lookup_type: 'path',
    },
  });
}

/** Flags every Thanos component shares: where it listens. */
export function thanosListenFlags(addressing: Addressing, id: string, grpc: boolean): string[] {
  const flags = [`--http-address=${addressing.listen(id, 'http')}`];
  if (grpc) flags.push(`--grpc-address=${addressing.listen(id, 'grpc')}`);
  return flags;
}

/** The parts of a ProcessPlan that only depend on which instance of which component it is. */
export function processOf(
  c: Component,
  inst: Instance,
  own: Pick<ProcessPlan, 'binary' | 'args' | 'files' | 'ports'> & Partial<Pick<ProcessPlan, 'after' | 'pod' | 'externalLabels' | 'ready' | 'stopGraceMs' | 'deferred' | 'grownFiles'>>,
): ProcessPlan {
  return {
    id: inst.id,
    component: `${c.cluster}/${c.name}`,
    cluster: c.cluster,
    kind: c.kind,
    replica: inst.replica,
    ready: { port: 'http', path: '/-/ready' },
    after: [],
    pod: inst.id,
    externalLabels: {},
    ...own,
  };
}

/** [major, minor] of a release version ("0.41.0", "v0.42.0-rc.1"); a one-line error for anything else. */
export function majorMinor(version: string): [number, number] {
  const match = /^v?(\d+)\.(\d+)\.\d+/.exec(version);
  if (!match) throw new Error(`"${version}" is not a release version like 1.2.3`);
  return [Number(match[1]), Number(match[2])];
}

/** Whether a release is older than major.minor. */
export function isBefore(version: string, major: number, minor: number): boolean {
  const [x, y] = majorMinor(version);
  return x !== major ? x < major : y < minor;
}
