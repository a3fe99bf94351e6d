// The process substrate: every component is a real binary on 127.0.0.1 with ports picked at run
// time, one directory per instance (configs, data, log), Services as L4 proxies, and versitygw as
// S3. The workload exporter, the Service proxies and the link proxies serve from the run's harness
// servers (a worker thread, servers/), apart from the test's event loop. Teardown is registered
// before anything starts.
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { resolveBinary } from '../../binaries/provision.ts';
import type { BinaryName } from '../../binaries/names.ts';
import { planTopology, type Addressing, type Plan, type PortName, type ProcessPlan } from '../../plan/index.ts';
import type { Bucket } from '../../s3/bucket.ts';
import type { Topology } from '../../topology/model.ts';
import { abortWaitsWhen, waitFor } from '../../wait.ts';
import { HarnessServers, type RemoteExporter, type RemoteServiceProxy } from '../../servers/index.ts';
import { workloadOf } from '../../workload/series.ts';
import { registerCleanup } from '../teardown.ts';
import type { RunningTopology, Substrate, UpOptions } from '../types.ts';
import { cleanAbandonedRuns, killRun, writeOwner } from './janitor.ts';
import { freePort } from './ports.ts';
import { startReaper, type Reaper } from '../reaper.ts';
import { restartS3Server, startS3Server } from './s3-server.ts';
import { ClusterLinks } from './links.ts';
import { checkLink, type LinkCutOptions } from '../links.ts';
import { SupervisedProcess } from './supervised-process.ts';

const READY_TIMEOUT_MS = 120_000;

/** Parent of every run directory; abandoned runs found here are cleaned at the next start. */
export const RUNS_BASE = process.env.THANOS_HA_E2E_RUNS ?? join(tmpdir(), 'thanos-ha-e2e-runs');

const fsName = (id: string) => id.replace('/', '_');

class ProcessTopology implements RunningTopology {
  readonly substrate = 'process' as const;
  readonly topology: Topology;
  readonly plan: Plan;
  readonly runDir: string;
  readonly bucket: Bucket;
  readonly workload: RemoteExporter;
  readonly processes: Map<string, SupervisedProcess>;
  readonly proxies: Map<string, RemoteServiceProxy>;
  /** The proxies every cross-cluster dial goes through (links.ts). */
  readonly links: ClusterLinks;
  private readonly ports: Map<string, number>;
  private readonly s3: SupervisedProcess;
  private readonly servers: HarnessServers;
  private readonly teardown: () => Promise<void>;
  private readonly onProgress: (line: string) => void;
  private readonly configFile: Addressing['configFile'];

  constructor(init: {
    topology: Topology;
    plan: Plan;
    runDir: string;
    bucket: Bucket;
    exporter: RemoteExporter;
    processes: Map<string, SupervisedProcess>;
    proxies: Map<string, RemoteServiceProxy>;
    links: ClusterLinks;
    ports: Map<string, number>;
    s3: SupervisedProcess;
    servers: HarnessServers;
    teardown: () => Promise<void>;
    onProgress: (line: string) => void;
    configFile: Addressing['configFile'];
  }) {
    this.topology = init.topology;
    this.plan = init.plan;
    this.runDir = init.runDir;
    this.bucket = init.bucket;
    this.workload = init.exporter;
    this.processes = init.processes;
    this.proxies = init.proxies;
    this.links = init.links;
    this.ports = init.ports;
    this.s3 = init.s3;
    this.servers = init.servers;
    this.teardown = init.teardown;
    this.onProgress = init.onProgress;
    this.configFile = init.configFile;
  }

  url(target: string, port: PortName = 'http'): string {
    const p = this.ports.get(`${target}:${port}`);
    if (p === undefined) throw new Error(`no ${port} port for "${target}" in topology ${this.topology.name}`);
    return `http://127.0.0.1:${p}`;
  }

  service(id: string): RemoteServiceProxy {
    const proxy = this.proxies.get(id);
    if (!proxy) throw new Error(`no service "${id}" in topology ${this.topology.name}: ${[...this.proxies.keys()].join(', ') || 'none'}`);
    return proxy;
  }

