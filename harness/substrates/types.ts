// What a scenario gets from any substrate: a running topology it can query, inspect and break.
import type { Plan, PortName } from '../plan/index.ts';
import type { Bucket } from '../s3/bucket.ts';
import type { LinkCutOptions } from './links.ts';
import type { Topology } from '../topology/model.ts';
import type { Exporter } from '../workload/exporter.ts';

/** The Kubernetes substrates: one cluster provider each (kubernetes/provider.ts), registered in index.ts. */
export type KubernetesSubstrateName = 'kind' | 'k3s' | 'kube';
export type SubstrateName = 'process' | KubernetesSubstrateName;

/**
 * A fault a scenario causes that not every substrate can (RunningTopology.cutLink, stopS3): a file
 * declares the ones it needs (useTopology's `faults`) and is skipped in one line where they are refused.
 * `killOutright`: RunningTopology.kill as SIGKILL, the process given no chance to flush anything.
 */
export type Fault = 'cutLink' | 'stopS3' | 'killOutright';

export interface UpOptions {
  /** Progress lines during long waits (bring-up, builds). */
  onProgress?: (line: string) => void;
  /** Keep the run directory (data, configs, logs) after teardown. */
  keep?: boolean;
  /** If bring-up fails, copy every component's log here before tearing down. */
  logsOnFailure?: string;
}

export interface RunningTopology extends AsyncDisposable {
  readonly substrate: SubstrateName;
  readonly topology: Topology;
  readonly plan: Plan;
  /** Where data, configs and logs of this run live (process substrate), for the report. */
  readonly runDir: string;
  /** Base URL of an instance's or service's port, reachable from the test process. */
  url(target: string, port?: PortName): string;
  /** The S3 bucket every component uses. */
  readonly bucket: Bucket;
  /**
   * The deterministic workload exporter every workload-scraping Prometheus scrapes. It serves from
   * the harness servers' worker thread: await its mutations, and sync() before reading what a
   * scrape that has just happened changed.
   */
  readonly workload: Exporter;
  /** A Service's switches (process: the L4 proxy; Kubernetes: the Service). */
  service(id: string): ServiceControls;
  /** Faults. */
  stop(instance: string): Promise<void>;
  kill(instance: string): Promise<void>;
  start(instance: string): Promise<void>;
  /**
   * Grows every hashring that has replicas joining later (a receive's `joining`): rewrites each
   * hashrings file that omits them with the ring that names them, in place (Receive watches its
   * file), and returns the instances whose file changed. The joining instances are not started at
   * bring-up: start() them first. Process: the files written in place; Kubernetes: each ConfigMap
   * patched and its pod annotated, so that the kubelet projects it at once (kubernetes/deploy.ts).
   */
  growHashrings(): Promise<string[]>;
  /**
   * Cuts the network between two clusters (names from topology.clusters), both directions, until
   * restoreLink. `mode` (LinkCutMode, default `reset`):
   * - `reset`: open connections break, new ones are refused at once.
   * - `hang`: packets are dropped: open connections stop moving, new ones get no answer, and nothing
   *   is closed or reset; each end learns only from its own timeouts. restoreLink heals it as a
   *   network does: connections both ends kept move on, the others close.
   * Process: the link proxies every cross-cluster dial goes through (a hung proxy still accepts a
   * new connection, holding it, so only the client's timeouts above TCP see the hang); kind, k3s:
   * iptables in the node containers, REJECT with a TCP reset or DROP; kube: an error, either mode.
   */
  cutLink(a: string, b: string, options?: LinkCutOptions): Promise<void>;
  restoreLink(a: string, b: string): Promise<void>;
  /**
   * An object storage outage: S3 stops (every component's requests to it fail) and starts again at
   * the same address with its data kept. startS3 returns once it accepts requests again.
   */
  stopS3(): Promise<void>;
  startS3(): Promise<void>;
  /**
   * The first component that exited (or, on Kubernetes, failed) without the harness asking it to:
   * one line naming it, its exit status and its last log line. undefined while all run as planned.
   * While a topology is up, every wait gives up as soon as this says something (wait.ts).
   */
  failure(): string | undefined;
  /** Copies every component's log into dir; returns the files written. */
  collectLogs(dir: string): Promise<string[]>;
  close(): Promise<void>;
}

export interface ServiceControls {
  /** Refuse new connections (process: and drop open ones; Kubernetes: open ones stay, as with kube-proxy). */
  cut(): void | Promise<void>;
  restore(): void | Promise<void>;
  /** Send every new connection to one backend (index in the service's backends); undefined: balance. */
  pin(backend: number | undefined): void | Promise<void>;
  /** Connections accepted so far, per backend; empty where the substrate cannot count them (Kubernetes). */
  readonly connections: readonly number[];
}

export interface Substrate {
  readonly name: SubstrateName;
  up(topology: Topology, opts?: UpOptions): Promise<RunningTopology>;
}
