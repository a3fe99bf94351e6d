// The node's own configuration: entrypoint, systemd units, containerd/crictl/CNI config and the two
// manifests kind applies from the node image. Written for this harness (not copied from kind's base
// image); what kind expects of a node image is listed in README.md.
import { NODE_VERSIONS } from './parts.ts';

/** Pod addresses on the single node (kind's default podSubnet is 10.244.0.0/16; one node takes a /24 of it). */
export const NODE_POD_SUBNET = '10.244.0.0/24';

export const IMAGES_DIR = '/kind/images';
const IMPORTED_MARKER = '/var/lib/thanos-ha-e2e/images-imported';

/** PID 1 before systemd: the mounts and ids a nested node needs, then exec /sbin/init. */
export const ENTRYPOINT = `#!/bin/bash
# thanos-ha-e2e kind node entrypoint: prepare the container, then hand PID 1 to systemd.
set -euo pipefail
say() { echo "thanos-ha-e2e node: $*"; }

# Volumes kubelet mounts for pods must propagate into the containers containerd starts.
mount --make-rshared /

# systemd wants a writable cgroup tree it owns; docker gives a privileged container a rw one.
if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
  say "cgroup v2"
else
  # kind waits for this line (or systemd's "Reached target Multi-User System") before it goes on.
  say "detected cgroup v1"
fi

# One machine id per node container (kubelet reports it; systemd-journald wants one).
if [[ ! -s /etc/machine-id ]]; then
  tr -d '-' < /proc/sys/kernel/random/uuid > /etc/machine-id
fi

# The host may have no /lib/modules (this VM); kind bind-mounts it read-only where it exists.
mkdir -p /lib/modules 2>/dev/null || true

# Docker's embedded DNS (127.0.0.11) answers inside this container's loopback only.
/usr/local/bin/thanos-ha-e2e-pod-dns || say "pod DNS relay not set up (exit $?): pods keep 127.0.0.11"
say "starting systemd"
exec "$@"
`;

/**
 * Pods (CoreDNS among them, dnsPolicy Default) copy the node's resolv.conf; 127.0.0.11 there is
 * the pod's own loopback (CoreDNS then finds a loop and exits). So: the node's address on port 53
 * is DNATed to the ports Docker's own rules send 127.0.0.11:53 to, and resolv.conf names the node's
 * address. Container names on the Docker network then resolve in pods too.
 */
export const POD_DNS = `#!/bin/bash
# Let pods use Docker's embedded DNS: answer on the node's address, port 53, by DNAT to the
# ports Docker's own rules point 127.0.0.11:53 at, and give pods (via kubelet) that address.
set -euo pipefail
grep -q '^nameserver 127\\.0\\.0\\.11' /etc/resolv.conf || exit 0
node_ip=$(ip -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1 | head -1)
[[ -n "$node_ip" ]] || exit 0
rules=$(iptables-save -t nat)
udp=$(sed -n 's|.*-d 127\\.0\\.0\\.11/32 -p udp .*--to-destination 127\\.0\\.0\\.11:\\([0-9]*\\).*|\\1|p' <<<"$rules" | head -1)
tcp=$(sed -n 's|.*-d 127\\.0\\.0\\.11/32 -p tcp .*--to-destination 127\\.0\\.0\\.11:\\([0-9]*\\).*|\\1|p' <<<"$rules" | head -1)
[[ -n "$udp" && -n "$tcp" ]] || { echo "thanos-ha-e2e node: no Docker DNS rules found; pods keep 127.0.0.11"; exit 0; }
sysctl -qw net.ipv4.conf.all.route_localnet=1
iptables -t nat -N THANOS_HA_E2E_DNS 2>/dev/null || iptables -t nat -F THANOS_HA_E2E_DNS
iptables -t nat -A THANOS_HA_E2E_DNS -d "$node_ip" -p udp --dport 53 -j DNAT --to-destination "127.0.0.11:$udp"
iptables -t nat -A THANOS_HA_E2E_DNS -d "$node_ip" -p tcp --dport 53 -j DNAT --to-destination "127.0.0.11:$tcp"
iptables -t nat -C PREROUTING -j THANOS_HA_E2E_DNS 2>/dev/null || iptables -t nat -I PREROUTING -j THANOS_HA_E2E_DNS
iptables -t nat -C OUTPUT -j THANOS_HA_E2E_DNS 2>/dev/null || iptables -t nat -I OUTPUT -j THANOS_HA_E2E_DNS
# Replies leave from 127.0.0.11:<port>; conntrack maps them back to node_ip:53.
sed "s/^nameserver 127\\.0\\.0\\.11/nameserver $node_ip/" /etc/resolv.conf > /etc/resolv.conf.new
cat /etc/resolv.conf.new > /etc/resolv.conf && rm -f /etc/resolv.conf.new
echo "thanos-ha-e2e node: DNS for pods at $node_ip:53 -> Docker's resolver (127.0.0.11:$udp/udp, :$tcp/tcp)"
`;

