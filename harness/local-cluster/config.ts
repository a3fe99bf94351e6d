// Where everything of the local cluster lives, its addresses, and the text of each config file (pure).
//
// Addresses. Everything the host talks to listens on 127.0.0.1. The cluster itself needs one address
// that pods can reach and that is not loopback (the kubelet refuses a loopback node IP, and Endpoints
// may not hold one): NODE_IP, a /32 this cluster adds to `lo`. The kubelet serves on it, and a relay
// forwards NODE_IP:6443 to the API server on 127.0.0.1:6443 for in-cluster clients (the `kubernetes`
// Service). Pods get 10.244.0.0/24 on a bridge of ours, Services 10.96.0.0/16. No traffic leaves for
// anything else: CoreDNS answers cluster names only (no upstream forwarding) and pods are not
// masqueraded to the outside.
import { join } from 'node:path';
import { cacheRoot, type Env } from '../binaries/cache.ts';
import type { Pki } from './pki.ts';

export const NODE_NAME = 'thanos-ha-e2e';
export const NODE_IP = '10.245.0.1';
export const POD_CIDR = '10.244.0.0/16';
export const NODE_POD_CIDR = '10.244.0.0/24';
export const SERVICE_CIDR = '10.96.0.0/16';
export const KUBERNETES_SERVICE_IP = '10.96.0.1';
export const DNS_SERVICE_IP = '10.96.0.10';
export const CLUSTER_DOMAIN = 'cluster.local';
export const BRIDGE = 'thke2e0';
export const CNI_BIN_DIR = '/usr/lib/cni';

export const PORTS = {
  apiserver: 6443,
  etcdClient: 12379,
  etcdPeer: 12380,
  kubelet: 10250,
  kubeletHealthz: 10248,
  kubeProxyMetrics: 10249,
  kubeProxyHealthz: 10256,
  controllerManager: 10257,
  scheduler: 10259,
} as const;

export interface ClusterLayout {
  root: string;
  /** The admin kubeconfig: what tests and users point KUBECONFIG at. */
  kubeconfig: string;
  pki: string;
  /** Generated configs, rewritten on each up. */
  etc: string;
  logs: string;
  /** pid files, sockets, the record of what up changed on the host. */
  run: string;
  containerdSocket: string;
  /** Images and their unpacked layers: kept across down, so the next up need not import again. */
  containerdRoot: string;
  containerdState: string;
  etcdData: string;
  kubeletRoot: string;
  podLogs: string;
  cniConfDir: string;
  cniIpamDir: string;
  /** One marker per imported image tar (its file name), so up imports a tar once. */
  importedDir: string;
}

export function clusterLayout(env: Env = process.env): ClusterLayout {
  const root = env.THANOS_HA_E2E_CLUSTER_DIR || join(cacheRoot(env), 'cluster');
  const data = join(root, 'data');
  return {
    root,
    kubeconfig: join(root, 'kubeconfig'),
    pki: join(root, 'pki'),
    etc: join(root, 'etc'),
    logs: join(root, 'logs'),
    run: join(root, 'run'),
    containerdSocket: join(root, 'run', 'containerd.sock'),
    containerdRoot: join(root, 'containerd'),
    containerdState: join(data, 'containerd-state'),
    etcdData: join(data, 'etcd'),
    kubeletRoot: join(data, 'kubelet'),
    podLogs: join(data, 'pod-logs'),
    cniConfDir: join(root, 'etc', 'cni'),
    cniIpamDir: join(data, 'cni-ipam'),
    importedDir: join(root, 'containerd', 'imported'),
  };
}

export function kubeconfig(opts: { server: string; ca: string; cert: string; key: string; user: string }): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: thanos-ha-e2e-local
  cluster:
    server: ${opts.server}
    certificate-authority: ${opts.ca}
users:
- name: ${opts.user}
  user:
    client-certificate: ${opts.cert}
    client-key: ${opts.key}
contexts:
- name: thanos-ha-e2e-local
  context:
    cluster: thanos-ha-e2e-local
    user: ${opts.user}
current-context: thanos-ha-e2e-local
`;
}

export function containerdConfig(layout: ClusterLayout, sandboxImage: string): string {
  return `version = 2