  private process(instance: string): SupervisedProcess {
    const p = this.processes.get(instance);
    if (!p) throw new Error(`no instance "${instance}" in topology ${this.topology.name}: ${[...this.processes.keys()].join(', ')}`);
    return p;
  }

  async stop(instance: string): Promise<void> {
    const plan = this.plan.processes.find((p) => p.id === instance);
    await this.process(instance).stop(plan?.stopGraceMs);
  }

  async kill(instance: string): Promise<void> {
    await this.process(instance).kill();
  }

  async start(instance: string): Promise<void> {
    const proc = this.process(instance);
    proc.start();
    const plan = this.plan.processes.find((p) => p.id === instance)!;
    await waitReady(plan, proc, this.url(instance, plan.ready.port), this.onProgress);
  }

  async growHashrings(): Promise<string[]> {
    const grown: string[] = [];
    for (const p of this.plan.processes) {
      if (!p.grownFiles) continue;
      // In place, not by rename: Receive watches the file itself (fsnotify on its path), and a
      // rename would leave it watching the replaced inode until its 5m fallback refresh.
      for (const [name, content] of Object.entries(p.grownFiles)) await writeFile(this.configFile(p.id, name), content);
      grown.push(p.id);
    }
    this.onProgress(`[${this.topology.name}] hashrings grown: ${grown.join(', ') || 'none had replicas joining'}`);
    return grown;
  }

  async cutLink(a: string, b: string, options: LinkCutOptions = {}): Promise<void> {
    checkLink(this.topology, a, b);
    const mode = options.mode ?? 'reset';
    this.onProgress(`[${this.topology.name}] link ${a} <-> ${b} cut, ${mode} (${await this.links.cut(a, b, mode)} link proxies)`);
  }

  async restoreLink(a: string, b: string): Promise<void> {
    checkLink(this.topology, a, b);
    this.onProgress(`[${this.topology.name}] link ${a} <-> ${b} restored (${await this.links.restore(a, b)} link proxies)`);
  }

  // Stopped by the harness, so failure() does not report it; its data stays in the run directory.
  async stopS3(): Promise<void> {
    await this.s3.stop();
  }

  async startS3(): Promise<void> {
    await restartS3Server(this.s3, this.bucket.endpoint.url);
  }

  failure(): string | undefined {
    for (const proc of [...this.processes.values(), this.s3]) {
      const reason = proc.unexpectedExit();
      if (reason) return reason;
    }
    return this.servers.failure();
  }

  async collectLogs(dir: string): Promise<string[]> {
    await mkdir(dir, { recursive: true });
    const files: string[] = [];
    for (const proc of [...this.processes.values(), this.s3]) {
      const dest = join(dir, `${fsName(proc.spec.id)}.log`);
      await copyFile(proc.spec.logFile, dest).then(
        () => files.push(dest),
        () => undefined,
      );
    }
    return files;
  }

