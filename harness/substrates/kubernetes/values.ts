// The values of charts/thanos-ha-e2e for one cluster of a planned topology. The chart only maps
// these onto Kubernetes objects; every argument, file and port comes from the plan.
//
// The mapping, and why:
//   pod (ProcessPlan.pod)   one StatefulSet with 1 replica per pod group: the plan gives every instance
//                           its own argv and files (replica labels, local endpoints), so one
//                           StatefulSet per component would need per-ordinal argv chosen at run time
//                           by a shell the images do not have. One per pod also lets a substrate
//                           stop and start a single instance by scaling its StatefulSet to 0 and 1.
//   process                 one container, args exactly the plan's, image by binary
//   files                   one ConfigMap per process, mounted at CONFIG_DIR in its own container;
//                           grownFiles (a hashring that grows) are patched into it later (grownConfigMaps)
//   deferred process        its pod's StatefulSet at 0 replicas, its Services rendered (the grown ring
//                           names it by its Service's DNS name); the scenario starts it
//   data                    one volume per pod at DATA_DIR: with storage persistentVolumeClaim, a PVC
//                           per StatefulSet whose processes keep data there (Prometheus and its
//                           sidecar share it, receive, store, ruler, alertmanager), kept when the pod
//                           is deleted and when it is scaled to 0; an emptyDir for the others (Query)
//                           and with storage emptyDir
//   instance                one headless Service named after it (publishNotReadyAddresses: dialled
//                           directly, ready or not, like a process on 127.0.0.1)
//   component with replicas one headless Service named after the component over all its pods, for
//                           DNS fan-out (dnssrv+_grpc._tcp.<component>...) as upstream charts offer it
//   topology Service        one ClusterIP Service: kube-proxy balances per connection
//   cross-cluster dial      one NodePort Service per exposed target (see addressing.ts)
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import type { BinaryName } from '../../binaries/names.ts';
import type { Plan, PortName, ProcessPlan } from '../../plan/index.ts';
import { CONFIG_DIR, DATA_DIR, clusterOf, localName, type KubeAddressing } from './addressing.ts';

export const LABEL_PREFIX = 'thanos-ha-e2e.io';
/** Pod label naming its pod group (the StatefulSet): what per-instance Services select. */
export const POD_LABEL = `${LABEL_PREFIX}/pod`;
/** Pod label key prefix marking membership of a Service that balances over several pods. */
export const MEMBER_LABEL_PREFIX = `member.${LABEL_PREFIX}/`;
/** Pod annotation: which instance each container runs, as JSON {container: instance id}. */
export const INSTANCES_ANNOTATION = `${LABEL_PREFIX}/instances`;

export type Storage = { type: 'emptyDir' } | { type: 'persistentVolumeClaim'; size: string; storageClassName?: string };

export interface ChartValuesOptions {
  /** The addressing the plan was computed with (its namespace and ports, and the NodePorts it handed out). */
  addressing: KubeAddressing;
  /** Image of each binary the cluster runs, e.g. { thanos: 'thanos-ha-e2e/thanos:0.42.4' }. */
  images: Partial<Record<BinaryName, string>>;
  /** Command of each binary's image when its entrypoint is not the binary (default: the entrypoint). */
  commands?: Partial<Record<BinaryName, string[]>>;
  imagePullPolicy?: 'IfNotPresent' | 'Never' | 'Always';
  /** emptyDir (default: data is lost when a pod is deleted) or a PVC per StatefulSet with data (kept across stop/start). */
  storage?: Storage;
  /** Create every pod stopped (replicas 0): the substrate starts them in the plan's order. */
  startStopped?: boolean;
}

export interface ContainerPortValues {
  /** The plan's port name, when no other container of the pod uses it. */
  name?: string;
  containerPort: number;
}

export interface ContainerValues {
  name: string;
  /** The plan's instance id. */
  instance: string;
  image: string;
  command?: string[];
  args: string[];
  ports: ContainerPortValues[];
  /** HTTP GET of path, or a TCP connect when there is no path (servers without a health endpoint). */
  readinessProbe: { path?: string; port: number };
  /** ConfigMap mounted at CONFIG_DIR; absent when the process has no files. */
  configMap?: string;
}

