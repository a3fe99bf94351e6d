// A kube-proxy-like Service on 127.0.0.1: an L4 proxy that picks one backend per TCP connection.
// Long-lived connections (gRPC, HTTP keep-alive) therefore stay pinned to one backend, exactly as
// behind a ClusterIP Service. Fault switches: cut (refuse and drop everything, or hang: hold
// everything and forward nothing), restore. In a run every one serves from the harness servers'
// worker thread (servers/): RemoteServiceProxy.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { LinkCutMode } from '../links.ts';

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
  /** See ServiceProxy.cut. */
  cut(mode?: LinkCutMode): void | Promise<void>;
  restore(): void | Promise<void>;
  pin(backend: number | undefined): void | Promise<void>;
  close(): Promise<void>;
}

/** Makes a proxy (not yet listening). */
export type ProxyFactory = (name: string, backends: Backend[], balancing?: Balancing) => L4Proxy;

/** One forwarded connection: the client's socket and the one to its backend. */
interface Pair {
  client: Socket;
  upstream: Socket;
}

export class ServiceProxy implements L4Proxy {
  readonly name: string;
  private readonly backends: Backend[];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly pairs = new Set<Pair>();
  /** Accepted while hanging, with what they sent and the listeners that keep them: not dialled through until restore. */
  private readonly held = new Map<Socket, { onData: (chunk: Buffer) => void; onError: () => void; onClose: () => void; sent: Buffer[] }>();
  private next = 0;
  private cutMode: LinkCutMode | undefined;
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
    if (this.cutMode === 'reset' || this.backends.length === 0) {
      client.destroy();
      return;
    }
    if (this.cutMode === 'hang') {
      this.hold(client);
      return;
    }
    this.forward(client);
  }

  /**
   * A connection accepted while hanging: it gets no byte and no close until restore. What it sends
   * is kept for its backend (reading it is how a client that gives up meanwhile is noticed: such a
   * one is never dialled, as its SYN would never have arrived).
   */
  private hold(client: Socket): void {
    const sent: Buffer[] = [];
    const listeners = {
      onData: (chunk: Buffer) => void sent.push(chunk),
      // A client that gives up is gone; nobody behind the link hears of it.
      onError: () => client.destroy(),
      onClose: () => {
        this.held.delete(client);
        this.sockets.delete(client);
      },
    };
    client.on('data', listeners.onData);
    client.on('error', listeners.onError);
    client.on('close', listeners.onClose);
    this.held.set(client, { ...listeners, sent });
    this.sockets.add(client);
  }

  /** Dials a backend for client and pipes both ways; `sent`: what the client sent before (while held). */
  private forward(client: Socket, sent: Buffer[] = []): void {
    const index = this.pickBackend();
    this.connections[index]!++;
    this.onConnection?.(index);
    const backend = this.backends[index]!;
    const upstream = createConnection(backend.port, backend.host);
    for (const chunk of sent) upstream.write(chunk);
    const pair = { client, upstream };
    this.pairs.add(pair);
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => {
        this.sockets.delete(s);
        if (client.destroyed && upstream.destroyed) this.pairs.delete(pair);
      });
      s.on('error', () => {
        // While the link hangs the other end must not hear of it: restore passes it on.
        if (this.cutMode === 'hang') return;
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

  /**
   * Cuts the proxy until restore. `reset` (default): drops every open connection and refuses new
   * ones. `hang`: forwards no byte either way on open connections and accepts new ones without
   * dialling their backend; nothing is closed or reset, whatever either end does meanwhile.
   */
  cut(mode: LinkCutMode = 'reset'): void {
    this.cutMode = mode;
    if (mode === 'reset') {
      for (const s of this.sockets) s.destroy();
      return;
    }
    for (const { client, upstream } of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  /**
   * Forwards again. After a hang, as a network that heals: a connection both ends kept moves on
   * with whatever either sent meanwhile; one whose end closed or failed during the hang is closed
   * at the other end now (in a real network its next packet would meet a reset); a connection
   * accepted during the hang is dialled through now.
   */
  restore(): void {
    const wasHanging = this.cutMode === 'hang';
    this.cutMode = undefined;
    if (!wasHanging) return;
    for (const pair of this.pairs) {
      const { client, upstream } = pair;
      if (client.destroyed || upstream.destroyed) {
        client.destroy();
        upstream.destroy();
        this.pairs.delete(pair);
        continue;
      }
      client.pipe(upstream);
      upstream.pipe(client);
    }
    for (const [client, { onData, onError, onClose, sent }] of this.held) {
      this.held.delete(client);
      client.off('data', onData);
      client.off('error', onError);
      client.off('close', onClose);
      this.sockets.delete(client);
      if (!client.destroyed && !client.readableEnded) this.forward(client, sent);
      else client.destroy();
    }
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
