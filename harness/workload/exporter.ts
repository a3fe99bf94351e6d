// The live half of the workload: an HTTP exporter Prometheus scrapes once the history is written.
//
// Every sample carries an EXPLICIT timestamp on the workload grid, so what Prometheus stores is
// known exactly, whatever the scrape jitter: two replicas scraping the same grid slot store the
// same (t, v), which is what Thanos deduplication expects. A named scraper (?scraper=id) gets
// the next slot it has not had yet, so it misses none; an anonymous one gets alignDown(now).
// holdAfter()/release() stall and resume that ingestion on purpose: a known, named lag.
// In a run it serves from the harness servers' worker thread (servers/), so that a test busy with a
// big answer does not stall the scrapes; Exporter is what scenarios see of it in either thread.
//
// Scrape config: `honor_labels: true` (the exposed job/instance must win over the target's, so
// scraped samples land in the same series as the backfilled ones) and http_sd_configs pointing
// at SD_PATH, which lists the exporter only once armed. Until then Prometheus must not scrape
// at all: even a failed scrape writes `up` at "now", moving head.maxTime past the history, and
// Prometheus rejects samples older than head.maxTime - blockMs/2.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_WORKLOAD, generationAt, metricsOf, podCount, podGenerationAt, seriesLabels, seriesOfPod, valueAt, type Workload } from './series.ts';
import { alignDown } from '../time.ts';

export const METRICS_PATH = '/metrics';
/** Prometheus HTTP service discovery: [] until armed, then this exporter as the one target. */
export const SD_PATH = '/sd';

export interface ExporterOptions {
  workload?: Workload;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port (see handle.port). */
  port?: number;
  /**
   * host:port that SD_PATH gives Prometheus as the target. Default: the SD request's Host header,
   * i.e. the address the scraper reached the exporter at (directly, or through a relay pod).
   */
  advertisedAddress?: string;
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
  /** Told of every scrape once applied: how the harness servers keep the main thread's mirror current (servers/). */
  onScrape?: (scrape: ScrapeEvent) => void;
}

export interface ScrapeCount {
  remoteAddress: string;
  userAgent: string;
  /** URL query string of the scrape, e.g. "?replica=a" if the scrape config sets `params`. */
  query: string;
  count: number;
}

/** What one scrape of METRICS_PATH changed: ExporterState.apply makes the same change in either thread. */
export interface ScrapeEvent {
  remoteAddress: string;
  userAgent: string;
  query: string;
  /** The named scraper (?scraper=id), if any. */
  scraper?: string;
  /** The slot this scraper was served at its previous scrape: surely stored now (committedUpTo). */
  committed?: number;
  /** The grid slot served; undefined when nothing was. */
  slot?: number;
}

/**
 * The workload exporter as scenarios and steps see it, wherever it serves: WorkloadExporter in this
 * thread, or servers/' RemoteExporter in the harness servers' worker, whose readers answer from a
 * mirror the worker keeps current with an event per scrape. There a mutation returns a Promise:
 * once it resolves, every scrape served sees it.
 */
export interface Exporter extends AsyncDisposable {
  readonly workload: Workload;
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly armed: boolean;
  arm(fromMs: number): void | Promise<void>;
  setOverride(i: number, fromMs: number, value: number | undefined): void | Promise<void>;
  holdAfter(afterMs: number): void | Promise<void>;
  release(): void | Promise<void>;
  /** Resolves once every scrape served before the call is in what the readers answer. */
  sync(): Promise<void>;
  heldBackSlots(): number;
  valueServedAt(i: number, tMs: number): number;
  servedRange(): { firstMs: number; lastMs: number } | undefined;
  servedTimestamps(): number[];
  servedUpTo(scraper: string): number | undefined;
  committedUpTo(scraper: string): number | undefined;
  scrapers(): string[];
  scrapes(): ScrapeCount[];
  close(): Promise<void>;
}

interface Override {
  fromMs: number;
  value: number | undefined;
}

