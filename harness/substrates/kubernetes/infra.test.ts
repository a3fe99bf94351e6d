// The infra release (workload relay, and versitygw as the run's S3) rendered by charts/thanos-ha-e2e
// with the pinned helm and checked with kubectl-validate, as chart.test.ts does for the topologies.
// Needs helm and kubectl-validate provisioned (`node harness/cli.ts setup`).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { infraValues, RELAY_NAME, S3_CREDENTIALS, S3_NAME, S3_PORT } from './infra.ts';
import { helmTemplate, kubernetesRelease, provisionedTool, validateManifests } from './render.ts';
import type { ChartValues } from './values.ts';
import { RELAY_PUBLIC_PORT, RELAY_TUNNEL_PORT } from './workload-relay/tunnel.ts';

interface Container {
  name: string;
  image: string;
  imagePullPolicy: string;
  args: string[];
  ports: { containerPort: number }[];
  readinessProbe: { tcpSocket?: { port: number }; httpGet?: unknown };
  volumeMounts: { name: string; mountPath: string }[];
}
interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: { containers: Container[]; volumes?: { name: string; emptyDir?: object }[] };
}
interface Manifest {
  kind: string;
  metadata: { name: string; namespace: string };
  spec: {
    template?: PodTemplate;
    selector?: Record<string, string> | { matchLabels: Record<string, string> };
    type?: string;
    ports?: { name: string; port: number; targetPort: number; nodePort?: number }[];
  };
}

interface Render {
  name: string;
  values: ChartValues;
  file: string;
  manifests: Manifest[];
}

const RELAY_IMAGE = 'thanos-ha-e2e/workload-relay:1';
const S3_IMAGE = 'thanos-ha-e2e/versitygw:1.8.0';

let dir: string;
let relayOnly: Render;
let withS3: Render;

async function render(name: string, values: ChartValues, helm: string): Promise<Render> {
  const text = await helmTemplate(values, { helm, dir, release: 'infra' });
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, text);
  const manifests = parseAllDocuments(text)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
  return { name, values, file, manifests };
}

beforeAll(async () => {
  const helm = await provisionedTool('helm');
  dir = await mkdtemp(join(tmpdir(), 'thanos-ha-e2e-infra-'));
  const base = { topology: 'arch1-store-and-sidecar', relayImage: RELAY_IMAGE, imagePullPolicy: 'IfNotPresent' as const };
  // Two namespaces of one run: the S3 lives in the first cluster's, the relay in each.
  relayOnly = await render('relay', infraValues({ ...base, cluster: 'observee', namespace: 'thanos-ha-e2e-abc123-observee' }), helm);
  withS3 = await render('relay-s3', infraValues({ ...base, cluster: 'observer', namespace: 'thanos-ha-e2e-abc123-observer', s3Image: S3_IMAGE }), helm);
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const statefulSet = (r: Render, name: string) => r.manifests.find((m) => m.kind === 'StatefulSet' && m.metadata.name === name)!;
const container = (r: Render, name: string) => statefulSet(r, name).spec.template!.spec.containers[0]!;
const summary = (r: Render) => r.manifests.map((m) => `${m.kind}/${m.metadata.name}`).sort();

describe(`infra release of charts/thanos-ha-e2e, against Kubernetes ${kubernetesRelease()}`, () => {
  it('renders the relay alone, or the relay and S3, into the planned namespace', () => {
    expect(summary(relayOnly)).toEqual([`Service/${RELAY_NAME}`, `StatefulSet/${RELAY_NAME}`]);
    expect(summary(withS3)).toEqual([`Service/${RELAY_NAME}`, `Service/${S3_NAME}`, `StatefulSet/${RELAY_NAME}`, `StatefulSet/${S3_NAME}`].sort());
    for (const r of [relayOnly, withS3]) for (const m of r.manifests) expect(m.metadata.namespace, `${r.name}: ${m.kind}/${m.metadata.name}`).toBe(r.values.namespace);
  });

  it('gives only manifests that kubectl-validate accepts', async () => {
    const verdicts = await validateManifests([relayOnly.file, withS3.file], await provisionedTool('kubectl-validate'));
    expect(verdicts.filter((v) => !v.ok).map((v) => `${v.file} #${v.document}: ${v.message}`)).toEqual([]);
    expect(verdicts).toHaveLength(relayOnly.manifests.length + withS3.manifests.length);
  });

  it('runs the relay with its two ports, ready once it accepts TCP on the public one', () => {
    for (const r of [relayOnly, withS3]) {
      const relay = container(r, RELAY_NAME);
      expect(relay.image).toBe(RELAY_IMAGE);
      expect(relay.imagePullPolicy).toBe('IfNotPresent');
      expect(relay.args ?? []).toEqual([]);
      expect(relay.ports.map((p) => p.containerPort)).toEqual([RELAY_PUBLIC_PORT, RELAY_TUNNEL_PORT]);
      expect(relay.readinessProbe.tcpSocket).toEqual({ port: RELAY_PUBLIC_PORT });
      expect(relay.readinessProbe.httpGet).toBeUndefined();
    }
  });

  it('runs versitygw with the planned arguments: the run credentials, POSIX backend on the data volume', () => {
    const s3 = container(withS3, S3_NAME);
    expect(s3.image).toBe(S3_IMAGE);
    expect(s3.args).toEqual(['--access', S3_CREDENTIALS.accessKey, '--secret', S3_CREDENTIALS.secretKey, '--port', `:${S3_PORT}`, '--quiet', 'posix', '/data']);
    expect(s3.ports.map((p) => p.containerPort)).toEqual([S3_PORT]);
    expect(s3.readinessProbe.tcpSocket).toEqual({ port: S3_PORT });
    expect(s3.volumeMounts).toContainEqual({ name: 'data', mountPath: '/data' });
    expect(statefulSet(withS3, S3_NAME).spec.template!.spec.volumes).toContainEqual({ name: 'data', emptyDir: {} });
  });

  it('gives each Service a selector that matches its own pod only, on a port the pod listens on', () => {
    const expected: Record<string, number> = { [RELAY_NAME]: RELAY_PUBLIC_PORT, [S3_NAME]: S3_PORT };
    for (const r of [relayOnly, withS3]) {
      const pods = r.manifests.filter((m) => m.kind === 'StatefulSet');
      for (const svc of r.manifests.filter((m) => m.kind === 'Service')) {
        const selector = svc.spec.selector as Record<string, string>;
        const selected = pods.filter((p) => Object.entries(selector).every(([k, v]) => p.spec.template!.metadata.labels[k] === v));
        expect(selected.map((p) => p.metadata.name), `${r.name}: Service ${svc.metadata.name}`).toEqual([svc.metadata.name]);
        // The StatefulSet's own selector picks the same pod template.
        const matchLabels = (selected[0]!.spec.selector as { matchLabels: Record<string, string> }).matchLabels;
        for (const [k, v] of Object.entries(matchLabels)) expect(selected[0]!.spec.template!.metadata.labels[k]).toBe(v);
        expect(svc.spec.type).toBe('ClusterIP');
        expect(svc.spec.ports!.map((p) => [p.port, p.targetPort, p.nodePort])).toEqual([[expected[svc.metadata.name], expected[svc.metadata.name], undefined]]);
        expect(selected[0]!.spec.template!.spec.containers.flatMap((c) => c.ports.map((p) => p.containerPort))).toContain(svc.spec.ports![0]!.targetPort);
      }
    }
  });
});
