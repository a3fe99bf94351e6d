// What the plan produces: one entry per process (a container, on Kubernetes substrates).
import type { BinaryName } from '../binaries/names.ts';
import type { ComponentKind, Topology } from '../topology/model.ts';

export type PortName = 'http' | 'grpc' | 'remote-write' | 'capnp';

export interface ProcessPlan {
  /** Instance id, "cluster/name" or "cluster/name-<replica>". */
  id: string;
  /** The topology component it is an instance of ("cluster/name"). */
  component: string;
  cluster: string;
  kind: ComponentKind;
  replica: number;
  binary: BinaryName;
  args: string[];
  /** Config files by name; written where addressing.configFile(id, name) points. */
  files: Record<string, string>;
  ports: PortName[];
  ready: { port: PortName; path: string };
  /** Instances that must be ready before this one starts (a sidecar waits for its Prometheus). */
  after: string[];
  /** Instance whose pod this process shares (the sidecar shares its Prometheus's data volume). */
  pod: string;
  /** Labels identifying the data this instance serves (external labels), for assertions. */
  externalLabels: Record<string, string>;
  /**
   * How long a stop waits after SIGTERM before SIGKILL; undefined: the substrate's short default.
   * Set where a graceful shutdown does work a test reads (Receive writes its head as a block and
   * uploads it).
   */
  stopGraceMs?: number;
  /** Not started at bring-up: the scenario starts it (a receive that joins a hashring later). */
  deferred?: boolean;
  /** Config files as they are once the hashring grows (RunningTopology.growHashrings writes them over `files`). */
  grownFiles?: Record<string, string>;
}

export interface ServicePlan {
  /** "cluster/name" */
  id: string;
  cluster: string;
  port: PortName;
  balancing: 'round-robin' | 'random';
  /** Instance ids behind the service. */
  backends: string[];
}

export interface Plan {
  topology: Topology;
  processes: ProcessPlan[];
  services: ServicePlan[];
}

/** S3 as the components see it. */
export interface S3Access {
  endpoint: string; // host:port, no scheme
  bucket: string;
  accessKey: string;
  secretKey: string;
  region: string;
  insecure: boolean;
}

/** Where things are, as a given substrate lays them out. The plan never hard-codes an address or path. */
export interface Addressing {
  /** host:port the instance binds for a port. */
  listen(instance: string, port: PortName): string;
  /** host:port an instance dials to reach another instance or a service ("cluster/name"). */
  dial(from: string, target: string, port: PortName): string;
  configFile(instance: string, file: string): string;
  dataDir(instance: string): string;
  /** URL of the workload exporter's HTTP service discovery, as the instance sees it. */
  workloadSdUrl(from: string): string;
  s3: S3Access;
}
