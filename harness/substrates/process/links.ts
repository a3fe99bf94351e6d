// The links between clusters on the process substrate. On Kubernetes a pod reaches another cluster
// only through that cluster's node ports; here every dial from one cluster into another goes through
// a link proxy, one per dialling cluster, target and port, so that the link can be cut: its proxies
// drop open connections and refuse new ones, or hang them (ServiceProxy.cut). Dials within a cluster
// stay direct.
// The proxies serve where the factory given to start() puts them: in a run, the harness servers' worker.
import type { PortName } from '../../plan/index.ts';
import { clusterOfId, type LinkCutMode } from '../links.ts';
import type { Backend, L4Proxy, ProxyFactory } from './service-proxy.ts';

interface Link {
  /** The dialling cluster. */
  from: string;
  /** The instance or service dialled, "cluster/name". */
  target: string;
  port: PortName;
  listenPort?: number;
  proxy?: L4Proxy;
}

const keyOf = (fromCluster: string, target: string, port: PortName) => `${fromCluster}>${target}:${port}`;

export class ClusterLinks {
  readonly #links = new Map<string, Link>();

  /** Notes a dial the plan makes; one within a cluster needs no link. */
  note(from: string, target: string, port: PortName): void {
    const fromCluster = clusterOfId(from);
    if (fromCluster === clusterOfId(target)) return;
    const key = keyOf(fromCluster, target, port);
    if (!this.#links.has(key)) this.#links.set(key, { from: fromCluster, target, port });
  }

  /** Gives every noted link the port its proxy will listen on. */
  async allocate(freePort: () => Promise<number>): Promise<void> {
    for (const link of this.#links.values()) link.listenPort ??= await freePort();
  }

  /** host:port a dial goes to: its link proxy when it crosses clusters, undefined within a cluster. */
  address(from: string, target: string, port: PortName): string | undefined {
    const fromCluster = clusterOfId(from);
    if (fromCluster === clusterOfId(target)) return undefined;
    const link = this.#links.get(keyOf(fromCluster, target, port));
    if (link?.listenPort === undefined) throw new Error(`${from} dials ${target} (${port}) across clusters, but no link port was set aside for it: the plan dialled differently the second time`);
    return `127.0.0.1:${link.listenPort}`;
  }

  /** Starts every link's proxy, made by newProxy, forwarding to the target's own address. */
  async start(backendOf: (target: string, port: PortName) => Backend, newProxy: ProxyFactory): Promise<void> {
    for (const link of this.#links.values()) {
      const proxy = newProxy(`link ${link.from} -> ${link.target} ${link.port}`, [backendOf(link.target, link.port)]);
      await proxy.listen(link.listenPort!);
      link.proxy = proxy;
    }
  }

  /** The links between clusters a and b, either way round. */
  #between(a: string, b: string): Link[] {
    return [...this.#links.values()].filter((l) => (l.from === a && clusterOfId(l.target) === b) || (l.from === b && clusterOfId(l.target) === a));
  }

  /**
   * Cuts every connection between a and b, both directions: reset drops open ones and refuses new
   * ones, hang holds them all and forwards nothing. Returns how many link proxies that took.
   */
  async cut(a: string, b: string, mode: LinkCutMode = 'reset'): Promise<number> {
    const links = this.#between(a, b);
    await Promise.all(links.map((l) => l.proxy?.cut(mode)));
    return links.length;
  }

  async restore(a: string, b: string): Promise<number> {
    const links = this.#between(a, b);
    await Promise.all(links.map((l) => l.proxy?.restore()));
    return links.length;
  }

  /** "observer -> observee/sidecar-0 grpc at 127.0.0.1:20123", for logs. */
  describe(): string[] {
    return [...this.#links.values()].map((l) => `${l.from} -> ${l.target} ${l.port} at 127.0.0.1:${l.listenPort ?? '?'}`);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#links.values()].map((l) => l.proxy?.close()));
  }
}
