import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { arch1 } from '../../presets/arch1.ts';
import { arch2 } from '../../presets/arch2.ts';
import { arch3 } from '../../presets/arch3.ts';
import { receiveJitter } from '../../presets/receive-jitter.ts';
import { receiveReplication } from '../../presets/receive-replication.ts';
import { containerPort, kubeAddressing } from './addressing.ts';
import { IMAGES, kubePlan, NAMESPACE } from './fixture.ts';
import { chartValues, chartValuesYaml, INSTANCES_ANNOTATION, POD_LABEL, usesDataDir, type Storage } from './values.ts';

const flag = (args: string[], name: string) => args.filter((a) => a.startsWith(`--${name}=`)).map((a) => a.slice(name.length + 3));

describe('Kubernetes addressing', () => {
  it('listens on the conventional ports on every interface', () => {
    const { plan } = kubePlan(arch2('all-replica-labels').topology);
    const args = (id: string) => plan.processes.find((p) => p.id === id)!.args;
    expect(flag(args('observee/prometheus-0'), 'web.listen-address')).toEqual(['0.0.0.0:9090']);
    expect(flag(args('observee/sidecar-0'), 'grpc-address')).toEqual(['0.0.0.0:10901']);
    expect(flag(args('observer/receive'), 'http-address')).toEqual(['0.0.0.0:10902']);
    expect(flag(args('observer/receive'), 'remote-write.address')).toEqual(['0.0.0.0:19291']);
    expect(flag(args('observer/receive'), 'receive.capnproto-address')).toEqual(['0.0.0.0:19391']);
    expect(containerPort('alertmanager', 'http')).toBe(9093);
  });

  it('dials in-cluster by Service DNS, across clusters through the substrate, recording each exposure', () => {
    const { plan, addressing } = kubePlan(arch2('all-replica-labels').topology);
    const byId = (id: string) => plan.processes.find((p) => p.id === id)!;
    const sidecar = byId('observee/sidecar-1');
    expect(flag(sidecar.args, 'prometheus.url')).toEqual([`http://prometheus-1.${NAMESPACE}.svc.cluster.local:9090`]);
    expect(flag(sidecar.args, 'tsdb.path')).toEqual(['/data']); // its Prometheus' volume, same pod
    const endpoints = parse(byId('observer/query').files['endpoints.yml']!).endpoints.map((e: { address: string }) => e.address);
    expect(endpoints).toEqual([`store.${NAMESPACE}.svc.cluster.local:10901`, 'observee-k3s:30101', 'observee-k3s:30102', `receive.${NAMESPACE}.svc.cluster.local:10901`]);
    // Node ports are handed out in the order the plan first dials a target (Prometheus is planned first).
    const remoteWrite = parse(byId('observee/prometheus-0').files['prometheus.yml']!).remote_write;
    expect(remoteWrite).toEqual([{ url: 'http://observer-k3s:30100/api/v1/receive', queue_config: { batch_send_deadline: '1s' } }]);
    expect(addressing.exposures()).toEqual([
      { target: 'observer/receive', cluster: 'observer', port: 'remote-write', targetPort: 19291, service: 'receive-nodeport', nodePort: 30100 },
      { target: 'observee/sidecar-0', cluster: 'observee', port: 'grpc', targetPort: 10901, service: 'sidecar-0-nodeport', nodePort: 30101 },
      { target: 'observee/sidecar-1', cluster: 'observee', port: 'grpc', targetPort: 10901, service: 'sidecar-1-nodeport', nodePort: 30102 },
    ]);
    expect(addressing.expose('observer/receive', 'remote-write').nodePort).toBe(30100); // idempotent
  });

  it('gives every file one path and every pod one data directory', () => {
    const { plan } = kubePlan(arch1('store-and-sidecar').topology);
    const store = plan.processes.find((p) => p.id === 'observer/store')!;
    expect(flag(store.args, 'objstore.config-file')).toEqual(['/etc/thanos-ha-e2e/objstore.yml']);
    expect(flag(store.args, 'data-dir')).toEqual(['/data']);
    expect(parse(store.files['objstore.yml']!).config).toMatchObject({ endpoint: 's3.test:4566', bucket: 'thanos' });
  });

  it('gives a topology Service the port of the components behind it, and refuses a mismatch', () => {
    const topology = receiveJitter('standalone-behind-service').topology;
    const { addressing } = kubePlan(topology);
    expect(addressing.portOf('observer/receive-write', 'remote-write')).toBe(19291);
    expect(addressing.portOf('observer/query-http', 'http')).toBe(10902);
    expect(addressing.host('observer/query-http')).toBe(`query-http.${NAMESPACE}.svc.cluster.local`);
    expect(() => addressing.portOf('observer/query-http', 'grpc')).toThrow('service "observer/query-http" has a http port, not grpc');
    const other = kubeAddressing(topology, { namespace: 'x', s3: addressing.s3, workloadSdUrl: () => '', crossCluster: () => '', clusterDomain: 'k8s.example' });
    expect(other.dial('observer/query-0', 'observer/receive-1', 'grpc')).toBe('receive-1.x.svc.k8s.example:10901');
  });
});