  async close(): Promise<void> {
    await this.teardown();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

async function waitReady(plan: ProcessPlan, proc: SupervisedProcess, baseUrl: string, onProgress: (l: string) => void) {
  await waitFor(
    `${plan.id} to be ready`,
    async (note) => {
      const res = await fetch(`${baseUrl}${plan.ready.path}`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return true;
      note(`HTTP ${res.status}`);
      return undefined;
    },
    { timeoutMs: READY_TIMEOUT_MS, onProgress, abort: () => proc.exitReason() },
  );
}

/** Start instances in waves: an instance starts once everything in its `after` list is ready. */
async function startAll(topology: ProcessTopology, onProgress: (l: string) => void): Promise<void> {
  const ready = new Set<string>();
  // A receive that joins a hashring later is started by its scenario (RunningTopology.start):
  // nothing waits for it (a Prometheus writing through a Service over its ring does not).
  const deferred = new Set(topology.plan.processes.filter((p) => p.deferred).map((p) => p.id));
  let remaining = topology.plan.processes.filter((p) => !deferred.has(p.id));
  while (remaining.length) {
    const wave = remaining.filter((p) => p.after.every((a) => ready.has(a) || deferred.has(a)));
    if (!wave.length) throw new Error(`circular start order among ${remaining.map((p) => p.id).join(', ')}`);
    for (const p of wave) topology.processes.get(p.id)!.start();
    await Promise.all(
      wave.map(async (p) => {
        await waitReady(p, topology.processes.get(p.id)!, topology.url(p.id, p.ready.port), onProgress);
        ready.add(p.id);
      }),
    );
    onProgress(`  ready: ${wave.map((p) => p.id).join(', ')}`);
    remaining = remaining.filter((p) => !ready.has(p.id));
  }
}

export const processSubstrate: Substrate = {
  name: 'process',
  async up(topology: Topology, opts: UpOptions = {}): Promise<RunningTopology> {
    const onProgress = opts.onProgress ?? ((line: string) => process.stderr.write(`${line}\n`));
    await mkdir(RUNS_BASE, { recursive: true });
    for (const dir of cleanAbandonedRuns(RUNS_BASE)) onProgress(`cleaned up abandoned run ${dir}`);

    // Binaries first: a missing one fails before anything is started.
    const binaries = new Map<BinaryName, string>();
    const binaryOf = (kind: string): BinaryName => (kind === 'prometheus' || kind === 'alertmanager' ? kind : 'thanos');
    const needed = new Set<BinaryName>(['versitygw', ...topology.components.map((c) => binaryOf(c.kind))]);
    for (const name of needed) binaries.set(name, (await resolveBinary(name, { onProgress })).path);

    const runDir = await mkdtemp(join(RUNS_BASE, `${topology.name}-`));
    writeOwner(runDir, { pid: process.pid, keep: opts.keep ?? false });

    const processes = new Map<string, SupervisedProcess>();
    const proxies = new Map<string, RemoteServiceProxy>();
    const links = new ClusterLinks();
    let servers: HarnessServers | undefined;
    let exporter: RemoteExporter | undefined;
    let s3: SupervisedProcess | undefined;
    let bucket: Bucket | undefined;
    let running: ProcessTopology | undefined;
    let reaper: Reaper | undefined;
    // Said at once, not when a wait times out: every wait gives up on it too (wait.ts).
    const announce = (reason: string, panicTrace: string | undefined) =>
      onProgress(`[${topology.name}] component exited unexpectedly: ${reason}${panicTrace ? `\n${panicTrace.replace(/^/gm, '    ')}` : ''}`);
    const unwatch = abortWaitsWhen(() => running?.failure());
    // Every step runs even if an earlier one fails: teardown must leave nothing behind.
    const stopEverything = async () => {
      unwatch();
      const steps: [string, () => Promise<unknown> | unknown][] = [
        ['processes', () => Promise.all([...processes.values()].map((p) => p.stop()))],
        ['services', () => Promise.all([...proxies.values()].map((p) => p.close()))],
        ['links', () => links.close()],
        ['workload exporter', () => exporter?.close()],
        ['harness servers', () => servers?.close()],
        ['S3', () => s3?.stop()],
        ['S3 client', () => bucket?.close()],
        ['stragglers', () => killRun(runDir)],
      ];
      for (const [what, step] of steps) {
        try {
          await step();
        } catch (err) {
          onProgress(`teardown of ${what} failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      if (opts.keep) onProgress(`kept run directory ${runDir}`);
      else await rm(runDir, { recursive: true, force: true });
      await reaper?.release(); // nothing is left for it
    };
    // The harness servers' ports need nothing on a hard exit: a worker thread ends with its process.
    const teardown = registerCleanup(`run ${runDir}`, stopEverything, () => {
      for (const p of [...processes.values(), s3]) p?.killNow();
    });

    try {
      // The backstop if this process dies without tearing down (SIGKILL): before anything starts.
      reaper = await startReaper(runDir, opts.keep ?? false);
      const s3Port = await freePort();
      const started = await startS3Server({ binaryPath: binaries.get('versitygw')!, runDir, port: s3Port, bucket: topology.bucket, onUnexpectedExit: announce });
      s3 = started.process;
      bucket = started.bucket;
      servers = await HarnessServers.start({ onFailure: (reason) => onProgress(`[${topology.name}] component failed: ${reason}`) });
      exporter = await servers.startExporter({ host: '127.0.0.1', port: 0, workload: workloadOf(topology) });

      // Ports: every instance port and every service gets its own, chosen now.
      const ports = new Map<string, number>();
      const skeleton = planTopology(topology, placeholderAddressing((from, target, port) => links.note(from, target, port)));
      for (const p of skeleton.processes) for (const port of p.ports) ports.set(`${p.id}:${port}`, await freePort());
      for (const s of skeleton.services) ports.set(`${s.id}:${s.port}`, await freePort());
      await links.allocate(freePort);
      const portOf = (target: string, port: PortName) => {
        const value = ports.get(`${target}:${port}`);
        if (value === undefined) throw new Error(`"${target}" has no ${port} port`);
        return value;
      };

      const addressing: Addressing = {
        listen: (id, port) => `127.0.0.1:${portOf(id, port)}`,
        // Into another cluster only through its link proxy, as through a NodePort on Kubernetes.
        dial: (from, target, port) => links.address(from, target, port) ?? `127.0.0.1:${portOf(target, port)}`,
        configFile: (id, file) => join(runDir, fsName(id), file),
        dataDir: (id) => join(runDir, fsName(id), 'data'),
        workloadSdUrl: (from) => `${exporter!.url}/sd?scraper=${encodeURIComponent(from)}`,
        s3: { endpoint: `127.0.0.1:${s3Port}`, bucket: topology.bucket, insecure: true, ...{ accessKey: started.endpoint.accessKey, secretKey: started.endpoint.secretKey, region: started.endpoint.region } },
      };
      const plan = planTopology(topology, addressing);

      for (const s of plan.services) {
        const proxy = servers.serviceProxy(
          s.id,
          s.backends.map((b) => ({ host: '127.0.0.1', port: portOf(b, s.port) })),
          s.balancing,
        );
        await proxy.listen(portOf(s.id, s.port));
        proxies.set(s.id, proxy);
      }
      const runServers = servers;
      await links.start((target, port) => ({ host: '127.0.0.1', port: portOf(target, port) }), (name, backends, balancing) => runServers.serviceProxy(name, backends, balancing));

      for (const p of plan.processes) {
        const dir = join(runDir, fsName(p.id));
        await mkdir(join(dir, 'data'), { recursive: true });
        for (const [name, content] of Object.entries(p.files)) {
          const path = addressing.configFile(p.id, name);
          await mkdir(dirname(path), { recursive: true });
          await writeFile(path, content);
        }
        processes.set(
          p.id,
          new SupervisedProcess({ id: p.id, binaryPath: binaries.get(p.binary)!, args: p.args, cwd: dir, logFile: join(dir, 'process.log'), runDir }, announce),
        );
      }

      running = new ProcessTopology({ topology, plan, runDir, bucket, exporter, processes, proxies, links, ports, s3, servers, teardown, onProgress, configFile: addressing.configFile });
      const deferred = plan.processes.filter((p) => p.deferred).length;
      onProgress(`starting ${plan.processes.length - deferred} processes of ${topology.name} in ${runDir}${deferred ? ` (${deferred} left for the scenario to start)` : ''}`);
      await startAll(running, onProgress);
      return running;
    } catch (err) {
      if (opts.logsOnFailure) {
        await mkdir(opts.logsOnFailure, { recursive: true });
        for (const p of [...processes.values(), s3]) {
          if (p) await copyFile(p.spec.logFile, join(opts.logsOnFailure, `${fsName(p.spec.id)}.log`)).catch(() => undefined);
        }
        onProgress(`bring-up failed: component logs copied to ${opts.logsOnFailure}`);
      }
      await teardown();
      throw err;
    }
  },
};

/** Addressing that only lets the plan enumerate instances, ports and the dials it makes (nothing is dialled). */
function placeholderAddressing(onDial: (from: string, target: string, port: PortName) => void = () => undefined): Addressing {
  return {
    listen: () => '127.0.0.1:0',
    dial: (from, target, port) => {
      onDial(from, target, port);
      return '127.0.0.1:0';
    },
    configFile: (id, file) => `/${id}/${file}`,
    dataDir: (id) => `/${id}/data`,
    workloadSdUrl: () => 'http://127.0.0.1:0/sd',
    s3: { endpoint: '127.0.0.1:0', bucket: 'b', accessKey: 'a', secretKey: 's', region: 'r', insecure: true },
  };
}