/** Imports the image tars under /kind/images into containerd's k8s.io namespace, once per node. */
export const IMPORT_IMAGES = `#!/bin/bash
set -euo pipefail
for i in $(seq 1 60); do ctr version >/dev/null 2>&1 && break; sleep 0.5; done
shopt -s nullglob
for tar in ${IMAGES_DIR}/*.tar; do
  ctr --namespace=k8s.io images import --label=io.cri-containerd.pinned=pinned --all-platforms "$tar"
done
mkdir -p "$(dirname ${IMPORTED_MARKER})"
date > ${IMPORTED_MARKER}
`;

/**
 * kubelet's cgroupRoot (kind's kubeadm config: /kubelet, so kubelet.slice with the systemd driver)
 * must exist in every cgroup v1 controller kubelet checks; systemd does not make cpuset ones.
 */
export const KUBELET_CGROUPS = `#!/bin/bash
set -euo pipefail
[[ -f /sys/fs/cgroup/cgroup.controllers ]] && exit 0
for controller in /sys/fs/cgroup/*/; do
  name=$(basename "$controller")
  [[ -L "\${controller%/}" || "$name" == unified ]] && continue
  # Docker makes empty read-only directories for controllers the host does not mount (here
  # cpu,cpuacct and hugetlb, where the host mounts cpu and cpuacct apart): not cgroup trees.
  [[ -f "\${controller}cgroup.procs" ]] || continue
  mkdir -p "\${controller}kubelet.slice"
  if [[ "$name" == cpuset ]]; then
    [[ -s "\${controller}kubelet.slice/cpuset.cpus" ]] || cat "\${controller}cpuset.cpus" > "\${controller}kubelet.slice/cpuset.cpus"
    [[ -s "\${controller}kubelet.slice/cpuset.mems" ]] || cat "\${controller}cpuset.mems" > "\${controller}kubelet.slice/cpuset.mems"
  fi
done
`;

export const CONTAINERD_UNIT = `[Unit]
Description=containerd container runtime (thanos-ha-e2e kind node)
After=network.target local-fs.target

[Service]
ExecStart=/usr/local/bin/containerd
Type=notify
Delegate=yes
KillMode=process
Restart=always
RestartSec=1
LimitNPROC=infinity
LimitCORE=infinity
LimitNOFILE=infinity
TasksMax=infinity
OOMScoreAdjust=-999

[Install]
WantedBy=multi-user.target
`;

export const IMPORT_UNIT = `[Unit]
Description=Import the node image's preloaded images into containerd
After=containerd.service
Requires=containerd.service
Before=kubelet.service
ConditionPathExists=!${IMPORTED_MARKER}

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/bin/thanos-ha-e2e-import-images

[Install]
WantedBy=multi-user.target
`;

