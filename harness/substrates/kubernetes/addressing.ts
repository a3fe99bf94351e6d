// Where things are on Kubernetes: the Addressing the plan is computed with for the k3s and kube
// substrates. Pure: no cluster is contacted.
//
//   listen       0.0.0.0:<conventional port of the component and port name> (see CONTAINER_PORTS)
//   dial         same cluster:   <instance or service>.<namespace of its cluster>.svc.<clusterDomain>:<port>
//                                (every instance has its own headless Service, named after it)
//                other cluster:  whatever the substrate's crossCluster() says for a NodePort exposure
//                                of the target, which is recorded so the target's cluster gets that
//                                NodePort Service (k3s: the other k3s container's address + node port);
//                                without crossCluster() the clusters are namespaces of one Kubernetes
//                                cluster and the DNS name is dialled, as in the same cluster
//   configFile   /etc/thanos-ha-e2e/<file>  (each container mounts its own ConfigMap there)
//   dataDir      /data                      (one volume per pod: a sidecar reads its Prometheus' data)
//   s3, workload the substrate's, as pods see them
import { instanceIds } from '../../plan/index.ts';
import type { Addressing, PortName, S3Access } from '../../plan/index.ts';
import { refOf, type ComponentKind, type Topology } from '../../topology/model.ts';

export const CONFIG_DIR = '/etc/thanos-ha-e2e';
export const DATA_DIR = '/data';

/** The ports the upstream images and charts use, so a manifest reads as people expect. */
export function containerPort(kind: ComponentKind, port: PortName): number {
  switch (port) {
    case 'http':
      return kind === 'prometheus' ? 9090 : kind === 'alertmanager' ? 9093 : 10902;
    case 'grpc':
      return 10901;
    case 'remote-write':
      return 19291;
    case 'capnp':
      return 19391;
  }
}

/** A port of an instance or Service made reachable from the other clusters through a NodePort Service. */
export interface Exposure {
  /** The instance or topology Service dialled, "cluster/name". */
  target: string;
  /** The cluster it lives in (where the NodePort Service is created). */
  cluster: string;
  port: PortName;
  /** The port it listens on inside its cluster. */
  targetPort: number;
  /** The NodePort Service's name and node port. */
  service: string;
  nodePort: number;
}

export interface KubeAddressingOptions {
  /** Namespace of each cluster's objects (the DNS names contain it): one for all, or one per cluster. */
  namespace: string | ((cluster: string) => string);
  clusterDomain?: string;
  /** S3 as pods reach it. */
  s3: S3Access;
  /** The workload exporter's service discovery URL as pods reach it (it runs in the test process). */
  workloadSdUrl: (from: string) => string;
  /**
   * host:port with which a pod of another cluster reaches an exposure, e.g. the k3s container's
   * network alias and the node port. Called while planning, once per dial.
   */
  crossCluster?: (exposure: Exposure) => string;
  /** First node port handed out (default 30100); then one more per exposure, in the order of first use. */
  firstNodePort?: number;
}

export interface KubeAddressing extends Addressing {
  namespaceOf(cluster: string): string;
  readonly clusterDomain: string;
  /** The port number of an instance's or a topology Service's port. */
  portOf(target: string, port: PortName): number;
  /** In-cluster DNS name of an instance's or a topology Service's Service. */
  host(target: string): string;
  /** Exposes a port through a NodePort Service (idempotent); the plan's cross-cluster dials use it, a substrate may add its own. */
  expose(target: string, port: PortName): Exposure;
  /** Every exposure so far, in the order they were first asked for. */
  exposures(): Exposure[];
}

const NODE_PORT_MAX = 32767;

/** "observer/receive-0" -> "receive-0": the object name inside its cluster. */
export const localName = (id: string): string => id.slice(id.indexOf('/') + 1);
export const clusterOf = (id: string): string => id.slice(0, id.indexOf('/'));

export function kubeAddressing(topology: Topology, opts: KubeAddressingOptions): KubeAddressing {
  const clusterDomain = opts.clusterDomain ?? 'cluster.local';
  const kindOfInstance = new Map<string, ComponentKind>();
  const kindsOfComponent = new Map<string, ComponentKind>();
  for (const c of topology.components) {
    kindsOfComponent.set(refOf(c), c.kind);
    for (const inst of instanceIds(c, topology)) kindOfInstance.set(inst.id, c.kind);
  }
  const services = new Map(topology.services.map((s) => [refOf(s), s]));

  const portOf = (target: string, port: PortName): number => {
    const kind = kindOfInstance.get(target);
    if (kind) return containerPort(kind, port);
    const service = services.get(target);
    if (!service) throw new Error(`no instance or service "${target}" in topology ${topology.name}`);
    if (service.port !== port) throw new Error(`service "${target}" has a ${service.port} port, not ${port}`);
    const numbers = new Set(service.targets.map((t) => containerPort(kindsOfComponent.get(t)!, port)));
    if (numbers.size !== 1) throw new Error(`service "${target}" balances over ${port} ports that differ (${[...numbers].join(', ')})`);
    return [...numbers][0]!;
  };
  const namespace = opts.namespace;
  const namespaceOf = typeof namespace === 'string' ? () => namespace : namespace;
  const host = (target: string) => `${localName(target)}.${namespaceOf(clusterOf(target))}.svc.${clusterDomain}`;
  const crossCluster = opts.crossCluster;

  const exposures = new Map<string, Exposure>();
  let nextNodePort = opts.firstNodePort ?? 30100;
  const expose = (target: string, port: PortName): Exposure => {
    const key = `${target}:${port}`;
    let exposure = exposures.get(key);
    if (!exposure) {
      if (nextNodePort > NODE_PORT_MAX) throw new Error(`out of node ports (the range ends at ${NODE_PORT_MAX})`);
      exposure = { target, cluster: clusterOf(target), port, targetPort: portOf(target, port), service: `${localName(target)}-nodeport`, nodePort: nextNodePort++ };
      exposures.set(key, exposure);
    }
    return exposure;
  };

  return {
    namespaceOf,
    clusterDomain,
    portOf,
    host,
    expose,
    exposures: () => [...exposures.values()],
    listen: (id, port) => `0.0.0.0:${portOf(id, port)}`,
    dial: (from, target, port) =>
      clusterOf(from) === clusterOf(target) || !crossCluster ? `${host(target)}:${portOf(target, port)}` : crossCluster(expose(target, port)),
    configFile: (_id, file) => `${CONFIG_DIR}/${file}`,
    dataDir: () => DATA_DIR,
    workloadSdUrl: opts.workloadSdUrl,
    s3: opts.s3,
  };
}