export interface PodValues {
  /** StatefulSet name (its single pod is <name>-0). */
  name: string;
  /** The governing headless Service (the pod's first instance's). */
  serviceName: string;
  /** What its StatefulSet and its instances' Services select it by. */
  selector: Record<string, string>;
  /** The selector's labels and those of the Services it backs. */
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** 0: created stopped, for the substrate to start once what it dials is ready; absent: 1. */
  replicas?: 0;
  /** Its data volume: a claim (only with storage persistentVolumeClaim) or an emptyDir; absent: storage.type. */
  dataVolume?: Storage['type'];
  containers: ContainerValues[];
}

export interface ServicePortValues {
  name: PortName;
  port: number;
  targetPort: number;
  nodePort?: number;
}

export interface ServiceValues {
  name: string;
  /** instance: one instance's ports; fan-out: every instance of a component; topology: a topology Service; exposure: NodePort for other clusters. */
  role: 'instance' | 'fan-out' | 'topology' | 'exposure';
  type: 'ClusterIP' | 'NodePort';
  headless: boolean;
  publishNotReadyAddresses: boolean;
  selector: Record<string, string>;
  ports: ServicePortValues[];
  annotations: Record<string, string>;
}

export interface ChartValues {
  topology: string;
  cluster: string;
  /** The namespace the DNS names in the arguments contain; the chart refuses to render into another. */
  namespace: string;
  paths: { config: string; data: string };
  imagePullPolicy: 'IfNotPresent' | 'Never' | 'Always';
  storage: Storage;
  pods: PodValues[];
  configMaps: { name: string; data: Record<string, string> }[];
  services: ServiceValues[];
}

const memberLabel = (service: string) => `${MEMBER_LABEL_PREFIX}${service}`;

/** The ConfigMap holding a process's files (absent when it has none). */
export const configMapName = (p: ProcessPlan): string => `${localName(p.id)}-config`;

export interface GrownConfigMap {
  /** The instance whose file changes (what growHashrings returns). */
  instance: string;
  cluster: string;
  /** The StatefulSet of its pod (its pod is <pod>-0). */
  pod: string;
  /** Its ConfigMap, as chartValues named it. */
  configMap: string;
  /** The keys that change: the plan's grownFiles, merged into the ConfigMap's data. */
  data: Record<string, string>;
}

/** What growing every hashring of the plan rewrites: one ConfigMap per instance with grownFiles, in plan order. */
export function grownConfigMaps(plan: Plan): GrownConfigMap[] {
  return plan.processes
    .filter((p) => p.grownFiles)
    .map((p) => ({ instance: p.id, cluster: p.cluster, pod: localName(p.pod), configMap: configMapName(p), data: { ...p.grownFiles! } }));
}