/**
 * What an exporter has served and been told, and every answer read from it. The serving exporter
 * keeps one; a mirror in another thread keeps another from its ScrapeEvents (servers/), so a scrape
 * changes both the same way.
 */
export class ExporterState {
  readonly workload: Workload;
  readonly #now: () => number;
  #armedFromMs: number | undefined;
  readonly #served = new Set<number>();
  /** Last grid timestamp served to each named scraper (see SD_PATH's __param_scraper). */
  readonly #servedTo = new Map<string, number>();
  /** Slot of each scraper's previous scrape: Prometheus scrapes a target sequentially, so once a
   * new scrape arrives, everything served before it has been appended. */
  readonly #committedTo = new Map<string, number>();
  readonly #scrapes = new Map<string, ScrapeCount>();
  /** Per series, in the order they were set; the last one with fromMs <= t applies. */
  readonly #overrides = new Map<number, Override[]>();
  /** While set, no scraper is served a slot after it (see holdAfter). */
  #heldAfterMs: number | undefined;

  constructor(workload: Workload, now: () => number) {
    this.workload = workload;
    this.#now = now;
  }

  /** Start serving samples with grid timestamps >= fromMs (the first one after the backfilled history). */
  arm(fromMs: number): void {
    this.#armedFromMs = fromMs;
  }

  get armed(): boolean {
    return this.#armedFromMs !== undefined;
  }

  /**
   * From fromMs on, series i serves `value` instead of valueAt (undefined: back to valueAt).
   * For scenarios that need, e.g., a value above an alert threshold.
   */
  setOverride(i: number, fromMs: number, value: number | undefined): void {
    const list = this.#overrides.get(i) ?? [];
    list.push({ fromMs, value });
    this.#overrides.set(i, list);
  }

  /**
   * Stalls ingestion: until release(), no scraper is served a grid slot after afterMs. A named
   * scraper is served its last slot again (Prometheus drops the repeated sample), an anonymous
   * one afterMs. Slots that come due meanwhile are what a lagging ingestion has not delivered yet.
   */
  holdAfter(afterMs: number): void {
    if (afterMs % this.workload.stepMs !== 0) {
      throw new Error(`holdAfter(${new Date(afterMs).toISOString()}): not on the ${this.workload.stepMs / 1000}s workload grid; pass alignDown(t, workload.stepMs)`);
    }
    this.#heldAfterMs = afterMs;
  }

  /** Ends a holdAfter(): each named scraper catches up one slot per scrape from its last one. */
  release(): void {
    this.#heldAfterMs = undefined;
  }

