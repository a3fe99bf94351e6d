// charts/thanos-ha-e2e rendered with the pinned helm for every preset and cluster, with data on
// emptyDir and on a claim of the cluster's default StorageClass, every manifest checked against the
// pinned Kubernetes release's schemas, and every container checked against its plan process. Needs helm and kubectl-validate provisioned (`node harness/cli.ts setup`); without
// them every test here fails with the one-line reason.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../plan/index.ts';
import { PRESETS } from '../../presets/index.ts';
import { IMAGES, kubePlan, NAMESPACE } from './fixture.ts';
import { CHART_DIR, helmTemplate, kubernetesRelease, provisionedTool, validateManifests } from './render.ts';
import { VOLUME_SIZE } from './storage.ts';
import { chartValues, INSTANCES_ANNOTATION, usesDataDir, type ChartValues, type Storage } from './values.ts';

// Loose views of the rendered objects: just the fields checked here.
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}
interface Container {
  name: string;
  image: string;
  args: string[];
  ports: { containerPort: number; name?: string }[];
  readinessProbe: { httpGet: { path: string; port: number } };
  volumeMounts: { name: string; mountPath: string }[];
}
interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations: Record<string, string> };
  spec: { containers: Container[]; volumes?: { name: string; configMap?: { name: string }; emptyDir?: object }[] };
}
interface StatefulSetSpec {
  replicas: number;
  template: PodTemplate;
  volumeClaimTemplates?: { metadata: { name: string; labels?: Record<string, string> }; spec: { accessModes: string[]; storageClassName?: string; resources: { requests: { storage: string } } } }[];
  persistentVolumeClaimRetentionPolicy?: { whenDeleted: string; whenScaled: string };
}

interface Render {
  preset: string;
  cluster: string;
  storage: Storage;
  plan: Plan;
  values: ChartValues;
  file: string;
  manifests: Manifest[];
}

/** What the deploy path gives where the cluster has a default StorageClass (storage.ts): no class named. */
const DEFAULT_CLASS: Storage = { type: 'persistentVolumeClaim', size: VOLUME_SIZE };
const NAMED_CLASS: Storage = { type: 'persistentVolumeClaim', size: '2Gi', storageClassName: 'local-path' };
const storageName = (s: Storage) => (s.type === 'emptyDir' ? 'emptyDir' : `pvc-${s.storageClassName ?? 'default'}`);

let dir: string;
let helm: string;
const renders: Render[] = [];
let renderMs = 0;

async function render(preset: string, cluster: string, storage: Storage): Promise<Render> {
  const { plan, addressing } = kubePlan(PRESETS[preset]!());
  const values = chartValues(plan, cluster, { addressing, images: IMAGES, storage });
  const text = await helmTemplate(values, { helm, dir });
  const file = join(dir, `${preset}-${cluster}-${storageName(storage)}.yaml`);
  await writeFile(file, text);
  const manifests = parseAllDocuments(text)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
  return { preset, cluster, storage, plan, values, file, manifests };
}

