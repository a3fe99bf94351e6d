// What a Kubernetes run needs besides the topology, as a release of the same chart: the workload relay
// in every cluster namespace (pods reach the test process's exporter through it) and, when no S3 is
// given, versitygw as S3 in the first one. Installed and ready before the topology starts.
import { S3_CREDENTIALS, versitygwArgs } from '../../s3/versitygw.ts';
import { LABEL_PREFIX, POD_LABEL, type ChartValues, type PodValues, type ServiceValues } from './values.ts';
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
  imagePullPolicy: ChartValues['imagePullPolicy'];
}

export function infraValues(opts: InfraOptions): ChartValues {
  const pods: PodValues[] = [singleContainerPod(RELAY_NAME, opts.relayImage, [], [RELAY_PUBLIC_PORT, RELAY_TUNNEL_PORT])];
  const services: ServiceValues[] = [clusterIpService(RELAY_NAME, RELAY_PUBLIC_PORT)];
  if (opts.s3Image) {
    // POSIX backend on the pod's data volume, metadata in xattrs (a scratch image has no shell to
    // create a sidecar directory first; emptyDir on ext4/xfs/overlay supports user xattrs).
    pods.push(singleContainerPod(S3_NAME, opts.s3Image, versitygwArgs(`:${S3_PORT}`, '/data'), [S3_PORT]));
    services.push(clusterIpService(S3_NAME, S3_PORT));
  }
  return {
    topology: opts.topology,
    cluster: opts.cluster,
    namespace: opts.namespace,
    paths: { config: '/etc/thanos-ha-e2e', data: '/data' },
    imagePullPolicy: opts.imagePullPolicy,
    storage: { type: 'emptyDir' },
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
