import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { arch1 } from '../presets/arch1.ts';
import { fakeAddressing as addressing, flag } from './fake-addressing.ts';
import { planTopology } from './index.ts';



describe('plan of Arch 1', () => {
  const fixed = planTopology(arch1('store-and-sidecar').topology, addressing);
  const faulty = planTopology(arch1('store-only').topology, addressing);
  const byId = (plan: typeof fixed, id: string) => plan.processes.find((p) => p.id === id)!;

  it('has the HA pair, one sidecar per replica, and the observer components', () => {
    expect(fixed.processes.map((p) => p.id).sort()).toEqual([
      'observee/prometheus-0',
      'observee/prometheus-1',
      'observee/sidecar-0',
      'observee/sidecar-1',
      'observer/prometheus',
      'observer/query',
      'observer/query-frontend',
      'observer/store',
    ]);
  });

  it('gives each replica the note external labels and a distinct replica label', () => {
    const [a, b] = ['observee/prometheus-0', 'observee/prometheus-1'].map((id) => parse(byId(fixed, id).files['prometheus.yml']!));
    expect(a.global.external_labels).toEqual({ cluster: 'observee', cluster_name: 'observee', origin_prometheus: 'observee', prometheus_replica: 'prometheus-0' });
    expect(b.global.external_labels.prometheus_replica).toBe('prometheus-1');
  });

  it('keeps 2h blocks and 4h retention, each flag once', () => {
    const args = byId(fixed, 'observee/prometheus-0').args;
    expect(flag(args, 'storage.tsdb.min-block-duration')).toEqual(['2h']);
    expect(flag(args, 'storage.tsdb.max-block-duration')).toEqual(['2h']);
    expect(flag(args, 'storage.tsdb.retention.time')).toEqual(['4h']);
    const names = args.map((a) => a.split('=')[0]);
    expect(new Set(names).size).toBe(names.length);
  });

  it('points each sidecar at its own Prometheus and data dir, uploading under the cluster prefix', () => {
    const sidecar = byId(fixed, 'observee/sidecar-1');
    expect(flag(sidecar.args, 'prometheus.url')).toEqual(['http://observee/prometheus-1:http']);
    expect(flag(sidecar.args, 'tsdb.path')).toEqual(['/data/observee/prometheus-1']);
    expect(parse(sidecar.files['objstore.yml']!)).toMatchObject({ type: 'S3', prefix: 'observee', config: { bucket: 'thanos', endpoint: 's3:9000' } });
    expect(sidecar.after).toEqual(['observee/prometheus-1']);
  });

  it('differs between faulty and fixed only in Query endpoints', () => {
    const endpoints = (plan: typeof fixed) => parse(byId(plan, 'observer/query').files['endpoints.yml']!).endpoints.map((e: { address: string }) => e.address);
    expect(endpoints(faulty)).toEqual(['observer/store:grpc']);
    expect(endpoints(fixed)).toEqual(['observer/store:grpc', 'observee/sidecar-0:grpc', 'observee/sidecar-1:grpc']);
    expect(flag(byId(fixed, 'observer/query').args, 'query.replica-label')).toEqual(['prometheus_replica']);
  });

  it('splits range and label queries by 1h in the frontend, as in the note', () => {
    const qf = byId(fixed, 'observer/query-frontend').args;
    expect(flag(qf, 'query-range.split-interval')).toEqual(['1h']);
    expect(flag(qf, 'labels.split-interval')).toEqual(['1h']);
    expect(flag(qf, 'query-frontend.downstream-url')).toEqual(['http://observer/query:http']);
  });

  it('lets the observer Prometheus scrape its own cluster', () => {
    const cfg = parse(byId(fixed, 'observer/prometheus').files['prometheus.yml']!);
    expect(cfg.scrape_configs[0].static_configs[0].targets).toEqual(['observer/store:http', 'observer/query:http', 'observer/query-frontend:http']);
  });
});
