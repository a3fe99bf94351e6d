// A kube-proxy-like Service on 127.0.0.1: an L4 proxy that picks one backend per TCP connection.
// Long-lived connections (gRPC, HTTP keep-alive) therefore stay pinned to one backend, exactly as
// behind a ClusterIP Service. Fault switches: cut (refuse and drop everything), restore. In a run
// every one serves from the harness servers' worker thread (servers/): RemoteServiceProxy.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface Backend {
  host: string;
  port: number;
}

export type Balancing = 'round-robin' | 'random';

/** A ServiceProxy wherever it serves: in this thread, or in the harness servers' worker (RemoteServiceProxy). */
export interface L4Proxy {
  readonly name: string;
  /** Connections accepted so far, per backend. */
  readonly connections: readonly number[];
  listen(port: number): Promise<void>;
  cut(): void | Promise<void>;
  restore(): void | Promise<void>;
  pin(backend: number | undefined): void | Promise<void>;
  close(): Promise<void>;
}

/** Makes a proxy (not yet listening). */
export type ProxyFactory = (name: string, backends: Backend[], balancing?: Balancing) => L4Proxy;

export class ServiceProxy implements L4Proxy {
  readonly name: string;
  private readonly backends: Backend[];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private next = 0;
  private isCut = false;
  /** Connections accepted per backend index, for reports. */
  readonly connections: number[];

  private readonly balancing: Balancing;
  private pinned: number | undefined;
  /** Told of every accepted connection: how the harness servers keep the main thread's count current. */
  private readonly onConnection: ((backend: number) => void) | undefined;

  constructor(name: string, backends: Backend[], balancing: Balancing = 'round-robin', onConnection?: (backend: number) => void) {
    this.name = name;
    this.balancing = balancing;
    this.onConnection = onConnection;
    this.backends = backends;
    this.connections = backends.map(() => 0);
    this.server = createServer((client) => this.accept(client));
  }

  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
  }

  private accept(client: Socket): void {
    if (this.isCut || this.backends.length === 0) {
      client.destroy();
      return;
    }
    const index = this.pickBackend();
    this.connections[index]!++;
    this.onConnection?.(index);
    const backend = this.backends[index]!;
    const upstream = createConnection(backend.port, backend.host);
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }

  private pickBackend(): number {
    if (this.pinned !== undefined) return this.pinned;
    if (this.balancing === 'random') return Math.floor(Math.random() * this.backends.length);
    return this.next++ % this.backends.length;
  }

  /** Sends every new connection to one backend (undefined: balance again). Open connections stay. */
  pin(backend: number | undefined): void {
    if (backend !== undefined && !(backend >= 0 && backend < this.backends.length)) {
      throw new Error(`service ${this.name} has no backend ${backend} (it has ${this.backends.length})`);
    }
    this.pinned = backend;
  }

  /** Drops every open connection and refuses new ones (a cut link). */
  cut(): void {
    this.isCut = true;
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.isCut = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
