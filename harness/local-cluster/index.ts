// A real single-node Kubernetes cluster from upstream parts, for the Kubernetes substrates on a
// machine where k3s cannot be built (`node harness/cli.ts cluster up|down|status|load`). Root only.
//
//   binaries     kube-* / kubelet / kubectl, etcd, CoreDNS built from the Go module proxy (build.ts)
//   host         containerd, runc, CNI plugins, iptables, conntrack, socat from Debian (apt-get)
//   images       the pause image (sandbox) and every component image tar in <cache>/images, imported
//                into containerd's k8s.io namespace; CoreDNS gets a FROM-scratch image like theirs
//   cluster dir  ${cache}/cluster: kubeconfig, pki/ (kept), containerd/ (images, kept), etc/, logs/,
//                run/ and data/ (removed by down)
//
// `down` stops every process up started (pods first, through the API, so the kubelet tears their
// network down), undoes what up changed on the host (the node IP on lo, the bridge, kube-proxy's
// iptables rules, the sysctls kubelet and kube-proxy set) and removes run/ and data/.
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { cacheRoot, type Env } from '../binaries/cache.ts';
import { formatElapsed } from '../binaries/go-build.ts';
import { withFileLock } from '../binaries/lock.ts';
import { buildImage } from '../images/image.ts';
import { buildPauseImage, PAUSE_IMAGE } from '../images/pause.ts';
import { ensureDocker } from '../images/docker.ts';
import { IMAGE_REPOSITORY } from '../images/components.ts';
import { builtClusterBinaries, ensureClusterBinaries, type ClusterBinaries } from './build.ts';
import {
  BRIDGE,
  CNI_BIN_DIR,
  NODE_IP,
  NODE_NAME,
  PORTS,
  KUBERNETES_SERVICE_IP,
  SERVICE_CIDR,
  apiserverArgs,
  clusterLayout,
  cniConfig,
  containerdConfig,
  controllerManagerArgs,
  corednsManifest,
  etcdArgs,
  kubeProxyConfig,
  kubeconfig,
  kubeletArgs,
  kubeletConfig,
  schedulerArgs,
  type ClusterLayout,
} from './config.ts';
import { ensurePki, type Pki } from './pki.ts';
import { killAndWait, logFile, pidsWithArgument, runningPid, startProcess, stopProcess, type ProcessSpec } from './processes.ts';
import { CLUSTER_VERSIONS } from './versions.ts';

export { clusterLayout, NODE_IP, NODE_NAME } from './config.ts';
export { CLUSTER_VERSIONS } from './versions.ts';

type Progress = (line: string) => void;
export interface ClusterOptions {
  env?: Env;
  onProgress?: Progress;
}

