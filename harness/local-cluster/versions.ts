// What the local cluster is made of. Kubernetes 1.34: from 1.35 the kubelet refuses cgroup v1, which
// this machine (and some CI machines) still use. etcd and CoreDNS are the releases Kubernetes 1.34
// itself pins (kubeadm's constants: etcd 3.6.x, CoreDNS 1.12.1).
export const CLUSTER_VERSIONS = {
  kubernetes: '1.34.4',
  etcd: '3.6.8',
  coredns: '1.12.1',
} as const;