beforeAll(async () => {
  helm = await provisionedTool('helm');
  dir = await mkdtemp(join(tmpdir(), 'thanos-ha-e2e-chart-'));
  const started = Date.now();
  const jobs: [string, string, Storage][] = [];
  for (const preset of Object.keys(PRESETS)) {
    for (const cluster of PRESETS[preset]!().clusters) for (const storage of [{ type: 'emptyDir' } as const, DEFAULT_CLASS]) jobs.push([preset, cluster.name, storage]);
  }
  // A class named explicitly (THANOS_HA_E2E_STORAGE_CLASS), on the topology with the most pod shapes.
  for (const cluster of ['observer', 'observee']) jobs.push(['arch2-all-replica-labels', cluster, NAMED_CLASS]);
  for (const [preset, cluster, storage] of jobs) renders.push(await render(preset, cluster, storage));
  renderMs = Date.now() - started;
}, 180_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const statefulSets = (r: Render) => r.manifests.filter((m) => m.kind === 'StatefulSet');
const podTemplate = (m: Manifest) => (m.spec as { template: PodTemplate }).template;

describe(`charts/thanos-ha-e2e for every preset and cluster, against Kubernetes ${kubernetesRelease()}`, () => {
  it('renders every preset for every cluster role, with data on emptyDir and on claims', () => {
    const rendered = new Set(renders.map((r) => `${r.preset}/${r.cluster}/${storageName(r.storage)}`));
    for (const [preset, make] of Object.entries(PRESETS)) {
      for (const cluster of make().clusters) {
        for (const storage of ['emptyDir', 'pvc-default']) expect(rendered, `${preset} ${cluster.role} ${storage}`).toContain(`${preset}/${cluster.name}/${storage}`);
      }
    }
  });

  it('gives only manifests that kubectl-validate accepts', async () => {
    const kubectlValidate = await provisionedTool('kubectl-validate');
    const started = Date.now();
    const verdicts = await validateManifests(
      renders.map((r) => r.file),
      kubectlValidate,
    );
    const failures = verdicts.filter((v) => !v.ok).map((v) => `${v.file} #${v.document}: ${v.message}`);
    expect(failures).toEqual([]);
    const total = renders.reduce((sum, r) => sum + r.manifests.length, 0);
    expect(verdicts).toHaveLength(total);
    console.log(
      `kubectl-validate (Kubernetes ${kubernetesRelease()}): ${verdicts.length} manifests of ${renders.length} renders valid ` +
        `(helm template ${renderMs} ms, validation ${Date.now() - started} ms)`,
    );
  });

  it('renders only StatefulSets, Services and ConfigMaps, all in the planned namespace', () => {
    for (const r of renders) {
      for (const m of r.manifests) {
        expect(['StatefulSet', 'Service', 'ConfigMap'], `${r.file}: ${m.kind}`).toContain(m.kind);
        expect(m.metadata.namespace).toBe(NAMESPACE);
      }
    }
  });

  it('runs each process of the cluster exactly once, with exactly the plan arguments and image', () => {
    for (const r of renders) {
      const seen: string[] = [];
      for (const sts of statefulSets(r)) {
        const template = podTemplate(sts);
        const instances = JSON.parse(template.metadata.annotations[INSTANCES_ANNOTATION]!) as Record<string, string>;
        for (const container of template.spec.containers) {
          const process = r.plan.processes.find((p) => p.id === instances[container.name]);
          expect(process, `${r.file}: ${sts.metadata.name}/${container.name}`).toBeDefined();
          expect(container.args).toEqual(process!.args);
          expect(container.image).toBe(IMAGES[process!.binary]);
          seen.push(process!.id);
        }
      }
      expect(seen.sort()).toEqual(r.plan.processes.filter((p) => p.cluster === r.cluster).map((p) => p.id).sort());
    }
  });

  it('mounts exactly the plan files where the arguments point, and one data volume per pod', () => {
    for (const r of renders) {
      const configMaps = new Map(r.manifests.filter((m) => m.kind === 'ConfigMap').map((m) => [m.metadata.name, m.data ?? {}]));
      for (const sts of statefulSets(r)) {
        const template = podTemplate(sts);
        const instances = JSON.parse(template.metadata.annotations[INSTANCES_ANNOTATION]!) as Record<string, string>;
        for (const container of template.spec.containers) {
          const process = r.plan.processes.find((p) => p.id === instances[container.name])!;
          const configMount = container.volumeMounts.find((v) => v.mountPath === r.values.paths.config);
          if (Object.keys(process.files).length === 0) {
            expect(configMount).toBeUndefined();
            continue;
          }
          const volume = template.spec.volumes!.find((v) => v.name === configMount!.name)!;
          expect(configMaps.get(volume.configMap!.name)).toEqual(process.files);
          for (const file of Object.keys(process.files)) expect(process.args.join(' ')).toContain(`${r.values.paths.config}/${file}`);
        }
        for (const container of template.spec.containers) expect(container.volumeMounts).toContainEqual({ name: 'data', mountPath: r.values.paths.data });
      }
    }
  });

  it('gives a pod whose processes keep data a claim of the class asked for, kept on scale-down, deleted with its StatefulSet; the others an emptyDir', () => {
    let claimed = 0;
    for (const r of renders) {
      for (const sts of statefulSets(r)) {
        const spec = sts.spec as unknown as StatefulSetSpec;
        const instances = JSON.parse(spec.template.metadata.annotations[INSTANCES_ANNOTATION]!) as Record<string, string>;
        const processes = Object.values(instances).map((id) => r.plan.processes.find((p) => p.id === id)!);
        const what = `${r.file}: ${sts.metadata.name}`;
        const emptyDirs = (spec.template.spec.volumes ?? []).filter((v) => v.name === 'data');
        if (r.storage.type === 'persistentVolumeClaim' && processes.some(usesDataDir)) {
          claimed++;
          // One claim per pod: a sidecar reads its Prometheus' blocks from the same volume.
          expect(spec.volumeClaimTemplates, what).toHaveLength(1);
          const [claim] = spec.volumeClaimTemplates!;
          expect(claim!.metadata.name).toBe('data');
          expect(claim!.metadata.labels).toMatchObject({ 'thanos-ha-e2e.io/topology': r.values.topology, 'thanos-ha-e2e.io/cluster': r.cluster });
          expect(claim!.spec.accessModes).toEqual(['ReadWriteOnce']);
          expect(claim!.spec.resources.requests.storage).toBe(r.storage.size);
          // No class named: the cluster's default StorageClass takes it.
          expect(claim!.spec.storageClassName).toBe(r.storage.storageClassName);
          expect(spec.persistentVolumeClaimRetentionPolicy, what).toEqual({ whenDeleted: 'Delete', whenScaled: 'Retain' });
          expect(emptyDirs, what).toEqual([]);
        } else {
          expect(spec.volumeClaimTemplates, what).toBeUndefined();
          expect(spec.persistentVolumeClaimRetentionPolicy, what).toBeUndefined();
          expect(emptyDirs, what).toEqual([{ name: 'data', emptyDir: {} }]);
        }
      }
    }
    expect(claimed).toBeGreaterThan(0);
    // Where the kill-and-restart scenarios need it: every Prometheus and receive pod has a claim.
    for (const r of renders.filter((x) => storageName(x.storage) === 'pvc-default')) {
      const claims = new Set(statefulSets(r).filter((s) => (s.spec as unknown as StatefulSetSpec).volumeClaimTemplates).map((s) => s.metadata.name));
      for (const p of r.plan.processes.filter((x) => x.cluster === r.cluster && (x.kind === 'prometheus' || x.kind === 'receive'))) expect(claims, `${r.preset} ${p.id}`).toContain(p.pod.split('/')[1]);
      for (const p of r.plan.processes.filter((x) => x.cluster === r.cluster && (x.kind === 'query' || x.kind === 'query-frontend'))) expect(claims, `${r.preset} ${p.id}`).not.toContain(p.pod.split('/')[1]);
    }
  });

  it('probes readiness where the plan says', () => {
    for (const r of renders) {
      for (const sts of statefulSets(r)) {
        const template = podTemplate(sts);
        const instances = JSON.parse(template.metadata.annotations[INSTANCES_ANNOTATION]!) as Record<string, string>;
        for (const container of template.spec.containers) {
          const process = r.plan.processes.find((p) => p.id === instances[container.name])!;
          expect(container.readinessProbe.httpGet.path).toBe(process.ready.path);
          expect(container.ports.map((p) => p.containerPort)).toContain(container.readinessProbe.httpGet.port);
        }
      }
    }
  });

  it('gives every Service a selector that matches its pods, and every cross-cluster address a NodePort', () => {
    for (const r of renders) {
      const pods = statefulSets(r).map((s) => podTemplate(s));
      for (const svc of r.manifests.filter((m) => m.kind === 'Service')) {
        const selector = (svc.spec as { selector: Record<string, string> }).selector;
        const selected = pods.filter((p) => Object.entries(selector).every(([k, v]) => p.metadata.labels[k] === v));
        expect(selected.length, `${r.file}: Service ${svc.metadata.name} selects no pod`).toBeGreaterThan(0);
        for (const port of (svc.spec as { ports: { targetPort: number }[] }).ports) {
          for (const pod of selected) expect(pod.spec.containers.flatMap((c) => c.ports.map((p) => p.containerPort))).toContain(port.targetPort);
        }
      }
    }
    // Every "<cluster>-k3s:<node port>" in one cluster's arguments and files is a NodePort Service of that cluster.
    for (const r of renders) {
      const text = r.plan.processes.filter((p) => p.cluster === r.cluster).map((p) => [...p.args, ...Object.values(p.files)].join('\n')).join('\n');
      for (const [, cluster, port] of text.matchAll(/\b([a-z][a-z-]*)-k3s:(\d+)/g)) {
        const other = renders.find((o) => o.preset === r.preset && o.cluster === cluster && storageName(o.storage) === storageName(r.storage))!;
        const nodePorts = other.manifests
          .filter((m) => m.kind === 'Service' && (m.spec as { type: string }).type === 'NodePort')
          .flatMap((m) => (m.spec as { ports: { nodePort: number }[] }).ports.map((p) => p.nodePort));
        expect(nodePorts, `${r.preset}: ${cluster}-k3s:${port}`).toContain(Number(port));
      }
    }
  });
});

describe('charts/thanos-ha-e2e itself', () => {
  it('is checked by a validator that does reject a wrong manifest', async () => {
    const sts = statefulSets(renders[0]!)[0]!;
    const wrong = join(dir, 'wrong.yaml');
    // A misspelt field and a port given as a string: what a hand edit of a template could produce.
    const spec = { ...sts.spec, replica: 1 };
    await writeFile(wrong, JSON.stringify({ ...sts, spec }) + '\n---\n' + JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' }, spec: { ports: [{ port: 'http' }] } }));
    const verdicts = await validateManifests([wrong], await provisionedTool('kubectl-validate'));
    expect(verdicts.map((v) => v.ok)).toEqual([false, false]);
    expect(verdicts[0]!.message).toContain('spec.replica');
    expect(verdicts[1]!.message).toContain('spec.ports[0].port');
  });

  it('spells no component flag: every argument comes from the values', async () => {
    const templates = join(CHART_DIR, 'templates');
    for (const file of await readdir(templates)) {
      const text = await readFile(join(templates, file), 'utf8');
      expect(text.match(/(^|[\s"'[,])--?[a-z][\w.-]*=/gm), file).toBeNull();
    }
  });

  it('refuses to render into a namespace other than the planned one, in one line', async () => {
    const values = renders.find((r) => r.preset === 'arch1-store-and-sidecar' && r.cluster === 'observer')!.values;
    await expect(helmTemplate(values, { helm, dir, namespace: 'default' })).rejects.toThrow(
      /^helm template of \S+ failed: .*these values were planned for namespace "thanos-ha-e2e" \(the arguments contain its DNS names\), not "default": use --namespace thanos-ha-e2e$/,
    );
  });

  it('creates every StatefulSet with 1 replica (0 for an instance that joins later), or 0 when the substrate starts pods in order', async () => {
    for (const r of renders) {
      const joining = new Set(r.plan.processes.filter((p) => p.deferred).map((p) => p.pod.split('/')[1]));
      for (const sts of statefulSets(r)) expect(sts.spec!.replicas, `${r.preset} ${sts.metadata.name}`).toBe(joining.has(sts.metadata.name) ? 0 : 1);
    }
    expect(renders.filter((r) => statefulSets(r).some((sts) => sts.spec!.replicas === 0)).map((r) => r.preset)).toContain('hashring-growth-faulty');
    const { plan, addressing } = kubePlan(PRESETS['arch3-central-alerting']!());
    const values = chartValues(plan, 'observer', { addressing, images: IMAGES, startStopped: true });
    const stopped = parseAllDocuments(await helmTemplate(values, { helm, dir }))
      .map((d) => d.toJSON() as Manifest | null)
      .filter((m): m is Manifest => m?.kind === 'StatefulSet');
    expect(stopped.length).toBeGreaterThan(0);
    for (const sts of stopped) expect(sts.spec!.replicas, sts.metadata.name).toBe(0);
  });

  it('checks hand-written values against values.schema.json', async () => {
    const values = renders.find((r) => r.preset === 'arch1-store-and-sidecar' && r.cluster === 'observer')!.values;
    const broken = { ...values, pods: [{ ...values.pods[0]!, containers: [] }] };
    await expect(helmTemplate(broken, { helm, dir })).rejects.toThrow(/values don't meet the specifications of the schema/);
    const badSize = { ...values, storage: { type: 'persistentVolumeClaim', size: 'one gig' } } as unknown as ChartValues;
    await expect(helmTemplate(badSize, { helm, dir })).rejects.toThrow(/values don't meet the specifications of the schema/);
    const unknownVolume = { ...values, pods: [{ ...values.pods[0]!, dataVolume: 'hostPath' }] } as unknown as ChartValues;
    await expect(helmTemplate(unknownVolume, { helm, dir })).rejects.toThrow(/values don't meet the specifications of the schema/);
  });

  it('refuses a pod claim without claim parameters, in one line', async () => {
    const values = renders.find((r) => r.preset === 'arch1-store-and-sidecar' && r.cluster === 'observer' && r.storage.type === 'emptyDir')!.values;
    const claimWithoutSize: ChartValues = { ...values, pods: [{ ...values.pods[0]!, dataVolume: 'persistentVolumeClaim' }] };
    await expect(helmTemplate(claimWithoutSize, { helm, dir })).rejects.toThrow(
      /^helm template of \S+ failed: .*pod prometheus asks for a persistentVolumeClaim, but storage.type is "emptyDir": set storage to \{type: persistentVolumeClaim, size: \.\.\.\}$/,
    );
  });

  it('falls back to storage.type for a pod that does not say (hand-written values)', async () => {
    const values = renders.find((r) => r.preset === 'arch1-store-and-sidecar' && r.cluster === 'observer' && storageName(r.storage) === 'pvc-default')!.values;
    const { dataVolume: _, ...query } = values.pods.find((p) => p.name === 'query')!;
    const sts = parseAllDocuments(await helmTemplate({ ...values, pods: [query] }, { helm, dir }))
      .map((d) => d.toJSON() as Manifest | null)
      .find((m) => m?.kind === 'StatefulSet')!;
    expect((sts.spec as unknown as StatefulSetSpec).volumeClaimTemplates).toHaveLength(1);
  });
});