  /** Grid slots due now but held back by holdAfter() (0 when nothing is held). */
  heldBackSlots(): number {
    if (this.#heldAfterMs === undefined) return 0;
    const current = alignDown(this.#now(), this.workload.stepMs);
    return Math.max(0, (current - this.#heldAfterMs) / this.workload.stepMs);
  }

  /** What the exporter serves (or would serve) for series i at tMs, overrides included. */
  valueServedAt(i: number, tMs: number): number {
    const applicable = (this.#overrides.get(i) ?? []).filter((o) => o.fromMs <= tMs).at(-1);
    return applicable?.value ?? valueAt(i, tMs);
  }

  /** First and last grid timestamp served to any scraper. */
  servedRange(): { firstMs: number; lastMs: number } | undefined {
    if (this.#served.size === 0) return undefined;
    const served = this.servedTimestamps();
    return { firstMs: served[0]!, lastMs: served[served.length - 1]! };
  }

  /** Every grid timestamp served, ascending: a slot no scrape hit is a gap the harness caused, not Thanos. */
  servedTimestamps(): number[] {
    return [...this.#served].sort((a, b) => a - b);
  }

  /** Last grid timestamp served to a scraper (a Prometheus instance id), if any. */
  servedUpTo(scraper: string): number | undefined {
    return this.#servedTo.get(scraper);
  }

  /** Last grid timestamp a scraper has surely stored (a later scrape of it has started since). */
  committedUpTo(scraper: string): number | undefined {
    return this.#committedTo.get(scraper);
  }

  /** Scrapers that have been served at least one sample. */
  scrapers(): string[] {
    return [...this.#servedTo.keys()].sort();
  }

  scrapes(): ScrapeCount[] {
    return [...this.#scrapes.values()].map((s) => ({ ...s }));
  }

  /**
   * What a scrape now gets. A named scraper gets the grid slot after the last one it was served,
   * up to now: a scrape that was late or missed costs nothing, the next ones catch up, so each
   * scraper's series has every grid sample from arm() on. (Re-serving the same slot is harmless:
   * Prometheus drops a duplicate sample with the same value.) An anonymous scrape gets the current slot.
   */
  protected nextScrape(scraper: string | undefined): { committed?: number; slot?: number } {
    const current = alignDown(this.#now(), this.workload.stepMs);
    if (this.#armedFromMs === undefined || current < this.#armedFromMs) return {};
    const held = this.#heldAfterMs;
    if (scraper === undefined) return held === undefined ? { slot: current } : held < this.#armedFromMs ? {} : { slot: Math.min(current, held) };
    const last = this.#servedTo.get(scraper);
    let next = last === undefined ? this.#armedFromMs : Math.min(last + this.workload.stepMs, current);
    if (held !== undefined && next > held) {
      if (last === undefined) return {};
      next = last;
    }
    return { committed: last, slot: next };
  }

  /** Records a scrape: its count, the slot served, and what its scraper has surely stored. */
  apply(scrape: ScrapeEvent): void {
    const { remoteAddress, userAgent, query, scraper, committed, slot } = scrape;
    const key = JSON.stringify([remoteAddress, userAgent, query]);
    const entry = this.#scrapes.get(key) ?? { remoteAddress, userAgent, query, count: 0 };
    entry.count++;
    this.#scrapes.set(key, entry);
    if (scraper !== undefined && committed !== undefined) this.#committedTo.set(scraper, committed);
    if (slot === undefined) return;
    this.#served.add(slot);
    if (scraper !== undefined) this.#servedTo.set(scraper, slot);
  }
}

export class WorkloadExporter extends ExporterState implements Exporter {
  readonly host: string;
  readonly port: number;
  readonly advertisedAddress: string | undefined;

  readonly #server: ReturnType<typeof createServer>;
  readonly #onScrape: ((scrape: ScrapeEvent) => void) | undefined;
  #seriesText: SeriesTexts | undefined;

  private constructor(server: ReturnType<typeof createServer>, opts: ExporterOptions) {
    super(opts.workload ?? DEFAULT_WORKLOAD, opts.now ?? Date.now);
    this.#server = server;
    this.#onScrape = opts.onScrape;
    this.host = opts.host ?? '127.0.0.1';
    this.port = (server.address() as AddressInfo).port;
    this.advertisedAddress = opts.advertisedAddress;
  }

  static async start(opts: ExporterOptions = {}): Promise<WorkloadExporter> {
    let exporter: WorkloadExporter | undefined;
    const server = createServer((req, res) => exporter!.#handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
    });
    exporter = new WorkloadExporter(server, opts);
    return exporter;
  }

  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  /** Serves in this thread: every scrape is in the state as soon as it is answered. */
  async sync(): Promise<void> {}

  async close(): Promise<void> {
    // Prometheus keeps scrape connections alive; without this close() would wait for them.
    this.#server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.#server.close((err) => (err ? reject(err) : resolve())));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#server.listening) await this.close();
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://exporter');
    if (req.method !== 'GET') {
      res.writeHead(405).end();
    } else if (url.pathname === METRICS_PATH) {
      const body = this.#scrape(req, url);
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body);
    } else if (url.pathname === SD_PATH) {
      // ?scraper=<id> comes back on every scrape as a URL parameter (Prometheus' __param_ labels).
      const scraper = url.searchParams.get('scraper');
      const labels = scraper ? { __param_scraper: scraper } : {};
      const target = this.advertisedAddress ?? req.headers.host ?? `${this.host}:${this.port}`;
      const targets = this.armed ? [{ targets: [target], labels }] : [];
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(targets));
    } else {
      res.writeHead(404).end();
    }
  }

  /** Applies the scrape, tells onScrape before anything is answered, and returns the exposition. */
  #scrape(req: IncomingMessage, url: URL): string {
    const scraper = url.searchParams.get('scraper') ?? undefined;
    const scrape: ScrapeEvent = {
      remoteAddress: req.socket.remoteAddress ?? 'unknown',
      userAgent: req.headers['user-agent'] ?? '',
      query: url.search,
      ...(scraper === undefined ? {} : { scraper }),
      ...this.nextScrape(scraper),
    };
    this.apply(scrape);
    this.#onScrape?.(scrape);
    const t = scrape.slot;
    if (t === undefined) return '';
    this.#seriesText ??= new SeriesTexts(this.workload);
    return exposition(this.workload, this.#seriesText.at(t), t, (i) => this.valueServedAt(i, t));
  }
}

/**
 * Each series' exposition text up to its value ("name{labels} "), by series index: computed once
 * per exporter. Under churn, the texts of the generations alive at tMs (seriesTexts(w, tMs)).
 */
export function seriesTexts(w: Workload, tMs?: number): string[] {
  if (w.churn && tMs === undefined) throw new Error('seriesTexts: a churning workload needs the time (the generations alive then)');
  return Array.from({ length: w.seriesCount }, (_, i) => seriesText(w, i, tMs === undefined ? undefined : generationAt(w, i, tMs)));
}

function seriesText(w: Workload, i: number, generation: number | undefined): string {
  const { __name__: name, ...labels } = seriesLabels(w, i, generation);
  const labelText = Object.entries(labels)
    .map(([k, v]) => `${k}="${escapeLabelValue(v)}"`)
    .join(',');
  return `${name}{${labelText}} `;
}

/**
 * The exporter's texts, kept current: under churn a scrape at t serves each slot under the pod
 * generation alive at t (a pod that ended is simply not in the scrape any more; its successor is),
 * and only the pods replaced since the previous scrape are rendered again.
 */
export class SeriesTexts {
  readonly workload: Workload;
  #texts: string[] | undefined;
  /** The generation each pod's texts were rendered for. */
  readonly #generations: number[] = [];

  constructor(workload: Workload) {
    this.workload = workload;
  }

  at(tMs: number): string[] {
    const w = this.workload;
    if (!w.churn) return (this.#texts ??= seriesTexts(w));
    if (!this.#texts) {
      this.#texts = seriesTexts(w, tMs);
      for (let p = 0; p < podCount(w); p++) this.#generations[p] = podGenerationAt(w, p, tMs);
      return this.#texts;
    }
    for (let p = 0; p < podCount(w); p++) {
      const generation = podGenerationAt(w, p, tMs);
      if (generation === this.#generations[p]) continue;
      this.#generations[p] = generation;
      for (const i of seriesOfPod(w, p)) this.#texts[i] = seriesText(w, i, generation);
    }
    return this.#texts;
  }
}

/** The text exposition of every series at grid time t, grouped by metric name with HELP and TYPE. */
export function exposition(w: Workload, texts: string[], t: number, valueOf: (i: number) => number): string {
  const metrics = metricsOf(w);
  const parts: string[] = [];
  metrics.forEach(({ name, type }, m) => {
    parts.push(`# HELP ${name} Deterministic e2e workload: series i is i*1e6 + (unix seconds mod 1e6).\n# TYPE ${name} ${type}\n`);
    // seriesLabels gives series i the metric i % M: this metric's series are m, m + M, m + 2M, ...
    for (let i = m; i < w.seriesCount; i += metrics.length) parts.push(`${texts[i]}${formatValue(valueOf(i))} ${t}\n`);
  });
  return parts.join('');
}

function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

export function startExporter(opts: ExporterOptions = {}): Promise<WorkloadExporter> {
  return WorkloadExporter.start(opts);
}
