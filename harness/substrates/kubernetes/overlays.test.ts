// charts/kube-prometheus-stack: the note's settings for users of the upstream chart. Not deployed by
// any test (the upstream chart comes from a registry); checked here for the keys the note relies on,
// against the harness's own conventions where it has them.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { clusterLabels, PROMETHEUS_REPLICA_LABEL } from '../../plan/context.ts';
import type { Prometheus } from '../../topology/model.ts';
import { arch2 } from '../../presets/arch2.ts';
import { containerPort } from './addressing.ts';
import { kubePlan } from './fixture.ts';

const DIR = fileURLToPath(new URL('../../../charts/kube-prometheus-stack', import.meta.url));

// A loose view of the keys used (kube-prometheus-stack 88.x).
interface Overlay {
  grafana?: { enabled: boolean };
  prometheus: {
    agentMode?: boolean;
    thanosService?: { enabled: boolean };
    thanosServiceMonitor?: { enabled: boolean };
    thanosServiceExternal?: { enabled: boolean; type: string };
    prometheusSpec: {
      replicas?: number;
      retention?: string;
      externalLabels?: Record<string, string>;
      remoteWrite?: { url: string }[];
      additionalArgs?: { name: string; value?: string }[];
      replicaExternalLabelName?: string;
      thanos?: { blockSize?: string; objectStorageConfig?: { existingSecret?: { name: string; key: string } } };
    };
  };
}

const overlay = async (file: string): Promise<Overlay> => parse(await readFile(join(DIR, file), 'utf8')) as Overlay;

// Where the harness's own Prometheus remote-writes to a receive: the note's port and path.
const { plan } = kubePlan(arch2('all-replica-labels').topology);
const planRemoteWrite = new URL(parse(plan.processes.find((p) => p.id === 'observee/prometheus-0')!.files['prometheus.yml']!).remote_write[0].url);

describe('kube-prometheus-stack overlays', () => {
  for (const [file, cluster] of [
    ['values-observer.yaml', 'observer'],
    ['values-observee.yaml', 'observee'],
  ] as const) {
    it(`${file}: the note's HA pair, retention, labels and Thanos sidecar`, async () => {
      const { prometheus } = await overlay(file);
      const spec = prometheus.prometheusSpec;
      expect(spec.replicas).toBe(2);
      expect(spec.retention).toBe('4h');
      expect(spec.externalLabels).toEqual(clusterLabels(cluster));
      // The operator's default replica label is the one the harness deduplicates on.
      expect(spec.replicaExternalLabelName ?? 'prometheus_replica').toBe(PROMETHEUS_REPLICA_LABEL);
      expect(spec.thanos?.objectStorageConfig?.existingSecret).toEqual({ name: `thanos-objstore-${cluster}`, key: 'objstore.yml' });
      expect(prometheus.thanosService?.enabled).toBe(true);
      expect(prometheus.thanosServiceMonitor?.enabled).toBe(true);
      expect(prometheus.thanosServiceExternal).toEqual({ enabled: true, type: 'LoadBalancer' });
    });

    it(`${file}: block size through thanos.blockSize, never additionalArgs (finding C)`, async () => {
      const spec = (await overlay(file)).prometheus.prometheusSpec;
      const prometheus = plan.topology.components.find((c): c is Prometheus => c.kind === 'prometheus')!;
      expect(spec.thanos?.blockSize).toBe(prometheus.blockDuration); // the harness's default, 2h
      expect(spec.thanos?.blockSize).toBe('2h');
      expect((spec.additionalArgs ?? []).filter((a) => a.name.includes('block-duration'))).toEqual([]);
    });
  }

  it('values-remote-write.yaml: remote write to the observer Receive, at the port and path the harness uses', async () => {
    const spec = (await overlay('values-remote-write.yaml')).prometheus.prometheusSpec;
    expect(spec.remoteWrite).toHaveLength(1);
    const url = new URL(spec.remoteWrite![0]!.url);
    expect(url.port).toBe(String(containerPort('receive', 'remote-write')));
    expect(url.pathname).toBe(planRemoteWrite.pathname);
    expect(`${url.port}${url.pathname}`).toBe('19291/api/v1/receive');
  });

  it('values-agent.yaml: agent mode remote-writing to the observer Receive, no sidecar', async () => {
    const { prometheus } = await overlay('values-agent.yaml');
    expect(prometheus.agentMode).toBe(true);
    expect(prometheus.prometheusSpec.thanos).toBeUndefined();
    expect(prometheus.prometheusSpec.externalLabels).toEqual(clusterLabels('observee'));
    expect(new URL(prometheus.prometheusSpec.remoteWrite![0]!.url).pathname).toBe(planRemoteWrite.pathname);
  });

  it('objstore.example.yml: one bucket, the cluster as prefix', async () => {
    expect(parse(await readFile(join(DIR, 'objstore.example.yml'), 'utf8'))).toMatchObject({ type: 'S3', prefix: 'observee' });
  });

  it('every file in charts/ is described in charts/README.md', async () => {
    const readme = await readFile(join(DIR, '..', 'README.md'), 'utf8');
    for (const file of await readdir(DIR)) expect(readme, file).toContain(file);
  });
});
