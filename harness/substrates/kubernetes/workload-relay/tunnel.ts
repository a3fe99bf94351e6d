// The test-process side of the workload relay (main.go): keeps POOL idle tunnel connections open to
// each relay pod; when one starts carrying a pod's request, it is joined to a new connection to the
// local exporter, and another idle one is opened in its place.
import { connect } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import { dialPod, type PodPort } from '../port-forward.ts';

/** Idle tunnel connections per relay: Prometheus keeps about one connection per scrape target and SD. */
const POOL = 4;
/** Consecutive failures to open a tunnel connection before giving up (the relay pod is gone). */
const MAX_FAILURES = 20;
export const RELAY_PUBLIC_PORT = 8080;
export const RELAY_TUNNEL_PORT = 8081;

export class WorkloadTunnel {
  #closed = false;
  #idle = 0;
  #failures = 0;
  #open = new Set<() => void>();

  private readonly kubeConfig: KubeConfig;
  private readonly relay: PodPort;
  private readonly exporterPort: number;
  private readonly onProgress: (line: string) => void;

  constructor(kubeConfig: KubeConfig, relay: PodPort, exporterPort: number, onProgress: (line: string) => void) {
    this.kubeConfig = kubeConfig;
    this.relay = relay;
    this.exporterPort = exporterPort;
    this.onProgress = onProgress;
  }

  /** Opens the pool; resolves once every idle connection is established. */
  async start(): Promise<void> {
    await Promise.all(Array.from({ length: POOL }, () => this.#openOne()));
  }

  async #openOne(): Promise<void> {
    if (this.#closed) return;
    let stream;
    try {
      stream = await dialPod(this.kubeConfig, this.relay);
      this.#failures = 0;
    } catch (err) {
      if (++this.#failures >= MAX_FAILURES) {
        this.onProgress(`workload relay ${this.relay.namespace}/${this.relay.pod}: giving up after ${MAX_FAILURES} failed tunnel connections: ${String(err)}`);
        return;
      }
      setTimeout(() => void this.#openOne(), 500).unref();
      return;
    }
    this.#idle++;
    const openedAt = Date.now();
    let taken = false;
    const close = () => {
      stream.toPod.end();
      exporter?.destroy();
    };
    this.#open.add(close);
    let exporter: ReturnType<typeof connect> | undefined;
    stream.fromPod.on('data', (chunk: Buffer) => {
      if (!exporter) {
        taken = true;
        this.#idle--;
        void this.#openOne();
        exporter = connect(this.exporterPort, '127.0.0.1');
        exporter.on('data', (reply) => stream.toPod.write(reply));
        exporter.on('close', () => stream.toPod.end());
        exporter.on('error', () => stream.toPod.end());
      }
      exporter.write(chunk);
    });
    void stream.closed.then(() => {
      this.#open.delete(close);
      exporter?.end();
      if (taken || this.#closed) return;
      // An idle connection died (pod restart, API server): replace it, but not in a tight loop.
      this.#idle--;
      if (Date.now() - openedAt < 1_000 && ++this.#failures >= MAX_FAILURES) {
        this.onProgress(`workload relay ${this.relay.namespace}/${this.relay.pod}: giving up, ${MAX_FAILURES} tunnel connections closed at once`);
        return;
      }
      setTimeout(() => void this.#openOne(), 200).unref();
    });
  }

  close(): void {
    this.#closed = true;
    for (const close of this.#open) close();
    this.#open.clear();
  }
}
