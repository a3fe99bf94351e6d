// What a Kubernetes run needs besides the topology, as a release of the same chart: the workload relay
// in every cluster namespace (pods reach the test process's exporter through it) and, when no S3 is
// given, versitygw as S3 in the first one. Installed and ready before the topology starts.
import { S3_CREDENTIALS, versitygwArgs } from '../../s3/versitygw.ts';
import type { KubeCluster } from './cluster.ts';
import type { S3Outage } from './provider.ts';
import { LABEL_PREFIX, POD_LABEL, type ChartValues, type PodValues, type ServiceValues, type Storage } from './values.ts';
import { RELAY_PUBLIC_PORT, RELAY_TUNNEL_PORT } from './workload-relay/tunnel.ts';

export const RELAY_NAME = 'workload-relay';
export const S3_NAME = 's3';
export const S3_PORT = 7070;
export { S3_CREDENTIALS };

export interface InfraOptions {
  topology: string;
  cluster: string;
  namespace: string;
  relayImage: string;
  /** versitygw's image, when this namespace hosts the run's S3. */
  s3Image?: string;
  /** The S3 pod's data volume (the cluster's storage, storage.ts): a claim keeps the bucket across an outage (stopS3). Default emptyDir. */
  s3Storage?: Storage;
  imagePullPolicy: ChartValues['imagePullPolicy'];
}

export function infraValues(opts: InfraOptions): ChartValues {
  // The relay keeps nothing: its volume is an emptyDir whatever the S3's is.
  const pods: PodValues[] = [{ ...singleContainerPod(RELAY_NAME, opts.relayImage, [], [RELAY_PUBLIC_PORT, RELAY_TUNNEL_PORT]), dataVolume: 'emptyDir' }];
  const services: ServiceValues[] = [clusterIpService(RELAY_NAME, RELAY_PUBLIC_PORT)];
  const storage = (opts.s3Image && opts.s3Storage) || { type: 'emptyDir' as const };
  if (opts.s3Image) {
    // POSIX backend on the pod's data volume, metadata in xattrs (a scratch image has no shell to
    // create a sidecar directory first; emptyDir on ext4/xfs/overlay supports user xattrs).
    pods.push({ ...singleContainerPod(S3_NAME, opts.s3Image, versitygwArgs(`:${S3_PORT}`, '/data'), [S3_PORT]), dataVolume: storage.type });
    services.push(clusterIpService(S3_NAME, S3_PORT));
  }
  return {
    topology: opts.topology,
    cluster: opts.cluster,
    namespace: opts.namespace,
    paths: { config: '/etc/thanos-ha-e2e', data: '/data' },
    imagePullPolicy: opts.imagePullPolicy,
    storage,
    pods,
    configMaps: [],
    services,
  };
}

function singleContainerPod(name: string, image: string, args: string[], ports: number[]): PodValues {
  return {
    name,
    serviceName: name,
    selector: { [POD_LABEL]: name },
    labels: { [POD_LABEL]: name, [`${LABEL_PREFIX}/component`]: name },
    annotations: {},
    containers: [
      {
        name,
        instance: name,
        image,
        args,
        ports: ports.map((containerPort) => ({ containerPort })),
        readinessProbe: { port: ports[0]! },
      },
    ],
  };
}

function clusterIpService(name: string, port: number): ServiceValues {
  return {
    name,
    role: 'instance',
    type: 'ClusterIP',
    headless: false,
    publishNotReadyAddresses: false,
    selector: { [POD_LABEL]: name },
    ports: [{ name: 'http', port, targetPort: port }],
    annotations: {},
  };
}

const S3_OUTAGE_TIMEOUT_MS = 2 * 60_000;

/**
 * The run's own S3 (the infra release's versitygw) as an outage: scaled to 0 until its pod is gone,
 * then to 1 until it is ready. Pods reach it through its Service and the test process through a
 * port-forward that finds the pod at each connection, so both reach it again at the same address.
 * On an emptyDir its bucket would go with the pod: then why not, as one line.
 */
export function infraS3Outage(cluster: KubeCluster, namespace: string, storage: Storage, onProgress: (line: string) => void): S3Outage | string {
  if (storage.type !== 'persistentVolumeClaim') {
    return `the run's S3 in ${cluster.context}/${namespace} keeps its bucket on an emptyDir (no StorageClass): stopping it would lose every block; set THANOS_HA_E2E_STORAGE_CLASS to a StorageClass of ${cluster.context}`;
  }
  const pod = `${S3_NAME}-0`;
  return {
    async stop() {
      await cluster.scale(namespace, S3_NAME, 0);
      await cluster.waitPodGone(namespace, pod, S3_OUTAGE_TIMEOUT_MS, onProgress);
    },
    async start() {
      await cluster.scale(namespace, S3_NAME, 1);
      await cluster.waitPodReady(namespace, pod, S3_OUTAGE_TIMEOUT_MS, onProgress);
    },
  };
}