root = "${layout.containerdRoot}/root"
state = "${layout.containerdState}"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "${layout.containerdSocket}"

[ttrpc]
  address = "${layout.containerdSocket}.ttrpc"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "${layout.containerdRoot}/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${sandboxImage}"
  enable_selinux = false
  disable_apparmor = true
  # This machine denies lowering oom_score_adj (no CAP_SYS_RESOURCE in effect): clamp to containerd's own.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${CNI_BIN_DIR}"
    conf_dir = "${layout.cniConfDir}"
    max_conf_num = 1
`;
}

export function cniConfig(layout: ClusterLayout): string {
  return `${JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'thanos-ha-e2e',
      plugins: [
        {
          type: 'bridge',
          bridge: BRIDGE,
          isGateway: true,
          ipMasq: false, // pods talk to the cluster only
          hairpinMode: true, // a pod reaches itself through its Service
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: NODE_POD_CIDR, gateway: '10.244.0.1' }]],
            routes: [{ dst: '0.0.0.0/0' }],
            dataDir: layout.cniIpamDir,
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
        // Docker's FORWARD policy is DROP on this machine: accept traffic from and back to pods.
        { type: 'firewall' },
      ],
    },
    null,
    2,
  )}\n`;
}

export function etcdArgs(layout: ClusterLayout): string[] {
  return [
    '--name=thanos-ha-e2e',
    `--data-dir=${layout.etcdData}`,
    `--listen-client-urls=http://127.0.0.1:${PORTS.etcdClient}`,
    `--advertise-client-urls=http://127.0.0.1:${PORTS.etcdClient}`,
    `--listen-peer-urls=http://127.0.0.1:${PORTS.etcdPeer}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${PORTS.etcdPeer}`,
    `--initial-cluster=thanos-ha-e2e=http://127.0.0.1:${PORTS.etcdPeer}`,
    '--listen-metrics-urls=',
    '--log-level=warn',
    '--quota-backend-bytes=2147483648',
  ];
}

export function apiserverArgs(pki: Pki): string[] {
  return [
    '--bind-address=127.0.0.1',
    `--secure-port=${PORTS.apiserver}`,
    `--advertise-address=${NODE_IP}`,
    `--etcd-servers=http://127.0.0.1:${PORTS.etcdClient}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    '--service-node-port-range=30000-32767',
    `--client-ca-file=${pki.ca.cert}`,
    `--tls-cert-file=${pki.apiserver.cert}`,
    `--tls-private-key-file=${pki.apiserver.key}`,
    `--kubelet-client-certificate=${pki.apiserverKubeletClient.cert}`,
    `--kubelet-client-key=${pki.apiserverKubeletClient.key}`,
    '--kubelet-preferred-address-types=InternalIP',
    `--service-account-issuer=https://kubernetes.default.svc.${CLUSTER_DOMAIN}`,
    `--service-account-key-file=${pki.serviceAccount.pub}`,
    `--service-account-signing-key-file=${pki.serviceAccount.key}`,
    '--authorization-mode=Node,RBAC',
    '--enable-admission-plugins=NodeRestriction',
    '--allow-privileged=true',
    '--profiling=false',
    '--endpoint-reconciler-type=lease',
    '--v=1',
  ];
}

export function controllerManagerArgs(layout: ClusterLayout, pki: Pki): string[] {
  const kc = join(layout.etc, 'controller-manager.kubeconfig');
  return [
    `--kubeconfig=${kc}`,
    `--authentication-kubeconfig=${kc}`,
    `--authorization-kubeconfig=${kc}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${PORTS.controllerManager}`,
    `--service-account-private-key-file=${pki.serviceAccount.key}`,
    `--root-ca-file=${pki.ca.cert}`,
    '--use-service-account-credentials=true',
    '--allocate-node-cidrs=true',
    `--cluster-cidr=${POD_CIDR}`,
    '--node-cidr-mask-size=24',
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    '--leader-elect=false',
    '--controllers=*,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller',
    '--profiling=false',
    '--v=1',
  ];
}

export function schedulerArgs(layout: ClusterLayout): string[] {
  const kc = join(layout.etc, 'scheduler.kubeconfig');
  return [
    `--kubeconfig=${kc}`,
    `--authentication-kubeconfig=${kc}`,
    `--authorization-kubeconfig=${kc}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${PORTS.scheduler}`,
    '--leader-elect=false',
    '--profiling=false',
    '--v=1',
  ];
}