/** Whether a process keeps data in its pod's volume: one of its flags points into DATA_DIR (its own data, or a sidecar's view of its Prometheus'). */
export function usesDataDir(p: ProcessPlan): boolean {
  return p.args.some((arg) => {
    const eq = arg.indexOf('=');
    if (!arg.startsWith('-') || eq < 0) return false;
    const value = arg.slice(eq + 1);
    return value === DATA_DIR || value.startsWith(`${DATA_DIR}/`);
  });
}
const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** The chart values for one cluster of a plan computed with `opts.addressing`. Throws a one-line error on anything the chart could not express. */
export function chartValues(plan: Plan, cluster: string, opts: ChartValuesOptions): ChartValues {
  const { addressing } = opts;
  if (!plan.topology.clusters.some((c) => c.name === cluster)) {
    throw new Error(`topology ${plan.topology.name} has no cluster "${cluster}" (clusters: ${plan.topology.clusters.map((c) => c.name).join(', ')})`);
  }
  const processes = plan.processes.filter((p) => p.cluster === cluster);
  const byId = new Map(plan.processes.map((p) => [p.id, p]));
  const podOf = (instance: string) => byId.get(instance)?.pod ?? fail(`no instance "${instance}" in the plan`);

  // Every Service that balances over several pods marks its pods with a membership label.
  const members = new Map<string, Set<string>>(); // pod id -> services it backs
  const addMember = (service: string, instances: string[]) => {
    for (const instance of instances) {
      const pod = podOf(instance);
      if (!members.has(pod)) members.set(pod, new Set());
      members.get(pod)!.add(service);
    }
  };

  const services: ServiceValues[] = [];
  const servicePorts = (instance: ProcessPlan): ServicePortValues[] =>
    instance.ports.map((port) => ({ name: port, port: addressing.portOf(instance.id, port), targetPort: addressing.portOf(instance.id, port) }));

  for (const p of processes) {
    services.push({
      name: localName(p.id),
      role: 'instance',
      type: 'ClusterIP',
      headless: true,
      publishNotReadyAddresses: true,
      selector: { [POD_LABEL]: localName(p.pod) },
      ports: servicePorts(p),
      annotations: { [`${LABEL_PREFIX}/instance`]: p.id },
    });
  }

  const components = new Map<string, ProcessPlan[]>();
  for (const p of processes) components.set(p.component, [...(components.get(p.component) ?? []), p]);
  for (const [component, instances] of components) {
    if (instances.length < 2) continue; // its one instance's Service already has the component's ports
    const name = localName(component);
    addMember(name, instances.map((p) => p.id));
    services.push({
      name,
      role: 'fan-out',
      type: 'ClusterIP',
      headless: true,
      publishNotReadyAddresses: true,
      selector: { [memberLabel(name)]: 'true' },
      ports: servicePorts(instances[0]!),
      annotations: { [`${LABEL_PREFIX}/component`]: component },
    });
  }

  for (const s of plan.services.filter((s) => s.cluster === cluster)) {
    const name = localName(s.id);
    addMember(name, s.backends);
    const port = addressing.portOf(s.id, s.port);
    services.push({
      name,
      role: 'topology',
      type: 'ClusterIP',
      headless: false,
      publishNotReadyAddresses: false,
      selector: { [memberLabel(name)]: 'true' },
      ports: [{ name: s.port, port, targetPort: port }],
      // kube-proxy picks per connection (iptables: random, IPVS: round robin); the topology's choice is a note here.
      annotations: { [`${LABEL_PREFIX}/service`]: s.id, [`${LABEL_PREFIX}/balancing`]: s.balancing },
    });
  }

  const exposed = new Map<string, ServiceValues>();
  for (const e of addressing.exposures().filter((e) => e.cluster === cluster)) {
    let service = exposed.get(e.service);
    if (!service) {
      const topologyService = plan.services.find((s) => s.id === e.target);
      service = {
        name: e.service,
        role: 'exposure',
        type: 'NodePort',
        headless: false,
        // An instance is dialled ready or not, as in-cluster; a topology Service keeps kube-proxy's rule.
        publishNotReadyAddresses: !topologyService,
        selector: topologyService ? { [memberLabel(localName(e.target))]: 'true' } : { [POD_LABEL]: localName(podOf(e.target)) },
        ports: [],
        annotations: { [`${LABEL_PREFIX}/exposes`]: e.target },
      };
      exposed.set(e.service, service);
      services.push(service);
    }
    service.ports.push({ name: e.port, port: e.targetPort, targetPort: e.targetPort, nodePort: e.nodePort });
  }

  const storage = opts.storage ?? { type: 'emptyDir' };
  const configMaps: ChartValues['configMaps'] = [];
  const pods: PodValues[] = [];
  const groups = new Map<string, ProcessPlan[]>();
  for (const p of processes) groups.set(p.pod, [...(groups.get(p.pod) ?? []), p]);
  for (const [pod, inPod] of groups) {
    const containers = inPod.map((p): ContainerValues => {
      const image = opts.images[p.binary] ?? fail(`no image for ${p.binary} (needed by ${p.id}): set images.${p.binary}`);
      const command = opts.commands?.[p.binary];
      let configMap: string | undefined;
      if (Object.keys(p.files).length > 0) {
        configMap = configMapName(p);
        configMaps.push({ name: configMap, data: { ...p.files } });
      }
      return {
        name: localName(p.component),
        instance: p.id,
        image,
        ...(command ? { command } : {}),
        args: [...p.args],
        ports: p.ports.map((port) => ({ name: port, containerPort: addressing.portOf(p.id, port) })),
        readinessProbe: { path: p.ready.path, port: addressing.portOf(p.id, p.ready.port) },
        ...(configMap ? { configMap } : {}),
      };
    });
    // A port name used by two containers of the pod (Prometheus and its sidecar both have "http") is
    // left unnamed: Services target port numbers anyway.
    const nameCount = new Map<string, number>();
    for (const c of containers) for (const port of c.ports) nameCount.set(port.name!, (nameCount.get(port.name!) ?? 0) + 1);
    for (const c of containers) for (const port of c.ports) if (nameCount.get(port.name!)! > 1) delete port.name;
    assertUnique(`containers of pod ${pod}`, containers.map((c) => c.name));
    assertUnique(`container ports of pod ${pod}`, containers.flatMap((c) => c.ports.map((port) => String(port.containerPort))));

    const configText = inPod.map((p) => JSON.stringify([p.id, p.files])).join('\n');
    pods.push({
      name: localName(pod),
      serviceName: localName(pod),
      selector: { [POD_LABEL]: localName(pod) },
      labels: {
        [POD_LABEL]: localName(pod),
        [`${LABEL_PREFIX}/component`]: localName(byId.get(pod)!.component),
        ...Object.fromEntries([...(members.get(pod) ?? [])].sort().map((s) => [memberLabel(s), 'true'])),
      },
      annotations: {
        [INSTANCES_ANNOTATION]: JSON.stringify(Object.fromEntries(containers.map((c) => [c.name, c.instance]))),
        // Changed files roll the pod on upgrade.
        [`${LABEL_PREFIX}/config-sha256`]: createHash('sha256').update(configText).digest('hex'),
      },
      // A pod of an instance that joins later stays at 0 whatever startStopped says: the scenario starts it.
      ...(opts.startStopped || inPod.some((p) => p.deferred) ? { replicas: 0 as const } : {}),
      dataVolume: storage.type === 'persistentVolumeClaim' && inPod.some(usesDataDir) ? 'persistentVolumeClaim' : 'emptyDir',
      containers,
    });
  }

  const names = (kind: string, list: string[]) => {
    for (const name of list) if (name.length > 63 || !DNS_LABEL.test(name)) fail(`${kind} name "${name}" is not a DNS label (at most 63 of a-z, 0-9, -)`);
    assertUnique(`${kind} names in cluster ${cluster}`, list);
  };
  names('Service', services.map((s) => s.name));
  names('StatefulSet', pods.map((p) => p.name));
  names('ConfigMap', configMaps.map((c) => c.name));
  for (const p of processes) if (clusterOf(p.pod) !== cluster) fail(`${p.id} shares a pod with ${p.pod}, in another cluster`);

  return {
    topology: plan.topology.name,
    cluster,
    namespace: addressing.namespaceOf(cluster),
    paths: { config: CONFIG_DIR, data: DATA_DIR },
    imagePullPolicy: opts.imagePullPolicy ?? 'IfNotPresent',
    storage,
    pods,
    configMaps,
    services,
  };
}

/** The values as a YAML document, for `helm template|install -f`. */
export function chartValuesYaml(values: ChartValues): string {
  return `# charts/thanos-ha-e2e values for cluster "${values.cluster}" of topology ${values.topology}, generated from its plan\n${stringify(values, { lineWidth: 0 })}`;
}

/** Which clusters of a topology have something to run (a values file each). */
export function clustersOf(plan: Plan): string[] {
  return plan.topology.clusters.map((c) => c.name).filter((c) => plan.processes.some((p) => p.cluster === c));
}

function assertUnique(what: string, list: string[]): void {
  const seen = new Set<string>();
  for (const item of list) {
    if (seen.has(item)) fail(`${what}: "${item}" appears twice`);
    seen.add(item);
  }
}

function fail(message: string): never {
  throw new Error(message);
}
