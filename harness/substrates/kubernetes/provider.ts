// The seam between the Kubernetes substrates: a cluster provider connects or creates the Kubernetes
// clusters a topology runs on and says how they reach each other and S3; everything after that (the
// namespaces, the infra and topology releases, port-forwards, the workload relay, faults, logs,
// teardown) is the shared deploy path, deploy.ts. A provider is one folder next to this one
// (kube/: existing kubeconfig contexts, k3s/: testcontainers), registered in ../index.ts; it imports
// from here, never from another provider.
import type { S3Access } from '../../plan/index.ts';
import type { S3Endpoint } from '../../s3/bucket.ts';
import type { Topology } from '../../topology/model.ts';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Env } from '../../binaries/cache.ts';
import type { KubernetesSubstrateName } from '../types.ts';
import type { Exposure } from './addressing.ts';
import type { KubeCluster } from './cluster.ts';
import type { LinkSwitch } from './link-cut.ts';
import type { BinaryName } from '../../binaries/names.ts';

export type ImageName = BinaryName | 'workload-relay';

/** What a provider hands the deploy path: the clusters, how they reach each other and S3, the images. */
export interface ProvidedClusters {
  /** The connected Kubernetes cluster of each topology cluster (the same one may serve several). */
  clusters: Record<string, KubeCluster>;
  /**
   * How a pod of one Kubernetes cluster reaches a port of another: host:port for a NodePort exposure
   * (e.g. the other cluster's node address and the node port). Absent: the topology clusters are
   * namespaces of one Kubernetes cluster, and pods dial the other namespace's DNS names.
   */
  crossCluster?: (exposure: Exposure) => string;
  /** Cuts and restores the network between two topology clusters (link-cut.ts). Absent: the provider cannot (kube: clusters it does not own). */
  links?: LinkSwitch;
  /** The S3 every cluster reaches, as pods and the test process reach it. Absent: the run's own versitygw in the first cluster's namespace (one Kubernetes cluster only). */
  s3?: { pods: S3Access; test: S3Endpoint; /** The bucket is new: the deploy path creates it (kube's THANOS_HA_E2E_S3_CREATE_BUCKET). */ createBucket?: boolean };
  /**
   * Stops and starts that S3 (RunningTopology.stopS3/startS3: same address, data kept), or why it
   * cannot be (one line naming the fix). Absent with `s3`: an S3 the harness does not run (kube's
   * THANOS_HA_E2E_S3_ENDPOINT); without `s3`, the deploy path's own versitygw is stopped.
   */
  s3Outage?: S3Outage | string;
  /** The image of each component, as the nodes find it. */
  images: Partial<Record<ImageName, string>>;
  imagePullPolicy: 'IfNotPresent' | 'Never' | 'Always';
  /** Prefix of every namespace the run creates: <prefix>-<topology cluster>. */
  namespacePrefix: string;
  /** A directory of the provider's that its release and its reaper remove (kind): the deploy path writes its values files under it, so a killed run leaves none. */
  runDir?: string;
  /** The clusters exist for this run only and go with release(): their namespaces are not deleted one by one first (kind). */
  disposableClusters?: boolean;
  /** The provider's own teardown (kubeconfig copies, containers, networks), run after the namespaces are deleted; also when the deploy fails. */
  release: () => Promise<void>;
}

/** An S3 outage a provider can cause: stop returns once S3 refuses requests, start once it serves them again. */
export interface S3Outage {
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** Why a LocalStack S3 (kind, k3s) cannot have an outage. */
export { LOCALSTACK_NO_OUTAGE } from '../../s3/localstack.ts';

export interface ProvisionOptions {
  env: Env;
  onProgress: (line: string) => void;
}

export interface UnavailableOptions {
  /** Pull what a registry serves and the local engine lacks (default true); doctor only looks. */
  pull?: boolean;
  onProgress?: (line: string) => void;
}

export interface ClusterProvider {
  readonly name: KubernetesSubstrateName;
  /** Why this provider cannot run here, in one line; undefined when it can (doctor, the scenario projects' skip line). */
  unavailable(env: Env, opts?: UnavailableOptions): Promise<string | undefined>;
  /** Reads and checks the provider's settings for this topology before anything is resolved or started; throws a one-line error. */
  check(topology: Topology, opts: ProvisionOptions): Promise<void>;
  /** Connects or creates the clusters. On failure it releases what it made before throwing. */
  provision(topology: Topology, opts: ProvisionOptions): Promise<ProvidedClusters>;
  /** One cluster for a role, for a scenario that deploys a fixture of its own (currentSubstrate().kubernetesCluster); absent: it lends none. */
  lendCluster?(role: string, opts: ProvisionOptions): Promise<LentCluster>;
}

/** A Kubernetes cluster lent to a scenario for the run. */
export interface LentCluster {
  kubeConfig: KubeConfig;
  context: string;
  server: string;
  /** Puts image tars onto its nodes, where the harness can (kind, the local cluster); undefined: they must be there already. */
  loadImages: ((tars: string[], onProgress: (line: string) => void) => Promise<void>) | undefined;
  /** Deletes the cluster, made for this run (kind); undefined for one that was there before (kube), which keeps all but what the scenario removes. */
  release: (() => Promise<void>) | undefined;
}
