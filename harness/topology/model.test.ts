import { describe, expect, it } from 'vitest';
import { fakeAddressing } from '../plan/fake-addressing.ts';
import { instanceIds, planTopology } from '../plan/index.ts';
import { RELAY_NAME, S3_NAME } from '../substrates/kubernetes/infra.ts';
import { instanceNames, PORTS_OF, refOf, RESERVED_NAMES, validateTopology } from './model.ts';
import { arch1 } from '../presets/arch1.ts';
import { PRESETS, presetByName } from '../presets/index.ts';

const minimal = () => ({
  name: 't',
  description: 'test',
  clusters: [{ name: 'observer', role: 'observer' }],
  components: [
    { kind: 'store', name: 'store', cluster: 'observer', bucketPrefix: 'observee' },
    { kind: 'query', name: 'query', cluster: 'observer', endpoints: ['observer/store'] },
  ],
});

describe('validateTopology', () => {
  it('accepts the presets', () => {
    expect(arch1('store-only').topology.components.map((c) => c.kind)).toContain('store');
    expect(presetByName('arch1-store-and-sidecar').name).toBe('arch1-store-and-sidecar');
  });

  it('names the field of a bad reference', () => {
    const t = minimal();
    t.components[1]!.endpoints = ['observer/nope'];
    expect(() => validateTopology(t)).toThrow('invalid topology "t": components.1.endpoints.0 refers to "observer/nope", which does not exist');
  });

  it('names the field of a schema error', () => {
    const t = minimal() as Record<string, unknown>;
    (t.components as Record<string, unknown>[])[0]!.syncInterval = 'soon';
    expect(() => validateTopology(t)).toThrow(/^invalid topology: components\.0\.syncInterval must be a Prometheus duration/);
  });

  it('takes churn only where it holds: the cluster shape, a period on the grid', () => {
    const churn = { fraction: 0.1, period: '10m' };
    expect(validateTopology({ ...minimal(), workload: { series: 1000, shape: 'cluster', churn } }).workload.churn).toEqual(churn);
    expect(() => validateTopology({ ...minimal(), workload: { series: 10, churn } })).toThrow('invalid topology "t": workload.churn replaces pods: it needs the cluster shape (workload.shape: cluster)');
    expect(() => validateTopology({ ...minimal(), workload: { series: 1000, shape: 'cluster', churn: { fraction: 0.1, period: '20s' } } })).toThrow('invalid topology "t": workload.churn.period 20s must be a multiple of the 15s grid');
    expect(() => validateTopology({ ...minimal(), workload: { series: 1000, shape: 'cluster', churn: { fraction: 0, period: '10m' } } })).toThrow(/^invalid topology: workload\.churn\.fraction /);
    expect(validateTopology(minimal()).workload.churn).toBeUndefined();
  });

  it('rejects an undeclared cluster and a duplicate name', () => {
    const t = minimal();
    t.components[0]!.cluster = 'elsewhere';
    expect(() => validateTopology(t)).toThrow('components.0.cluster "elsewhere" is not a declared cluster');
    const d = minimal();
    d.components.push({ kind: 'store', name: 'store', cluster: 'observer', bucketPrefix: 'x' });
    expect(() => validateTopology(d)).toThrow('components.2.name "observer/store" is declared twice');
  });

  it('rejects an endpoint of the wrong kind', () => {
    const t = minimal();
    t.components.push({ kind: 'query-frontend', name: 'qf', cluster: 'observer', downstream: 'observer/store' } as never);
    expect(() => validateTopology(t)).toThrow('components.2.downstream refers to "observer/store" (a store), expected one of: query, service');
  });

  // Each topology below would run differently on one substrate than on another (or not at all).
  const rejects = (change: (t: Record<string, any>) => void, message: string) => {
    const t = minimal() as Record<string, any>;
    change(t);
    expect(() => validateTopology(t)).toThrow(message);
  };
  const twoReplicas = (t: Record<string, any>) => (t.components[1].replicas = 2);

  it('rejects two clusters with the same name', () =>
    rejects((t) => t.clusters.push({ name: 'observer', role: 'observee' }), 'invalid topology "t": clusters.1.name "observer" is declared twice'));
  it('rejects an instance id that another replica has', () =>
    rejects(
      (t) => (twoReplicas(t), t.components.push({ kind: 'store', name: 'query-0', cluster: 'observer', bucketPrefix: 'x' })),
      'components.2.name makes "observer/query-0" (an instance of components.2), already the name of an instance of components.1',
    ));
  it('rejects a service named like an instance', () =>
    rejects(
      (t) => (twoReplicas(t), (t.services = [{ name: 'query-1', cluster: 'observer', targets: ['observer/query'], port: 'http' }])),
      'services.0.name makes "observer/query-1" (services.0), already the name of an instance of components.1',
    ));
  it("rejects a name that another's NodePort Service has", () =>
    rejects(
      (t) => t.components.push({ kind: 'store', name: 'store-nodeport', cluster: 'observer', bucketPrefix: 'x' }),
      'components.2.name makes "observer/store-nodeport" (an instance of components.2), already the name of the NodePort Service of an instance of components.0',
    ));
  it("rejects a name of the kube substrates' infra objects", () =>
    rejects((t) => (t.components[0].name = 's3'), `components.0.name makes "observer/s3" (an instance of components.0), already the name of an object of the Kubernetes substrates' infra release`));
  it('rejects the Helm release name of the infra', () => rejects((t) => (t.name = 'infra'), `invalid topology "infra": name "infra" is the name of the Kubernetes substrates' own Helm release`));
  it('rejects a name ending in a dash (not a DNS label)', () =>
    rejects((t) => (t.components[0].name = 'store-'), 'invalid topology: components.0.name must be lowercase letters, digits and dashes, starting with a letter and not ending with a dash'));
  it('rejects a name longer than 51 characters', () => rejects((t) => (t.components[0].name = 's'.repeat(52)), 'invalid topology: components.0.name must be at most 51 characters'));
  it('rejects a cluster name that makes the namespace longer than 63 characters', () =>
    rejects(
      (t) => (t.clusters[0].name = 'c'.repeat(43)),
      'invalid topology: clusters.0.name must be at most 42 characters: the Kubernetes namespace thanos-ha-e2e-<run>-<cluster> has at most 63',
    ));
  it('rejects replicas that make an instance name longer than a StatefulSet name may be', () =>
    rejects(
      (t) => (twoReplicas(t), (t.components[1].name = 'q'.repeat(51)), (t.components[1].endpoints = ['observer/store'])),
      `components.1.name makes the instance name "${'q'.repeat(51)}-0" (53 characters): at most 52, the longest StatefulSet name Kubernetes can run`,
    ));
  it('rejects a service whose target is in another cluster', () =>
    rejects(
      (t) => (t.clusters.push({ name: 'observee', role: 'observee' }), (t.services = [{ name: 'store-grpc', cluster: 'observee', targets: ['observer/store'], port: 'grpc' }])),
      'services.0.targets.0 "observer/store" is in cluster "observer", the service in "observee": a Kubernetes Service only selects pods of its own cluster',
    ));
  it('rejects a service whose target lacks its port', () =>
    rejects((t) => (t.services = [{ name: 'w', cluster: 'observer', targets: ['observer/store'], port: 'remote-write' }]), 'services.0.targets.0 "observer/store" (a store) has no remote-write port'));
  it('rejects a service over two kinds', () =>
    rejects(
      (t) => (t.services = [{ name: 'g', cluster: 'observer', targets: ['observer/store', 'observer/query'], port: 'grpc' }]),
      'services.0.targets.1 "observer/query" is a query, "observer/store" a store: a service balances over one kind',
    ));
  it('rejects a reference to a service with the wrong port', () =>
    rejects(
      (t) => ((t.services = [{ name: 'store-http', cluster: 'observer', targets: ['observer/store'], port: 'http' }]), (t.components[1].endpoints = ['observer/store-http'])),
      'components.1.endpoints.0 refers to service "observer/store-http", whose port is http, not grpc',
    ));
  it('rejects a query frontend whose downstream has replicas', () =>
    rejects(
      (t) => (twoReplicas(t), t.components.push({ kind: 'query-frontend', name: 'qf', cluster: 'observer', downstream: 'observer/query' })),
      'components.2.downstream "observer/query" has 2 replicas: put a service in front',
    ));
  it('rejects a query frontend that splits nothing (Thanos 0.42.4 then answers an empty range result with an empty body)', () =>
    rejects(
      (t) => t.components.push({ kind: 'query-frontend', name: 'qf', cluster: 'observer', downstream: 'observer/query', splitInterval: '0s' }),
      `components.2.splitInterval "0s": Thanos' frontend then answers an empty range result with an empty body; to send each request whole, give an interval longer than any range asked (365d, say)`,
    ));
  it('rejects a second sidecar for one Prometheus', () =>
    rejects(
      (t) =>
        t.components.push(
          { kind: 'prometheus', name: 'prometheus', cluster: 'observer' },
          { kind: 'sidecar', name: 'sidecar', cluster: 'observer', prometheus: 'prometheus' },
          { kind: 'sidecar', name: 'sidecar-b', cluster: 'observer', prometheus: 'prometheus' },
        ),
      'components.4.prometheus "prometheus" already has a sidecar (components.3)',
    ));
  it('rejects a replica label that is not a label name', () =>
    rejects((t) => (t.components[1].replicaLabels = ['prometheus-replica']), 'invalid topology: components.1.replicaLabels.0 must be a Prometheus label name'));
  it('rejects a bucket name S3 would refuse', () => rejects((t) => (t.bucket = 'ab'), 'invalid topology: bucket must be at least 3 characters (an S3 bucket name)'));

  it("agrees with the plan's instance ids and ports and with the infra's names", () => {
    expect(RESERVED_NAMES).toEqual([RELAY_NAME, S3_NAME]);
    for (const make of Object.values(PRESETS)) {
      const topology = make();
      const plan = planTopology(topology, fakeAddressing);
      for (const c of topology.components) {
        expect(instanceNames(c, topology).map((n) => `${c.cluster}/${n}`)).toEqual(instanceIds(c, topology).map((i) => i.id));
        for (const p of plan.processes.filter((p) => p.component === refOf(c))) expect(p.ports.filter((port) => port !== 'capnp')).toEqual(PORTS_OF[c.kind]);
      }
    }
  });

  it('names an unknown preset and lists the known ones', () => {
    expect(() => presetByName('arch9')).toThrow('unknown topology "arch9": choose one of arch1-store-only, arch1-store-and-sidecar');
  });
});
