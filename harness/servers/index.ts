// The harness servers: one worker thread per running topology (worker.ts) that serves its workload
// exporter and its Service and link proxies apart from the test's event loop, and the main thread's
// handles on them. A handle answers its readers from a mirror: what the worker reported (an event
// per scrape or accepted connection) and what the handle was told to change (at once, then
// acknowledged by the worker). The worker dying or throwing fails the run (failure()).
import { Worker } from 'node:worker_threads';
import { ExporterState, type Exporter, type ExporterOptions } from '../workload/exporter.ts';
import { DEFAULT_WORKLOAD } from '../workload/series.ts';
import type { LinkCutMode } from '../substrates/links.ts';
import type { Backend, Balancing, L4Proxy } from '../substrates/process/service-proxy.ts';
import type { Ask, Message, Request } from './worker.ts';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

export interface HarnessServersOptions {
  /** Told once, at once, when the worker dies or throws: one line naming the harness servers. */
  onFailure?: (reason: string) => void;
  /** The worker's module; tests point it at one that fails. */
  worker?: URL;
}

export class HarnessServers implements AsyncDisposable {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  /** Handles by key, for the worker's events. */
  readonly #exporters = new Map<number, RemoteExporter>();
  readonly #proxies = new Map<number, RemoteServiceProxy>();
  readonly #onFailure: ((reason: string) => void) | undefined;
  #nextId = 1;
  #failure: string | undefined;
  #closed: Promise<void> | undefined;

  private constructor(opts: HarnessServersOptions) {
    this.#onFailure = opts.onFailure;
    this.#worker = new Worker(opts.worker ?? new URL('./worker.ts', import.meta.url));
    this.#worker.on('message', (message: Message) => this.#receive(message));
    this.#worker.on('error', (err) => this.#fail(`the harness servers (worker thread) failed: ${err.message}`));
    this.#worker.on('messageerror', (err) => this.#fail(`the harness servers (worker thread) sent a message that could not be read: ${err.message}`));
    this.#worker.on('exit', (code) => {
      if (!this.#closed) this.#fail(`the harness servers (worker thread) exited with code ${code}`);
    });
  }

  /** Starts the worker; resolves once it answers. */
  static async start(opts: HarnessServersOptions = {}): Promise<HarnessServers> {
    const servers = new HarnessServers(opts);
    try {
      await servers.sync();
    } catch (err) {
      await servers.close();
      throw err;
    }
    return servers;
  }

  /** Why the worker is gone, if it died or threw (one line); undefined while it serves or once closed. */
  failure(): string | undefined {
    return this.#failure;
  }

  /** Resolves once every event the worker posted before it has been applied to the handles' mirrors. */
  async sync(): Promise<void> {
    await this.ask({ op: 'sync' });
  }

  /** Starts a workload exporter in the worker (its clock is the worker's Date.now). */
  async startExporter(opts: Omit<ExporterOptions, 'now' | 'onScrape'> = {}): Promise<RemoteExporter> {
    const key = this.#nextId++;
    const exporter = new RemoteExporter(this, key, opts);
    this.#exporters.set(key, exporter);
    try {
      exporter.listening((await this.ask({ op: 'exporter', key, options: opts })) as number);
    } catch (err) {
      this.#exporters.delete(key);
      throw err;
    }
    return exporter;
  }

  /** A Service or link proxy that will serve in the worker once listen() resolves. */
  serviceProxy(name: string, backends: Backend[], balancing: Balancing = 'round-robin'): RemoteServiceProxy {
    const key = this.#nextId++;
    const proxy = new RemoteServiceProxy(this, key, name, backends, balancing);
    this.#proxies.set(key, proxy);
    return proxy;
  }

  /** Sends a request; resolves with the worker's reply. @internal for the handles. */
  ask(request: Ask): Promise<unknown> {
    if (this.#failure) return Promise.reject(new Error(this.#failure));
    if (this.#closed) return Promise.reject(new Error('the harness servers are closed'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      const message: Request = { ...request, id };
      this.#worker.postMessage(message);
    });
  }

  /** True once the worker is gone (closed or failed): whatever served in it is closed with it. */
  get gone(): boolean {
    return this.#closed !== undefined || this.#failure !== undefined;
  }

  /** Ends the worker: every server in it stops listening and every connection through it drops. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#worker.terminate();
      for (const p of this.#pending.values()) p.reject(new Error('the harness servers were closed'));
      this.#pending.clear();
    })();
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #receive(message: Message): void {
    switch (message.type) {
      case 'reply': {
        const pending = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        if (message.error !== undefined) pending?.reject(new Error(message.error));
        else pending?.resolve(message.value);
        return;
      }
      case 'scrape':
        return this.#exporters.get(message.key)?.apply(message.scrape);
      case 'connection':
        return this.#proxies.get(message.key)?.counted(message.backend);
    }
  }

  #fail(reason: string): void {
    if (this.#failure || this.#closed) return;
    this.#failure = reason;
    for (const p of this.#pending.values()) p.reject(new Error(reason));
    this.#pending.clear();
    this.#onFailure?.(reason);
  }
}

/** The workload exporter serving in the harness servers' worker; its readers answer from the mirror. */
export class RemoteExporter extends ExporterState implements Exporter {
  readonly host: string;
  readonly advertisedAddress: string | undefined;
  readonly #servers: HarnessServers;
  readonly #key: number;
  #port = 0;
  #closed = false;