export function kubeletConfig(layout: ClusterLayout, pki: Pki): string {
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: ${NODE_IP}
port: ${PORTS.kubelet}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: ${PORTS.kubeletHealthz}
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: ${pki.ca.cert}
authorization:
  mode: Webhook
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://${layout.containerdSocket}
clusterDNS:
- ${DNS_SERVICE_IP}
clusterDomain: ${CLUSTER_DOMAIN}
# Pods get the cluster's DNS only, never the host's resolvers or search domains.
resolvConf: ""
failSwapOn: false
enableProfilingHandler: false
enableDebuggingHandlers: true
serializeImagePulls: false
podLogsDir: ${layout.podLogs}
volumePluginDir: ${join(layout.kubeletRoot, 'volume-plugins')}
rotateCertificates: false
serverTLSBootstrap: false
# A shared 2-core test machine: never evict for disk or memory, never garbage-collect images.
evictionHard:
  memory.available: "1Mi"
  nodefs.available: "0%"
  nodefs.inodesFree: "0%"
  imagefs.available: "0%"
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
maxPods: 110
`;
}

export function kubeletArgs(layout: ClusterLayout): string[] {
  return [
    `--config=${join(layout.etc, 'kubelet.yaml')}`,
    `--kubeconfig=${join(layout.etc, 'kubelet.kubeconfig')}`,
    `--root-dir=${layout.kubeletRoot}`,
    `--cert-dir=${join(layout.kubeletRoot, 'pki')}`,
    `--hostname-override=${NODE_NAME}`,
    `--node-ip=${NODE_IP}`,
    '--v=1',
  ];
}

export function kubeProxyConfig(layout: ClusterLayout): string {
  return `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection:
  kubeconfig: ${join(layout.etc, 'kube-proxy.kubeconfig')}
hostnameOverride: ${NODE_NAME}
clusterCIDR: ${POD_CIDR}
bindAddress: ${NODE_IP}
metricsBindAddress: 127.0.0.1:${PORTS.kubeProxyMetrics}
healthzBindAddress: 127.0.0.1:${PORTS.kubeProxyHealthz}
# NodePorts answer on 127.0.0.1 (the test process) and on the node IP, nowhere else.
nodePortAddresses:
- 127.0.0.1/32
- ${NODE_IP}/32
# Leave the host's conntrack sysctls alone.
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
`;
}

/** CoreDNS: cluster names only (no forward plugin: nothing leaves for the host's resolvers). */
export function corednsManifest(image: string): string {
  return `apiVersion: v1
kind: ServiceAccount
metadata: {name: coredns, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:coredns"}
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "system:coredns"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:coredns"}
subjects:
- {kind: ServiceAccount, name: coredns, namespace: kube-system}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: coredns, namespace: kube-system}
data:
  Corefile: |
    .:53 {
        errors
        health :8080
        ready :8181
        kubernetes ${CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {
          pods insecure
          ttl 30
        }
        cache 30
    }
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: coredns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  replicas: 1
  selector: {matchLabels: {k8s-app: kube-dns}}
  template:
    metadata: {labels: {k8s-app: kube-dns}}
    spec:
      serviceAccountName: coredns
      priorityClassName: system-cluster-critical
      dnsPolicy: Default
      containers:
      - name: coredns
        image: ${image}
        imagePullPolicy: Never
        args: [-conf, /etc/coredns/Corefile]
        ports:
        - {name: dns, containerPort: 53, protocol: UDP}
        - {name: dns-tcp, containerPort: 53, protocol: TCP}
        volumeMounts:
        - {name: config, mountPath: /etc/coredns, readOnly: true}
        readinessProbe:
          httpGet: {path: /ready, port: 8181}
          periodSeconds: 2
        livenessProbe:
          httpGet: {path: /health, port: 8080}
      volumes:
      - name: config
        configMap: {name: coredns}
---
apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  clusterIP: ${DNS_SERVICE_IP}
  selector: {k8s-app: kube-dns}
  ports:
  - {name: dns, port: 53, protocol: UDP}
  - {name: dns-tcp, port: 53, protocol: TCP}
`;
}
