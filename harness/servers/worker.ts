// The harness servers' worker thread: every workload exporter and Service or link proxy of a run
// serves here, on an event loop of its own, so that they keep answering Prometheus' scrapes and
// Query's gRPC calls while the test's thread is busy for seconds with a big answer. The main thread
// (index.ts) asks by message and is told of every scrape and accepted connection, in order, on the
// same port: a reply therefore comes after every event posted before it.
import { parentPort } from 'node:worker_threads';
import { WorkloadExporter, type ExporterOptions, type ScrapeEvent } from '../workload/exporter.ts';
import type { LinkCutMode } from '../substrates/links.ts';
import { ServiceProxy, type Backend, type Balancing } from '../substrates/process/service-proxy.ts';

/** What the main thread asks; `key` names an exporter or proxy, chosen by the main thread. */
export type Ask =
  | { op: 'sync' }
  | { op: 'exporter'; key: number; options: Omit<ExporterOptions, 'now' | 'onScrape'> }
  | { op: 'arm'; key: number; fromMs: number }
  | { op: 'hold'; key: number; afterMs: number | undefined }
  | { op: 'override'; key: number; series: number; fromMs: number; value: number | undefined }
  | { op: 'proxy'; key: number; name: string; backends: Backend[]; balancing: Balancing; port: number }
  | { op: 'cut'; key: number; mode: LinkCutMode }
  | { op: 'restore'; key: number }
  | { op: 'pin'; key: number; backend: number | undefined }
  | { op: 'close'; key: number };
export type Request = Ask & { id: number };

/** What the worker tells: a reply to a request (value, or the error's message), or an event. */
export type Message =
  | { type: 'reply'; id: number; value?: unknown; error?: string }
  | { type: 'scrape'; key: number; scrape: ScrapeEvent }
  | { type: 'connection'; key: number; backend: number };

const port = parentPort ?? failNow('servers/worker.ts runs as a worker thread (new Worker), not on its own');
const post = (message: Message) => port.postMessage(message);
const exporters = new Map<number, WorkloadExporter>();
const proxies = new Map<number, ServiceProxy>();

function find<T>(map: Map<number, T>, key: number, what: string): T {
  return map.get(key) ?? failNow(`no ${what} ${key} in the harness servers`);
}

async function handle(req: Request): Promise<unknown> {
  switch (req.op) {
    case 'sync':
      return undefined;
    case 'exporter': {
      const { key } = req;
      const exporter = await WorkloadExporter.start({ ...req.options, onScrape: (scrape) => post({ type: 'scrape', key, scrape }) });
      exporters.set(key, exporter);
      return exporter.port;
    }
    case 'arm':
      return find(exporters, req.key, 'exporter').arm(req.fromMs);
    case 'hold': {
      const exporter = find(exporters, req.key, 'exporter');
      return req.afterMs === undefined ? exporter.release() : exporter.holdAfter(req.afterMs);
    }
    case 'override':
      return find(exporters, req.key, 'exporter').setOverride(req.series, req.fromMs, req.value);
    case 'proxy': {
      const { key } = req;
      const proxy = new ServiceProxy(req.name, req.backends, req.balancing, (backend) => post({ type: 'connection', key, backend }));
      await proxy.listen(req.port);
      proxies.set(key, proxy);
      return undefined;
    }
    case 'cut':
      return find(proxies, req.key, 'proxy').cut(req.mode);
    case 'restore':
      return find(proxies, req.key, 'proxy').restore();
    case 'pin':
      return find(proxies, req.key, 'proxy').pin(req.backend);
    case 'close': {
      const server = exporters.get(req.key) ?? proxies.get(req.key);
      exporters.delete(req.key);
      proxies.delete(req.key);
      return server?.close();
    }
  }
}

// A request that fails is the asker's error; anything else thrown here ends the worker, which the
// main thread reports as the run's failure.
port.on('message', (req: Request) => {
  handle(req).then(
    (value) => post({ type: 'reply', id: req.id, value }),
    (err: unknown) => post({ type: 'reply', id: req.id, error: err instanceof Error ? err.message : String(err) }),
  );
});

function failNow(message: string): never {
  throw new Error(message);
}