  /** @internal: HarnessServers.startExporter makes them. */
  constructor(servers: HarnessServers, key: number, opts: Omit<ExporterOptions, 'now' | 'onScrape'>) {
    super(opts.workload ?? DEFAULT_WORKLOAD, Date.now);
    this.#servers = servers;
    this.#key = key;
    this.host = opts.host ?? '127.0.0.1';
    this.advertisedAddress = opts.advertisedAddress;
  }

  get port(): number {
    return this.#port;
  }

  /** @internal: the worker's exporter listens on port. */
  listening(port: number): void {
    this.#port = port;
  }

  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  // Each mutation changes the mirror at once (a reader sees it right away) and resolves once the
  // worker has it: every scrape it serves from then on sees it.
  override arm(fromMs: number): Promise<void> {
    super.arm(fromMs);
    return this.#ask({ op: 'arm', key: this.#key, fromMs });
  }

  override setOverride(i: number, fromMs: number, value: number | undefined): Promise<void> {
    super.setOverride(i, fromMs, value);
    return this.#ask({ op: 'override', key: this.#key, series: i, fromMs, value });
  }

  override holdAfter(afterMs: number): Promise<void> {
    super.holdAfter(afterMs); // throws here for a time off the grid, as in this thread
    return this.#ask({ op: 'hold', key: this.#key, afterMs });
  }

  override release(): Promise<void> {
    super.release();
    return this.#ask({ op: 'hold', key: this.#key, afterMs: undefined });
  }

  async sync(): Promise<void> {
    await this.#servers.sync();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#servers.gone) await this.#ask({ op: 'close', key: this.#key });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #ask(request: Ask): Promise<void> {
    await this.#servers.ask(request);
  }
}

/** A Service or link proxy serving in the harness servers' worker (see ServiceProxy). */
export class RemoteServiceProxy implements L4Proxy {
  readonly name: string;
  readonly #connections: number[];
  readonly #backends: Backend[];
  readonly #balancing: Balancing;
  readonly #servers: HarnessServers;
  readonly #key: number;
  #closed = false;

  /** @internal: HarnessServers.serviceProxy makes them. */
  constructor(servers: HarnessServers, key: number, name: string, backends: Backend[], balancing: Balancing) {
    this.#servers = servers;
    this.#key = key;
    this.name = name;
    this.#backends = backends;
    this.#balancing = balancing;
    this.#connections = backends.map(() => 0);
  }

  /** Connections accepted so far, per backend, as the worker has reported them. */
  get connections(): readonly number[] {
    return this.#connections;
  }

  /** @internal: the worker accepted a connection for this backend. */
  counted(backend: number): void {
    this.#connections[backend]!++;
  }

  async listen(port: number): Promise<void> {
    await this.#servers.ask({ op: 'proxy', key: this.#key, name: this.name, backends: this.#backends, balancing: this.#balancing, port });
  }

  /** Cuts as ServiceProxy.cut does (reset: drop and refuse; hang: hold and forward nothing); resolves once the worker has. */
  async cut(mode: LinkCutMode = 'reset'): Promise<void> {
    await this.#servers.ask({ op: 'cut', key: this.#key, mode });
  }

  async restore(): Promise<void> {
    await this.#servers.ask({ op: 'restore', key: this.#key });
  }

  /** Sends every new connection to one backend (undefined: balance again); resolves once the worker does. */
  async pin(backend: number | undefined): Promise<void> {
    if (backend !== undefined && !(backend >= 0 && backend < this.#backends.length)) {
      throw new Error(`service ${this.name} has no backend ${backend} (it has ${this.#backends.length})`);
    }
    await this.#servers.ask({ op: 'pin', key: this.#key, backend });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#servers.gone) await this.#servers.ask({ op: 'close', key: this.#key });
  }
}
