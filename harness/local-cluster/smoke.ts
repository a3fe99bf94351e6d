// `cluster smoke`: proves the local cluster does what the Kubernetes substrates need, with the
// locally built Prometheus image (imagePullPolicy Never):
//   1. a Prometheus pod answers /-/ready through its ClusterIP Service from inside the cluster, by
//      Service IP and by DNS name (a Job running thanos-ha-e2e/probe, a static Go GET in a scratch image);
//   2. the same from the host: the Service's NodePort on 127.0.0.1, and `kubectl port-forward`.
// Leaves namespace thanos-ha-e2e-smoke behind only on failure (to look at); deletes it on success.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import type { Env } from '../binaries/cache.ts';
import { formatElapsed } from '../binaries/go-build.ts';
import { pinnedVersion } from '../binaries/versions.ts';
import { componentImageTag } from '../images/components.ts';
import { buildGoToolImage } from '../images/go-tool.ts';
import { savedImageTar } from '../images/image.ts';
import { builtClusterBinaries } from './build.ts';
import { clusterLayout, CLUSTER_DOMAIN } from './config.ts';
import { loadImages } from './index.ts';

const NAMESPACE = 'thanos-ha-e2e-smoke';
const PROBE_SOURCE = fileURLToPath(new URL('./probe/main.go', import.meta.url));

export async function smoke(opts: { env?: Env; onProgress?: (line: string) => void } = {}): Promise<void> {
  const env = opts.env ?? process.env;
  const progress = opts.onProgress ?? (() => {});
  const layout = clusterLayout(env);
  const binaries = await builtClusterBinaries(env);
  if (!binaries) throw new Error('the cluster binaries are not built: node harness/cli.ts cluster up');
  const kubectl = async (...args: string[]) => {
    const result = await execa(binaries.kube.kubectl, [`--kubeconfig=${layout.kubeconfig}`, ...args], { reject: false, stdin: 'ignore', all: true });
    if (result.exitCode !== 0) throw new Error(`kubectl ${args.slice(0, 3).join(' ')} failed: ${(result.all ?? '').trim().split('\n').at(-1)}`);
    return result.stdout;
  };

  const prometheusImage = componentImageTag('prometheus', pinnedVersion('prometheus').version);
  const prometheusTar = await savedImageTar(prometheusImage, env);
  const probe = await buildGoToolImage({ name: 'probe', source: PROBE_SOURCE }, { env, onProgress: progress });
  await loadImages([prometheusTar, probe.tarFile], { env, onProgress: progress });

  const t = Date.now();
  const manifest = join(layout.etc, 'smoke.yaml');
  await writeFile(manifest, prometheusManifest(prometheusImage));
  await kubectl('apply', '-f', manifest);
  await kubectl('-n', NAMESPACE, 'rollout', 'status', 'deployment/prometheus', '--timeout=120s');
  progress(`  Prometheus pod ready in ${formatElapsed(Date.now() - t)}`);
  const clusterIp = await kubectl('-n', NAMESPACE, 'get', 'service', 'prometheus', '-o', 'jsonpath={.spec.clusterIP}');
  const nodePort = await kubectl('-n', NAMESPACE, 'get', 'service', 'prometheus', '-o', 'jsonpath={.spec.ports[0].nodePort}');

  // 1. From inside the cluster.
  const urls = [`http://${clusterIp}:9090/-/ready`, `http://prometheus.${NAMESPACE}.svc.${CLUSTER_DOMAIN}:9090/-/ready`];
  const job = join(layout.etc, 'smoke-probe.yaml');
  await writeFile(job, probeJob(probe.tag, urls));
  await kubectl('apply', '-f', job);
  const waited = await execa(binaries.kube.kubectl, [`--kubeconfig=${layout.kubeconfig}`, '-n', NAMESPACE, 'wait', '--for=condition=complete', 'job/probe', '--timeout=90s'], {
    reject: false,
    stdin: 'ignore',
    all: true,
  });
  const logs = await kubectl('-n', NAMESPACE, 'logs', 'job/probe').catch((error: unknown) => String(error));
  for (const line of logs.trim().split('\n')) progress(`  in-cluster: ${line}`);
  if (waited.exitCode !== 0) throw new Error(`the in-cluster probe did not succeed: ${logs.trim().split('\n').join(' | ')}`);

  // 2. From the host: NodePort on 127.0.0.1, then kubectl port-forward.
  const viaNodePort = await get(`http://127.0.0.1:${nodePort}/-/ready`);
  progress(`  host NodePort 127.0.0.1:${nodePort}: ${viaNodePort}`);
  const forward = execa(binaries.kube.kubectl, [`--kubeconfig=${layout.kubeconfig}`, '-n', NAMESPACE, 'port-forward', 'service/prometheus', ':9090', '--address=127.0.0.1'], {
    reject: false,
    stdin: 'ignore',
  });
  try {
    let port: string | undefined;
    const deadline = Date.now() + 20_000;
    let out = '';
    forward.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    while (!port && Date.now() < deadline) {
      port = /127\.0\.0\.1:(\d+) ->/.exec(out)?.[1];
      await sleep(100);
    }
    if (!port) throw new Error('kubectl port-forward printed no local port within 20s');
    progress(`  host port-forward 127.0.0.1:${port}: ${await get(`http://127.0.0.1:${port}/-/ready`)}`);
  } finally {
    forward.kill('SIGTERM');
    await forward;
  }
  await kubectl('delete', 'namespace', NAMESPACE, '--wait=false');
  progress(`smoke passed in ${formatElapsed(Date.now() - t)}`);
}

async function get(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  const text = (await response.text()).trim();
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${text}`);
  return `${response.status} ${text}`;
}

function prometheusManifest(image: string): string {
  return `apiVersion: v1
kind: Namespace
metadata: {name: ${NAMESPACE}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: prometheus, namespace: ${NAMESPACE}}
data:
  prometheus.yml: |
    global: {scrape_interval: 15s}
    scrape_configs:
    - job_name: self
      static_configs: [{targets: ['localhost:9090']}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: prometheus, namespace: ${NAMESPACE}}
spec:
  replicas: 1
  selector: {matchLabels: {app: prometheus}}
  template:
    metadata: {labels: {app: prometheus}}
    spec:
      containers:
      - name: prometheus
        image: ${image}
        imagePullPolicy: Never
        args: [--config.file=/etc/prometheus/prometheus.yml, --storage.tsdb.path=/prometheus, --web.listen-address=:9090]
        ports: [{name: http, containerPort: 9090}]
        readinessProbe:
          httpGet: {path: /-/ready, port: 9090}
          periodSeconds: 2
        volumeMounts:
        - {name: config, mountPath: /etc/prometheus}
        - {name: data, mountPath: /prometheus}
      volumes:
      - {name: config, configMap: {name: prometheus}}
      - {name: data, emptyDir: {}}
---
apiVersion: v1
kind: Service
metadata: {name: prometheus, namespace: ${NAMESPACE}}
spec:
  type: NodePort
  selector: {app: prometheus}
  ports: [{name: http, port: 9090, targetPort: 9090}]
`;
}

function probeJob(image: string, urls: string[]): string {
  return `apiVersion: batch/v1
kind: Job
metadata: {name: probe, namespace: ${NAMESPACE}}
spec:
  backoffLimit: 3
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: probe
        image: ${image}
        imagePullPolicy: Never
        args: ${JSON.stringify(urls)}
`;
}