/** In start order; down stops them in reverse (after the pods). */
const PROCESSES = ['containerd', 'etcd', 'kube-apiserver', 'apiserver-relay', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy'] as const;
type ProcessName = (typeof PROCESSES)[number];

const HOST_PACKAGES: Record<string, string> = {
  containerd: 'containerd',
  'containerd-shim-runc-v2': 'containerd',
  ctr: 'containerd',
  runc: 'runc',
  iptables: 'iptables',
  conntrack: 'conntrack',
  socat: 'socat',
  openssl: 'openssl',
};

/** Sysctls the kubelet and kube-proxy set: recorded before the first up, restored by down. */
const TOUCHED_SYSCTLS = [
  'vm.overcommit_memory',
  'vm.panic_on_oom',
  'kernel.panic',
  'kernel.panic_on_oops',
  'kernel.keys.root_maxkeys',
  'kernel.keys.root_maxbytes',
  'net.ipv4.conf.all.route_localnet',
];

export const COREDNS_IMAGE = `${IMAGE_REPOSITORY}/coredns:${CLUSTER_VERSIONS.coredns}`;

export interface ClusterUp {
  kubeconfig: string;
  layout: ClusterLayout;
  coredns: boolean;
  ms: number;
  startMs: number;
}

export async function clusterUp(opts: ClusterOptions = {}): Promise<ClusterUp> {
  const env = opts.env ?? process.env;
  const progress = opts.onProgress ?? (() => {});
  if (process.getuid?.() !== 0) throw new Error('cluster up needs root (containerd, kubelet, iptables, network namespaces)');
  const layout = clusterLayout(env);
  await mkdir(layout.root, { recursive: true });
  return withFileLock(join(layout.root, 'cluster.lock'), async () => {
    const started = Date.now();
    await ensureHostPackages(progress);
    const binaries = await ensureClusterBinaries({ env, onProgress: progress });
    const images = await ensureImages(binaries, env, progress);

    const startStarted = Date.now();
    for (const dir of [layout.etc, layout.logs, layout.run, layout.cniConfDir, layout.cniIpamDir, layout.podLogs, layout.kubeletRoot, layout.importedDir]) {
      await mkdir(dir, { recursive: true });
    }
    const pki = await ensurePki({ dir: layout.pki, nodeName: NODE_NAME, apiserverIps: ['127.0.0.1', NODE_IP, KUBERNETES_SERVICE_IP] });
    await writeConfigs(layout, pki);
    await prepareHost(layout, progress);

    const specs = processSpecs(layout, pki, binaries);
    const ensure = async (name: ProcessName, ready: () => Promise<boolean>, what: string, timeoutMs = 90_000) => {
      const t = Date.now();
      const running = await runningPid(layout, name);
      if (running === undefined) await startProcess(layout, specs[name]);
      await waitFor(() => ready(), timeoutMs, `${name} ${what}`, layout, name);
      progress(`  ${name.padEnd(24)} ${running === undefined ? `started, ${what} in ${formatElapsed(Date.now() - t)}` : `already running (pid ${running})`}`);
    };
    const kubectl = (...args: string[]) => execa(binaries.kube.kubectl, [`--kubeconfig=${layout.kubeconfig}`, ...args], { reject: false, stdin: 'ignore', all: true });

    progress(`starting the cluster in ${layout.root}`);
    await ensure('containerd', async () => (await ctr(layout, ['version'])).exitCode === 0, 'answering');
    await importImages(layout, images.tars, progress);
    await ensure('etcd', () => httpOk(`http://127.0.0.1:${PORTS.etcdClient}/health`), 'healthy');
    await ensure('kube-apiserver', async () => (await kubectl('get', '--raw', '/readyz')).exitCode === 0, 'ready', 120_000);
    await ensure('apiserver-relay', async () => (await runningPid(layout, 'apiserver-relay')) !== undefined, 'listening');
    await ensure('kube-controller-manager', () => httpsUp(PORTS.controllerManager), 'serving');
    await ensure('kube-scheduler', () => httpsUp(PORTS.scheduler), 'serving');
    await ensure('kubelet', () => httpOk(`http://127.0.0.1:${PORTS.kubeletHealthz}/healthz`), 'healthy');
    await ensure('kube-proxy', () => httpOk(`http://127.0.0.1:${PORTS.kubeProxyHealthz}/healthz`), 'healthy');

    const t = Date.now();
    await waitFor(
      async () => (await kubectl('get', 'node', NODE_NAME, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')).stdout === 'True',
      120_000,
      `node ${NODE_NAME} Ready`,
      layout,
      'kubelet',
    );
    progress(`  node ${NODE_NAME} is Ready (${formatElapsed(Date.now() - t)})`);

    let coredns = false;
    if (images.coredns) {
      const t2 = Date.now();
      const manifest = join(layout.etc, 'coredns.yaml');
      await writeFile(manifest, corednsManifest(COREDNS_IMAGE));
      const applied = await kubectl('apply', '-f', manifest);
      if (applied.exitCode !== 0) throw new Error(`kubectl apply of CoreDNS failed: ${lastLine(applied.all)}`);
      const rolled = await kubectl('-n', 'kube-system', 'rollout', 'status', 'deployment/coredns', '--timeout=120s');
      if (rolled.exitCode !== 0) throw new Error(`CoreDNS did not become ready: ${lastLine(rolled.all)}`);
      coredns = true;
      progress(`  CoreDNS ${CLUSTER_VERSIONS.coredns} ready at ${'10.96.0.10'} (${formatElapsed(Date.now() - t2)})`);
    }
    return { kubeconfig: layout.kubeconfig, layout, coredns, ms: Date.now() - started, startMs: Date.now() - startStarted };
  }, { onWait: (pid) => progress(`waiting for another cluster command (pid ${pid})`) });
}

export interface ProcessStatus {
  name: string;
  pid: number | undefined;
}

export async function clusterStatus(opts: ClusterOptions = {}): Promise<{ layout: ClusterLayout; processes: ProcessStatus[]; node?: string; built: boolean }> {
  const layout = clusterLayout(opts.env ?? process.env);
  const processes: ProcessStatus[] = [];
  for (const name of PROCESSES) processes.push({ name, pid: await runningPid(layout, name) });
  const binaries = await builtClusterBinaries(opts.env);
  let node: string | undefined;
  if (binaries && processes.find((p) => p.name === 'kube-apiserver')?.pid) {
    const got = await execa(binaries.kube.kubectl, [`--kubeconfig=${layout.kubeconfig}`, 'get', 'nodes', '--no-headers'], { reject: false, stdin: 'ignore', all: true });
    node = (got.exitCode === 0 ? got.stdout : lastLine(got.all)).trim();
  }
  return { layout, processes, node, built: binaries !== undefined };
}

export async function clusterDown(opts: ClusterOptions = {}): Promise<{ stopped: string[] }> {
  const env = opts.env ?? process.env;
  const progress = opts.onProgress ?? (() => {});
  const layout = clusterLayout(env);
  if (!existsSync(layout.root)) return { stopped: [] };
  return withFileLock(join(layout.root, 'cluster.lock'), async () => {
    const stopped: string[] = [];
    const stop = async (name: ProcessName, graceMs = 10_000) => {
      if (await stopProcess(layout, name, graceMs)) {
        stopped.push(name);
        progress(`  stopped ${name}`);
      }
    };
    const binaries = await builtClusterBinaries(env);

    // Pods first, through the API: the kubelet stops them and CNI removes their network. Controllers
    // are stopped before, so nothing recreates what is deleted.
    await stop('kube-controller-manager');
    await stop('kube-scheduler');
    if (binaries && (await runningPid(layout, 'kube-apiserver')) && (await runningPid(layout, 'kubelet'))) {
      progress('  deleting every pod (the kubelet stops them and releases their network)');
      await execa(binaries.kube.kubectl, [`--kubeconfig=${layout.kubeconfig}`, 'delete', 'pods', '--all', '--all-namespaces', '--grace-period=2', '--timeout=60s', '--wait=true'], {
        reject: false,
        stdin: 'ignore',
      });
      // The kubelet stops sandboxes shortly after their containers.
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && (await readySandboxes(layout)) > 0) await sleep(500);
    }
    await stop('kubelet');
    await stop('kube-proxy');
    await stop('apiserver-relay');
    await stop('kube-apiserver');
    await stop('etcd');
    if (await runningPid(layout, 'containerd')) {
      // Anything left (the kubelet was already gone): kill tasks, remove containers.
      const tasks = await ctr(layout, ['-n', 'k8s.io', 'tasks', 'ls', '-q']);
      for (const id of tasks.stdout.split('\n').filter(Boolean)) await ctr(layout, ['-n', 'k8s.io', 'tasks', 'kill', '-s', 'SIGKILL', id]);
      await sleep(500);
      for (const id of tasks.stdout.split('\n').filter(Boolean)) await ctr(layout, ['-n', 'k8s.io', 'tasks', 'delete', '-f', id]);
      const containers = await ctr(layout, ['-n', 'k8s.io', 'containers', 'ls', '-q']);
      for (const id of containers.stdout.split('\n').filter(Boolean)) await ctr(layout, ['-n', 'k8s.io', 'containers', 'rm', id]);
    }
    await stop('containerd');
    for (const pid of pidsWithArgument(layout.containerdSocket)) {
      await killAndWait(pid, 5_000);
      stopped.push(`containerd-shim (pid ${pid})`);
    }
    await restoreHost(layout, binaries, progress);
    await unmountUnder(layout.root);
    for (const dir of [join(layout.root, 'data'), layout.run]) await rm(dir, { recursive: true, force: true });
    return { stopped };
  });
}

/** Imports image tars (`docker save` format) into the cluster's containerd, for imagePullPolicy Never/IfNotPresent. */
export async function loadImages(tars: string[], opts: ClusterOptions = {}): Promise<void> {
  const layout = clusterLayout(opts.env ?? process.env);
  if (!(await runningPid(layout, 'containerd'))) throw new Error('the local cluster is not up (containerd is not running): node harness/cli.ts cluster up');
  await importImages(layout, tars.map((tar) => ({ tar, force: true })), opts.onProgress ?? (() => {}));
}

// ---------------------------------------------------------------------------------------------

interface ImageTar {
  tar: string;
  force?: boolean;
}

async function ensureImages(binaries: ClusterBinaries, env: Env, progress: Progress): Promise<{ tars: ImageTar[]; coredns: boolean }> {
  const dir = join(cacheRoot(env), 'images');
  await mkdir(dir, { recursive: true });
  const tarOf = async (prefix: string) => (await readdir(dir)).filter((f) => f.startsWith(prefix) && f.endsWith('.tar')).map((f) => join(dir, f))[0];
  const pausePrefix = `${PAUSE_IMAGE.replace(/[/:]/g, '_')}-`;
  const corednsPrefix = `${COREDNS_IMAGE.replace(/[/:]/g, '_')}-`;
  let coredns = true;
  if (!(await tarOf(pausePrefix)) || !(await tarOf(corednsPrefix))) {
    try {
      await ensureDocker({ env, onProgress: progress });
      if (!(await tarOf(pausePrefix))) await buildPauseImage({ env, onProgress: progress });
      if (!(await tarOf(corednsPrefix))) {
        progress(`building image ${COREDNS_IMAGE} (FROM scratch, the static coredns binary)`);
        await buildImage(
          {
            tag: COREDNS_IMAGE,
            files: { '/coredns': binaries.coredns },
            entrypoint: ['/coredns'],
            labels: { 'org.opencontainers.image.title': 'coredns', 'org.opencontainers.image.version': CLUSTER_VERSIONS.coredns },
          },
          { env, onProgress: progress },
        );
      }
    } catch (error) {
      if (!(await tarOf(pausePrefix))) throw new Error(`no pause image tar in ${dir} and none could be built: ${oneLine(error)}`);
      progress(`  no CoreDNS image (${oneLine(error)}): the cluster runs without in-cluster DNS`);
      coredns = false;
    }
  }
  // Every image tar in the cache: the pause image, CoreDNS and the component images.
  const tars = (await readdir(dir)).filter((f) => f.endsWith('.tar')).map((f) => ({ tar: join(dir, f) }));
  return { tars, coredns };
}

async function importImages(layout: ClusterLayout, images: ImageTar[], progress: Progress): Promise<void> {
  for (const { tar, force } of images) {
    const marker = join(layout.importedDir, tar.split('/').at(-1) ?? tar);
    if (!force && existsSync(marker)) continue;
    const t = Date.now();
    const imported = await ctr(layout, ['-n', 'k8s.io', 'images', 'import', tar]);
    if (imported.exitCode !== 0) throw new Error(`ctr images import ${tar} failed: ${lastLine(imported.all)}`);
    await writeFile(marker, `${new Date().toISOString()}\n`);
    progress(`  imported ${tar.split('/').at(-1)} into containerd (k8s.io) in ${formatElapsed(Date.now() - t)}`);
  }
}

function ctr(layout: ClusterLayout, args: string[]) {
  return execa('ctr', ['--address', layout.containerdSocket, ...args], { reject: false, stdin: 'ignore', all: true, timeout: 300_000 });
}

async function readySandboxes(layout: ClusterLayout): Promise<number> {
  // Sandbox tasks are the pause containers; one per pod still running.
  const tasks = await ctr(layout, ['-n', 'k8s.io', 'tasks', 'ls']);
  return tasks.stdout.split('\n').slice(1).filter((line) => /RUNNING/.test(line)).length;
}

async function ensureHostPackages(progress: Progress): Promise<void> {
  const missing = new Set<string>();
  for (const [command, pkg] of Object.entries(HOST_PACKAGES)) {
    const found = await execa('sh', ['-c', `command -v ${command}`], { reject: false, env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' } });
    if (found.exitCode !== 0) missing.add(pkg);
  }
  if (!existsSync(join(CNI_BIN_DIR, 'bridge'))) missing.add('containernetworking-plugins');
  if (missing.size === 0) return;
  const packages = [...missing];
  progress(`installing from Debian: ${packages.join(' ')}`);
  const aptEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let install = await execa('nice', ['-n', '19', 'apt-get', 'install', '-y', '--no-install-recommends', ...packages], { env: aptEnv, reject: false, stdin: 'ignore', all: true });
  if (install.exitCode !== 0) {
    await execa('nice', ['-n', '19', 'apt-get', 'update'], { env: aptEnv, reject: false, stdin: 'ignore' });
    install = await execa('nice', ['-n', '19', 'apt-get', 'install', '-y', '--no-install-recommends', ...packages], { env: aptEnv, reject: false, stdin: 'ignore', all: true });
  }
  if (install.exitCode !== 0) throw new Error(`apt-get install ${packages.join(' ')} failed: ${lastLine(install.all)}`);
}

/** kube-proxy exits when its config file changes (even to the same text): write only what differs. */
async function writeIfChanged(file: string, text: string, options?: { mode: number }): Promise<void> {
  if ((await readFile(file, 'utf8').catch(() => undefined)) === text) return;
  await writeFile(file, text, options);
}

async function writeConfigs(layout: ClusterLayout, pki: Pki): Promise<void> {
  const local = `https://127.0.0.1:${PORTS.apiserver}`;
  const kc = (user: string, cert: { cert: string; key: string }) => kubeconfig({ server: local, ca: pki.ca.cert, cert: cert.cert, key: cert.key, user });
  await writeIfChanged(layout.kubeconfig, kc('thanos-ha-e2e-admin', pki.admin), { mode: 0o600 });
  await writeIfChanged(join(layout.etc, 'controller-manager.kubeconfig'), kc('system:kube-controller-manager', pki.controllerManager));
  await writeIfChanged(join(layout.etc, 'scheduler.kubeconfig'), kc('system:kube-scheduler', pki.scheduler));
  await writeIfChanged(join(layout.etc, 'kubelet.kubeconfig'), kc(`system:node:${NODE_NAME}`, pki.kubelet));
  await writeIfChanged(join(layout.etc, 'kube-proxy.kubeconfig'), kc('system:kube-proxy', pki.kubeProxy));
  await writeIfChanged(join(layout.etc, 'containerd.toml'), containerdConfig(layout, PAUSE_IMAGE));
  await writeIfChanged(join(layout.cniConfDir, '10-thanos-ha-e2e.conflist'), cniConfig(layout));
  await writeIfChanged(join(layout.etc, 'kubelet.yaml'), kubeletConfig(layout, pki));
  await writeIfChanged(join(layout.etc, 'kube-proxy.yaml'), kubeProxyConfig(layout));
}

function processSpecs(layout: ClusterLayout, pki: Pki, b: ClusterBinaries): Record<ProcessName, ProcessSpec> {
  return {
    containerd: { name: 'containerd', command: '/usr/bin/containerd', args: ['--config', join(layout.etc, 'containerd.toml'), '--log-level', 'warn'] },
    etcd: { name: 'etcd', command: b.etcd, args: etcdArgs(layout) },
    'kube-apiserver': { name: 'kube-apiserver', command: b.kube['kube-apiserver'], args: apiserverArgs(pki) },
    // In-cluster clients reach the API server through the kubernetes Service, whose endpoint is the
    // node IP (an endpoint may not be loopback); the API server itself listens on 127.0.0.1 only.
    'apiserver-relay': {
      name: 'apiserver-relay',
      command: '/usr/bin/socat',
      args: [`TCP-LISTEN:${PORTS.apiserver},bind=${NODE_IP},reuseaddr,fork`, `TCP:127.0.0.1:${PORTS.apiserver}`],
    },
    'kube-controller-manager': { name: 'kube-controller-manager', command: b.kube['kube-controller-manager'], args: controllerManagerArgs(layout, pki) },
    'kube-scheduler': { name: 'kube-scheduler', command: b.kube['kube-scheduler'], args: schedulerArgs(layout) },
    kubelet: { name: 'kubelet', command: b.kube.kubelet, args: kubeletArgs(layout) },
    'kube-proxy': { name: 'kube-proxy', command: b.kube['kube-proxy'], args: [`--config=${join(layout.etc, 'kube-proxy.yaml')}`, '--v=1'] },
  };
}

interface HostChanges {
  addedNodeIp?: boolean;
  addedServiceBlackhole?: boolean;
  sysctls?: Record<string, string>;
}

async function prepareHost(layout: ClusterLayout, progress: Progress): Promise<void> {
  const file = join(layout.run, 'host-changes.json');
  const changes: HostChanges = JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as HostChanges;
  if (!changes.sysctls) {
    changes.sysctls = {};
    for (const key of TOUCHED_SYSCTLS) {
      const got = await execa('sysctl', ['-n', key], { reject: false });
      if (got.exitCode === 0) changes.sysctls[key] = got.stdout.trim();
    }
  }
  const addrs = await execa('ip', ['-4', '-o', 'addr', 'show', 'dev', 'lo']);
  if (!addrs.stdout.includes(` ${NODE_IP}/32 `)) {
    const added = await execa('ip', ['addr', 'add', `${NODE_IP}/32`, 'dev', 'lo'], { reject: false, all: true });
    if (added.exitCode !== 0) throw new Error(`ip addr add ${NODE_IP}/32 dev lo failed: ${lastLine(added.all)}`);
    changes.addedNodeIp = true;
    progress(`  node IP ${NODE_IP}/32 added to lo`);
  }
  // A packet to a Service IP kube-proxy has not programmed yet must not follow the default route
  // out of the machine: unmatched Service traffic is dropped here (kube-proxy DNATs before routing).
  const routes = await execa('ip', ['route', 'show', 'type', 'blackhole', SERVICE_CIDR], { reject: false });
  if (!routes.stdout.includes(SERVICE_CIDR)) {
    const added = await execa('ip', ['route', 'add', 'blackhole', SERVICE_CIDR], { reject: false, all: true });
    if (added.exitCode !== 0) throw new Error(`ip route add blackhole ${SERVICE_CIDR} failed: ${lastLine(added.all)}`);
    changes.addedServiceBlackhole = true;
  }
  await writeFile(file, JSON.stringify(changes, null, 2));
}

async function restoreHost(layout: ClusterLayout, binaries: ClusterBinaries | undefined, progress: Progress): Promise<void> {
  const file = join(layout.run, 'host-changes.json');
  const changes = JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as HostChanges;
  if (binaries) {
    // kube-proxy's own clean-up of its iptables chains.
    await execa(binaries.kube['kube-proxy'], ['--cleanup', '--v=0'], { reject: false, stdin: 'ignore', all: true });
  }
  // The CNI firewall plugin's chains (empty once every pod is gone).
  for (const [table, chain, parent] of [['filter', 'CNI-FORWARD', 'FORWARD']] as const) {
    await execa('iptables', ['-t', table, '-D', parent, '-m', 'comment', '--comment', 'CNI firewall plugin rules', '-j', chain], { reject: false });
    await execa('iptables', ['-t', table, '-F', chain], { reject: false });
    await execa('iptables', ['-t', table, '-X', chain], { reject: false });
  }
  await execa('iptables', ['-F', 'CNI-ADMIN'], { reject: false });
  await execa('iptables', ['-X', 'CNI-ADMIN'], { reject: false });
  // The kubelet's own chains (KUBE-FIREWALL, KUBE-KUBELET-CANARY, KUBE-IPTABLES-HINT): only this
  // cluster uses KUBE-* chains in the host's network namespace (k3s clusters run in their containers').
  await removeKubeChains();
  if ((await execa('ip', ['link', 'show', BRIDGE], { reject: false })).exitCode === 0) {
    await execa('ip', ['link', 'delete', BRIDGE], { reject: false });
    progress(`  removed bridge ${BRIDGE}`);
  }
  if (changes.addedServiceBlackhole) await execa('ip', ['route', 'del', 'blackhole', SERVICE_CIDR], { reject: false });
  if (changes.addedNodeIp) {
    await execa('ip', ['addr', 'del', `${NODE_IP}/32`, 'dev', 'lo'], { reject: false });
    progress(`  node IP ${NODE_IP}/32 removed from lo`);
  }
  for (const [key, value] of Object.entries(changes.sysctls ?? {})) {
    await execa('sysctl', ['-q', '-w', `${key}=${value}`], { reject: false });
  }
}

async function removeKubeChains(): Promise<void> {
  for (const table of ['filter', 'nat', 'mangle']) {
    const saved = await execa('iptables-save', ['-t', table], { reject: false });
    if (saved.exitCode !== 0) continue;
    const lines = saved.stdout.split('\n');
    for (const rule of lines.filter((l) => /^-A (INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) .*-j KUBE-/.test(l))) {
      await execa('iptables', ['-t', table, ...rule.replace(/^-A /, '-D ').split(' ')], { reject: false });
    }
    const chains = lines.filter((l) => l.startsWith(':KUBE-')).map((l) => l.slice(1).split(' ')[0] ?? '');
    for (const chain of chains) await execa('iptables', ['-t', table, '-F', chain], { reject: false });
    for (const chain of chains) await execa('iptables', ['-t', table, '-X', chain], { reject: false });
  }
}

/** Unmounts whatever the kubelet and containerd left mounted under `root` (deepest first). */
async function unmountUnder(root: string): Promise<void> {
  const mounts = (await readFile('/proc/self/mounts', 'utf8'))
    .split('\n')
    .map((line) => line.split(' ')[1]?.replace(/\\040/g, ' ') ?? '')
    .filter((point): point is string => !!point && (point === root || point.startsWith(`${root}/`)))
    .sort((a, b) => b.length - a.length);
  for (const point of mounts) await execa('umount', ['-l', point], { reject: false });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string, layout: ClusterLayout, name: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (name !== 'kubelet' || what.startsWith('kubelet')) {
      if ((await runningPid(layout, name)) === undefined) {
        throw new Error(`${name} exited while waiting for ${what}: ${await lastLogLine(logFile(layout, name))} (log: ${logFile(layout, name)})`);
      }
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${formatElapsed(timeoutMs)} waiting for ${what}; log: ${logFile(layout, name)}`);
    await sleep(250);
  }
}

async function httpOk(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  return response.ok;
}

/** The secure port answers TLS at all (its /healthz needs authentication we do not configure here). */
async function httpsUp(port: number): Promise<boolean> {
  const result = await execa('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-brief'], { reject: false, input: '', timeout: 5_000 });
  return /Protocol version|CONNECTION ESTABLISHED/i.test(`${result.stdout}${result.stderr}`);
}

async function lastLogLine(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return lastLine(text);
}

function lastLine(text: string | undefined): string {
  const line = (text ?? '').trim().split('\n').at(-1) ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}