export const KUBELET_SLICE = `[Unit]
Description=kubelet and its pods (kubelet's cgroupRoot /kubelet)
Before=slices.target

[Slice]
CPUAccounting=yes
MemoryAccounting=yes
TasksAccounting=yes
`;

/** Restarts every second until kubeadm has written its config (kubeadm then restarts it itself). */
export const KUBELET_UNIT = `[Unit]
Description=kubelet (thanos-ha-e2e kind node)
After=containerd.service thanos-ha-e2e-images.service
Wants=containerd.service thanos-ha-e2e-images.service
StartLimitIntervalSec=0

[Service]
Slice=kubelet.slice
CPUAccounting=yes
MemoryAccounting=yes
TasksAccounting=yes
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
EnvironmentFile=-/etc/default/kubelet
ExecStartPre=/bin/test -f /var/lib/kubelet/config.yaml
ExecStartPre=/usr/local/bin/thanos-ha-e2e-kubelet-cgroups
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
Restart=always
RestartSec=1s

[Install]
WantedBy=multi-user.target
`;

export const CONTAINERD_CONFIG = `# thanos-ha-e2e kind node: containerd 2.x (config version 3)
version = 3

[plugins.'io.containerd.cri.v1.images']
  snapshotter = 'overlayfs'
  # Every image the node needs is preloaded; pulling is for what users load themselves.
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = 'registry.k8s.io/pause:${NODE_VERSIONS.pauseImageTag}'

[plugins.'io.containerd.cri.v1.runtime']
  # kubelet asks for oom_score_adj -998/-997 for sandboxes and critical pods; lowering it needs
  # CAP_SYS_RESOURCE, which a node on a VM without it lacks (runc: "failed to update
  # /proc/self/oom_score_adj: Permission denied"). Clamp to containerd's own value instead; where
  # containerd runs at -999 (OOMScoreAdjust below) this changes nothing.
  restrict_oom_score_adj = true
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = 'runc'
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = 'io.containerd.runc.v2'
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        SystemdCgroup = true
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ['/opt/cni/bin']
    conf_dir = '/etc/cni/net.d'
`;

export const CRICTL_CONFIG = `runtime-endpoint: unix:///run/containerd/containerd.sock
image-endpoint: unix:///run/containerd/containerd.sock
`;

/** Single node: pods on a bridge, NAT out, host ports; no CNI daemon needed. */
export const CNI_CONFIG = `${JSON.stringify(
  {
    cniVersion: '1.0.0',
    name: 'thanos-ha-e2e',
    plugins: [
      {
        type: 'bridge',
        bridge: 'cni0',
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: NODE_POD_SUBNET }]], routes: [{ dst: '0.0.0.0/0' }] },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  },
  null,
  2,
)}\n`;

/** kind `kubectl create`s this: with the static CNI config there is nothing to run, so only a note. */
export const DEFAULT_CNI_MANIFEST = `# thanos-ha-e2e kind node: pod networking is a static CNI config in the node image
# (/etc/cni/net.d/10-thanos-ha-e2e.conflist: bridge + host-local ${NODE_POD_SUBNET} + portmap), which
# is enough for a single-node cluster. kind applies this file; it only records that.
apiVersion: v1
kind: ConfigMap
metadata:
  name: thanos-ha-e2e-cni
  namespace: kube-system
data:
  cni: static bridge, single node, pod subnet ${NODE_POD_SUBNET}
`;

/** local-path-provisioner: its namespace, where volumes live on the node, its two images (index.ts). */
export const LOCAL_PATH = {
  namespace: 'local-path-storage',
  provisioner: 'rancher.io/local-path',
  nodeDir: '/var/local-path-provisioner',
} as const;

/**
 * kind `kubectl apply`s this: the default StorageClass "standard", dynamic hostPath volumes under
 * LOCAL_PATH.nodeDir made by local-path-provisioner (as kind's own node images do), bound when the
 * first pod is scheduled. The helper pod runs the setup and teardown scripts that make and remove a
 * volume's directory; its image is busybox from the node's own rootfs.
 */