describe('chart values', () => {
  const { plan, addressing } = kubePlan(arch1('store-and-sidecar').topology);
  const observee = chartValues(plan, 'observee', { addressing, images: IMAGES });
  const observer = chartValues(plan, 'observer', { addressing, images: IMAGES });

  it('puts each sidecar in its Prometheus pod, one StatefulSet per pod', () => {
    expect(observee.pods.map((p) => [p.name, p.containers.map((c) => c.name)])).toEqual([
      ['prometheus-0', ['prometheus', 'sidecar']],
      ['prometheus-1', ['prometheus', 'sidecar']],
    ]);
    expect(observer.pods.map((p) => p.name)).toEqual(['prometheus', 'store', 'query', 'query-frontend']);
    const pod = observee.pods[0]!;
    expect(JSON.parse(pod.annotations[INSTANCES_ANNOTATION]!)).toEqual({ prometheus: 'observee/prometheus-0', sidecar: 'observee/sidecar-0' });
    expect(pod.containers.map((c) => c.image)).toEqual([IMAGES.prometheus, IMAGES.thanos]);
  });

  it('names a port only where no other container of the pod has the same name', () => {
    const [prometheus, sidecar] = observee.pods[0]!.containers;
    expect(prometheus!.ports).toEqual([{ containerPort: 9090 }]);
    expect(sidecar!.ports).toEqual([{ containerPort: 10902 }, { name: 'grpc', containerPort: 10901 }]);
    expect(observer.pods.find((p) => p.name === 'store')!.containers[0]!.ports).toEqual([
      { name: 'http', containerPort: 10902 },
      { name: 'grpc', containerPort: 10901 },
    ]);
  });

  it('has a headless Service per instance, one per replicated component, and a NodePort per exposed target', () => {
    const summary = observee.services.map((s) => `${s.role} ${s.name} ${s.headless ? 'headless' : s.type} ${s.ports.map((p) => `${p.name}:${p.port}${p.nodePort ? `>${p.nodePort}` : ''}`).join(',')}`);
    expect(summary).toEqual([
      'instance prometheus-0 headless http:9090',
      'instance prometheus-1 headless http:9090',
      'instance sidecar-0 headless http:10902,grpc:10901',
      'instance sidecar-1 headless http:10902,grpc:10901',
      'fan-out prometheus headless http:9090',
      'fan-out sidecar headless http:10902,grpc:10901',
      'exposure sidecar-0-nodeport NodePort grpc:10901>30100',
      'exposure sidecar-1-nodeport NodePort grpc:10901>30101',
    ]);
    const sidecar0 = observee.services.find((s) => s.name === 'sidecar-0')!;
    expect(sidecar0.selector).toEqual({ [POD_LABEL]: 'prometheus-0' });
    expect(sidecar0.publishNotReadyAddresses).toBe(true);
    expect(observee.pods[1]!.labels).toMatchObject({ 'member.thanos-ha-e2e.io/sidecar': 'true', 'member.thanos-ha-e2e.io/prometheus': 'true' });
  });

  it('selects a topology Service by membership, and exposes it with the same selector', () => {
    const jitter = kubePlan(receiveJitter('standalone-behind-service').topology);
    const values = chartValues(jitter.plan, 'observer', { addressing: jitter.addressing, images: IMAGES });
    const write = values.services.find((s) => s.name === 'receive-write')!;
    expect(write).toMatchObject({ role: 'topology', type: 'ClusterIP', headless: false, publishNotReadyAddresses: false });
    expect(write.selector).toEqual({ 'member.thanos-ha-e2e.io/receive-write': 'true' });
    expect(write.annotations['thanos-ha-e2e.io/balancing']).toBe('round-robin');
    expect(values.services.find((s) => s.name === 'receive-write-nodeport')).toMatchObject({ selector: write.selector, publishNotReadyAddresses: false });
    const members = values.pods.filter((p) => p.labels['member.thanos-ha-e2e.io/receive-write'] === 'true').map((p) => p.name);
    expect(members).toEqual(['receive-0', 'receive-1']);
  });

  it('carries the plan files in one ConfigMap per process', () => {
    expect(observee.configMaps.map((c) => c.name)).toEqual(['prometheus-0-config', 'sidecar-0-config', 'prometheus-1-config', 'sidecar-1-config']);
    expect(observee.configMaps[0]!.data).toEqual(plan.processes.find((p) => p.id === 'observee/prometheus-0')!.files);
    expect(observer.pods.find((p) => p.name === 'query-frontend')!.containers[0]!.configMap).toBeUndefined();
  });

  it('keeps data on emptyDir unless asked for claims, and then claims only for the pods that keep data', () => {
    expect(observer.storage).toEqual({ type: 'emptyDir' });
    expect(observer.pods.map((p) => p.dataVolume)).toEqual(['emptyDir', 'emptyDir', 'emptyDir', 'emptyDir']);
    const claims: Storage = { type: 'persistentVolumeClaim', size: '1Gi' };
    const volumes = (values: ReturnType<typeof chartValues>) => Object.fromEntries(values.pods.map((p) => [p.name, p.dataVolume]));
    expect(volumes(chartValues(plan, 'observer', { addressing, images: IMAGES, storage: claims }))).toEqual({
      prometheus: 'persistentVolumeClaim',
      store: 'persistentVolumeClaim', // its index cache
      query: 'emptyDir',
      'query-frontend': 'emptyDir',
    });
    // A sidecar shares its Prometheus' claim: one per pod.
    const withClaims = chartValues(plan, 'observee', { addressing, images: IMAGES, storage: claims });
    expect(withClaims.storage).toEqual(claims);
    expect(volumes(withClaims)).toEqual({ 'prometheus-0': 'persistentVolumeClaim', 'prometheus-1': 'persistentVolumeClaim' });
    // Every receive of the replication scenario, and Arch 3's agent, ruler and alertmanager.
    const replication = kubePlan(receiveReplication(3, 3).topology);
    expect(volumes(chartValues(replication.plan, 'observer', { addressing: replication.addressing, images: IMAGES, storage: claims }))).toEqual({
      'receive-0': 'persistentVolumeClaim',
      'receive-1': 'persistentVolumeClaim',
      'receive-2': 'persistentVolumeClaim',
      query: 'emptyDir',
      'query-penalty': 'emptyDir',
    });
    const central = kubePlan(arch3().topology);
    const arch3Volumes = volumes(chartValues(central.plan, 'observer', { addressing: central.addressing, images: IMAGES, storage: claims }));
    expect(arch3Volumes).toMatchObject({ receive: 'persistentVolumeClaim', 'fixed-ruler': 'persistentVolumeClaim', 'fixed-alertmanager': 'persistentVolumeClaim', 'fixed-query': 'emptyDir' });
    expect(volumes(chartValues(central.plan, 'observee', { addressing: central.addressing, images: IMAGES, storage: claims }))).toEqual({ prometheus: 'persistentVolumeClaim' });
  });

  it('tells a process that keeps data in its pod volume by its flags', () => {
    const byKind = (kind: string) => plan.processes.find((p) => p.kind === kind)!;
    expect(['prometheus', 'sidecar', 'store'].map((k) => usesDataDir(byKind(k)))).toEqual([true, true, true]);
    expect(['query', 'query-frontend'].map((k) => usesDataDir(byKind(k)))).toEqual([false, false]);
    const p = byKind('query');
    expect(usesDataDir({ ...p, args: ['--x=/database'] })).toBe(false);
    expect(usesDataDir({ ...p, args: ['--x=/data/sub'] })).toBe(true);
    expect(usesDataDir({ ...p, args: ['/data'] })).toBe(false);
  });

  it('writes YAML that reads back as the same values', () => {
    expect(parse(chartValuesYaml(observer))).toEqual(observer);
  });

  it('says in one line what is missing', () => {
    expect(() => chartValues(plan, 'observee', { addressing, images: { thanos: 'x' } })).toThrow(
      /^no image for prometheus \(needed by observee\/prometheus-0\): set images\.prometheus$/,
    );
    expect(() => chartValues(plan, 'elsewhere', { addressing, images: IMAGES })).toThrow('topology arch1-store-and-sidecar has no cluster "elsewhere" (clusters: observer, observee)');
  });
});
