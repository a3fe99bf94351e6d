// kubeAddressing with a namespace per cluster, as the kube substrate plans (<prefix>-<cluster>): every
// DNS name carries its own cluster's namespace; a cross-cluster dial is that DNS name when the
// clusters are namespaces of one Kubernetes cluster (no crossCluster()), crossCluster()'s answer
// otherwise.
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { planTopology, type Plan } from '../../plan/index.ts';
import { arch2 } from '../../presets/arch2.ts';
import { kubeAddressing, type Exposure, type KubeAddressingOptions } from './addressing.ts';
import { chartValues } from './values.ts';
import { IMAGES } from './fixture.ts';

const namespaceOf = (cluster: string) => `thanos-ha-e2e-abc123-${cluster}`;
const OBSERVER = namespaceOf('observer');
const OBSERVEE = namespaceOf('observee');
const topology = arch2('all-replica-labels').topology;
const options: KubeAddressingOptions = {
  namespace: namespaceOf,
  s3: { endpoint: 's3.test:7070', bucket: topology.bucket, accessKey: 'a', secretKey: 's', region: 'us-east-1', insecure: true },
  workloadSdUrl: (from) => `http://workload-relay.${namespaceOf(from.slice(0, from.indexOf('/')))}.svc.cluster.local:8080/sd`,
};

const flag = (args: string[], name: string) => args.filter((a) => a.startsWith(`--${name}=`)).map((a) => a.slice(name.length + 3));
const byId = (plan: Plan, id: string) => plan.processes.find((p) => p.id === id)!;
const queryEndpoints = (plan: Plan) => parse(byId(plan, 'observer/query').files['endpoints.yml']!).endpoints.map((e: { address: string }) => e.address);
const remoteWrite = (plan: Plan, id: string) => parse(byId(plan, id).files['prometheus.yml']!).remote_write.map((w: { url: string }) => w.url);

describe('Kubernetes addressing with a namespace per cluster', () => {
  it("names every instance and Service in its own cluster's namespace", () => {
    const addressing = kubeAddressing(topology, options);
    expect(addressing.namespaceOf('observer')).toBe(OBSERVER);
    expect(addressing.namespaceOf('observee')).toBe(OBSERVEE);
    expect(addressing.host('observer/receive')).toBe(`receive.${OBSERVER}.svc.cluster.local`);
    expect(addressing.host('observee/sidecar-0')).toBe(`sidecar-0.${OBSERVEE}.svc.cluster.local`);
    expect(addressing.dial('observee/sidecar-1', 'observee/prometheus-1', 'http')).toBe(`prometheus-1.${OBSERVEE}.svc.cluster.local:9090`);
    expect(addressing.dial('observer/query', 'observer/store', 'grpc')).toBe(`store.${OBSERVER}.svc.cluster.local:10901`);
    expect(kubeAddressing(topology, { ...options, clusterDomain: 'k8s.example' }).host('observee/sidecar-0')).toBe(`sidecar-0.${OBSERVEE}.svc.k8s.example`);
  });

  it("dials across clusters by the other namespace's DNS name without crossCluster(), exposing nothing", () => {
    const addressing = kubeAddressing(topology, options);
    const plan = planTopology(topology, addressing);
    expect(queryEndpoints(plan)).toEqual([
      `store.${OBSERVER}.svc.cluster.local:10901`,
      `sidecar-0.${OBSERVEE}.svc.cluster.local:10901`,
      `sidecar-1.${OBSERVEE}.svc.cluster.local:10901`,
      `receive.${OBSERVER}.svc.cluster.local:10901`,
    ]);
    expect(remoteWrite(plan, 'observee/prometheus-0')).toEqual([`http://receive.${OBSERVER}.svc.cluster.local:19291/api/v1/receive`]);
    expect(flag(byId(plan, 'observee/sidecar-0').args, 'prometheus.url')).toEqual([`http://prometheus-0.${OBSERVEE}.svc.cluster.local:9090`]);
    expect(addressing.exposures()).toEqual([]);
    // Hence no NodePort Service in either cluster's values.
    for (const cluster of ['observer', 'observee']) {
      const values = chartValues(plan, cluster, { addressing, images: IMAGES });
      expect(values.namespace).toBe(namespaceOf(cluster));
      expect(values.services.filter((s) => s.type === 'NodePort')).toEqual([]);
    }
  });

  it("dials across clusters by crossCluster()'s answer when given, in-cluster still by DNS", () => {
    const asked: Exposure[] = [];
    const addressing = kubeAddressing(topology, { ...options, crossCluster: (e) => (asked.push(e), `node-${e.cluster}.example:${e.nodePort}`) });
    const plan = planTopology(topology, addressing);
    expect(queryEndpoints(plan)).toEqual([`store.${OBSERVER}.svc.cluster.local:10901`, 'node-observee.example:30101', 'node-observee.example:30102', `receive.${OBSERVER}.svc.cluster.local:10901`]);
    expect(remoteWrite(plan, 'observee/prometheus-0')).toEqual(['http://node-observer.example:30100/api/v1/receive']);
    expect(flag(byId(plan, 'observee/sidecar-0').args, 'prometheus.url')).toEqual([`http://prometheus-0.${OBSERVEE}.svc.cluster.local:9090`]);
    expect(addressing.exposures().map((e) => `${e.target}:${e.port} ${e.service} ${e.nodePort}`)).toEqual([
      'observer/receive:remote-write receive-nodeport 30100',
      'observee/sidecar-0:grpc sidecar-0-nodeport 30101',
      'observee/sidecar-1:grpc sidecar-1-nodeport 30102',
    ]);
    // Asked for the cross-cluster dials only, never for a dial inside one cluster.
    expect(new Set(asked.map((e) => e.target))).toEqual(new Set(['observer/receive', 'observee/sidecar-0', 'observee/sidecar-1']));
    expect(addressing.dial('observer/query', 'observer/store', 'grpc')).toBe(`store.${OBSERVER}.svc.cluster.local:10901`);
    expect(addressing.dial('observer/query', 'observee/sidecar-1', 'grpc')).toBe('node-observee.example:30102');
    // Each exposure's NodePort Service goes to the target's cluster.
    const nodePorts = (cluster: string) => chartValues(plan, cluster, { addressing, images: IMAGES }).services.filter((s) => s.type === 'NodePort').map((s) => s.name);
    expect(nodePorts('observer')).toEqual(['receive-nodeport']);
    expect(nodePorts('observee')).toEqual(['sidecar-0-nodeport', 'sidecar-1-nodeport']);
  });
});