export function defaultStorageManifest(images: { provisioner: string; helper: string }): string {
  const { namespace } = LOCAL_PATH;
  const name = 'local-path-provisioner';
  const config = JSON.stringify({ nodePathMap: [{ node: 'DEFAULT_PATH_FOR_NON_LISTED_NODES', paths: [LOCAL_PATH.nodeDir] }] });
  const helperPod = [
    'apiVersion: v1',
    'kind: Pod',
    'metadata:',
    '  name: helper-pod',
    'spec:',
    '  priorityClassName: system-node-critical',
    '  tolerations:',
    '    - { operator: Exists }',
    '  containers:',
    '    - name: helper-pod',
    `      image: ${images.helper}`,
    '      imagePullPolicy: IfNotPresent',
  ].join('\n');
  const indent = (text: string, n: number) => text.split('\n').map((l) => ' '.repeat(n) + l).join('\n');
  return `apiVersion: v1
kind: Namespace
metadata:
  name: ${namespace}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: ${name}
  namespace: ${namespace}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: thanos-ha-e2e-${name}
rules:
  - apiGroups: [""]
    resources: [nodes, persistentvolumeclaims, configmaps, pods/log]
    verbs: [get, list, watch]
  - apiGroups: [""]
    resources: [persistentvolumes, pods]
    verbs: [get, list, watch, create, patch, update, delete]
  - apiGroups: [""]
    resources: [events]
    verbs: [create, patch]
  - apiGroups: [storage.k8s.io]
    resources: [storageclasses]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: thanos-ha-e2e-${name}
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: thanos-ha-e2e-${name} }
subjects:
  - { kind: ServiceAccount, name: ${name}, namespace: ${namespace} }
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: local-path-config
  namespace: ${namespace}
data:
  config.json: '${config}'
  setup: |-
    #!/bin/sh
    set -eu
    mkdir -m 0777 -p "$VOL_DIR"
  teardown: |-
    #!/bin/sh
    set -eu
    rm -rf "$VOL_DIR"
  helperPod.yaml: |-
${indent(helperPod, 4)}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${namespace}
spec:
  replicas: 1
  selector:
    matchLabels: { app: ${name} }
  template:
    metadata:
      labels: { app: ${name} }
    spec:
      serviceAccountName: ${name}
      priorityClassName: system-node-critical
      tolerations:
        - { operator: Exists }
      containers:
        - name: ${name}
          image: ${images.provisioner}
          imagePullPolicy: IfNotPresent
          command: [/usr/local/bin/${name}, start, --config, /etc/config/config.json, --service-account-name, ${name}, --provisioner-name, ${LOCAL_PATH.provisioner}, --helper-image, ${images.helper}]
          env:
            - name: POD_NAMESPACE
              valueFrom: { fieldRef: { fieldPath: metadata.namespace } }
            - { name: CONFIG_MOUNT_PATH, value: /etc/config/ }
          volumeMounts:
            - { name: config, mountPath: /etc/config/ }
      volumes:
        - name: config
          configMap: { name: local-path-config }
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: ${LOCAL_PATH.provisioner}
reclaimPolicy: Delete
volumeBindingMode: WaitForFirstConsumer
`;
}

/** Units that have nothing to do in a container, or fail there. */
export const MASKED_UNITS = [
  'systemd-udevd.service',
  'systemd-udev-trigger.service',
  'systemd-modules-load.service',
  'systemd-remount-fs.service',
  'getty.target',
  'console-getty.service',
  'systemd-firstboot.service',
  'systemd-networkd-wait-online.service',
  'sys-kernel-debug.mount',
  'sys-kernel-tracing.mount',
  'apt-daily.timer',
  'apt-daily-upgrade.timer',
];

/** Enabled by symlink in multi-user.target.wants. */
export const ENABLED_UNITS = ['containerd.service', 'thanos-ha-e2e-images.service', 'kubelet.service'];
