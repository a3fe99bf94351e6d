// What the kube unit tests plan with: a k3s-like layout (each cluster reached from the other through
// "<cluster>-k3s:<node port>"), recognisable S3 and workload addresses, the component images.
import type { BinaryName } from '../../binaries/names.ts';
import { pinnedVersion } from '../../binaries/versions.ts';
import { planTopology, type Plan } from '../../plan/index.ts';
import type { Topology } from '../../topology/model.ts';
import { kubeAddressing, type KubeAddressing } from './addressing.ts';

export const NAMESPACE = 'thanos-ha-e2e';

export const IMAGES: Partial<Record<BinaryName, string>> = Object.fromEntries(
  (['thanos', 'prometheus', 'alertmanager'] as const).map((name) => [name, `thanos-ha-e2e/${name}:${pinnedVersion(name).version}`]),
);

export function kubePlan(topology: Topology): { plan: Plan; addressing: KubeAddressing } {
  const addressing = kubeAddressing(topology, {
    namespace: NAMESPACE,
    s3: { endpoint: 's3.test:4566', bucket: topology.bucket, accessKey: 'access', secretKey: 'secret', region: 'us-east-1', insecure: true },
    workloadSdUrl: (from) => `http://workload.test:8080/sd?scraper=${encodeURIComponent(from)}`,
    crossCluster: (exposure) => `${exposure.cluster}-k3s:${exposure.nodePort}`,
  });
  return { plan: planTopology(topology, addressing), addressing };
}
