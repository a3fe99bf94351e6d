// Hours of history in about a minute, with real 2h blocks cut by Prometheus and shipped by the
// real sidecar: backfill the workload into every scraping Prometheus by remote write, in the
// chunks planHistory gives (waiting for uploads where retention would otherwise delete an
// unshipped block), then arm the exporter so the live scrape continues the same series.
import type { ProcessPlan } from '../plan/index.ts';
import { greaterOrEqual, waitSumMetrics } from '../promql/wait-metrics.ts';
import { durationMs, HOUR_MS, alignDown, gridPoints } from '../time.ts';
import type { RunningTopology } from '../substrates/types.ts';
import { planHistory, type BlockRange } from '../models/prometheus-tsdb.ts';
import { postWriteRequest, WorkloadWriter } from '../workload/remote-write.ts';

export interface PopulateOptions {
  /** How much history to write before going live (default 6h10m: a 6h query plus lookback). */
  historyMs?: number;
  onProgress?: (line: string) => void;
  /**
   * Also called for every history chunk (first and last grid timestamp, inclusive), in time order,
   * before its backfill into Prometheus and before going live. E.g. to give a Receive the history
   * that the Prometheus' own remote write would have sent it (that only forwards live samples).
   */
  alsoWrite?: {
    /** Samples it writes per series and grid slot (e.g. one per Prometheus replica): how progress counts it. */
    copies: number;
    /** Writes the chunk, telling `wrote` of the samples of each request once accepted. */
    write: (fromMs: number, toMs: number, wrote: (samples: number) => void) => Promise<void>;
  };
  /**
   * Return once live, before the sidecars have shipped the history's last blocks, so that waits
   * on the live data overlap their shipper's next round (every 30 s). The caller then calls
   * waitForHistoryShipped before it relies on the bucket.
   */
  returnBeforeShipped?: boolean;
}

export interface PopulatedWorkload {
  /** First grid timestamp written. */
  historyFromMs: number;
  /** Last grid timestamp written by backfill; the exporter serves from the next one on. */
  historyToMs: number;
  /**
   * Blocks every Prometheus cut from the history (same for each replica), oldest first, and the
   * one its live scrape cuts within LIVE_CUT_HORIZON_MS of going live, if any.
   */
  blocks: BlockRange[];
  /** Prometheus instances that got the history and scrape the workload. */
  prometheus: string[];
  /** Their sidecars that upload blocks. */
  sidecars: string[];
  timings: { backfillMs: number; firstUploadMs: number | undefined; totalMs: number };
}

/** How long after populateWorkload returns its caller relies on the blocks not changing (its tests included). */
const LIVE_CUT_HORIZON_MS = 60_000;

/** Waits until every sidecar has shipped at least n blocks (its shipper looks for new ones every 30 s). */
async function waitForUploads(t: RunningTopology, sidecars: string[], n: number, onProgress: (l: string) => void): Promise<void> {
  await Promise.all(sidecars.map((s) => waitSumMetrics(s, t.url(s), greaterOrEqual(n), 'thanos_shipper_uploads_total', { onProgress })));
}

export async function populateWorkload(t: RunningTopology, opts: PopulateOptions = {}): Promise<PopulatedWorkload> {
  const started = Date.now();
  const log = opts.onProgress ?? (() => {});
  const exporter = t.workload;
  const step = exporter.workload.stepMs;

  const scrapers = t.topology.components.filter((c) => c.kind === 'prometheus' && c.scrapeWorkload && c.mode === 'server');
  if (scrapers.length === 0) throw new Error(`topology ${t.topology.name} has no Prometheus (server mode) scraping the workload`);
  const spec = scrapers[0]!;
  if (spec.kind !== 'prometheus') throw new Error('unreachable');
  const prometheus = t.plan.processes.filter((p) => scrapers.some((c) => p.component === `${c.cluster}/${c.name}`));
  const sidecarsOf = (p: ProcessPlan) =>
    t.plan.processes.filter((s) => s.kind === 'sidecar' && s.pod === p.id && s.args.some((a) => a.startsWith('--objstore.config-file=')));
  const sidecars = prometheus.flatMap(sidecarsOf).map((s) => s.id);

  const now = Date.now();
  const historyToMs = alignDown(now, step);
  const historyFromMs = alignDown(now - (opts.historyMs ?? 6 * HOUR_MS + 10 * 60_000), step);
  const blockMs = durationMs(spec.blockDuration);
  const history = planHistory({ fromMs: historyFromMs, toMs: historyToMs, stepMs: step, blockMs, retentionMs: durationMs(spec.retention) });

  log(`  backfilling ${((historyToMs - historyFromMs) / HOUR_MS).toFixed(2)}h of history into ${prometheus.length} Prometheus in ${history.chunks.length} chunk(s)`);
  let backfillMs = 0;
  // Every Prometheus gets the same samples: each request is encoded once and sent to all.
  const writer = new WorkloadWriter(exporter.workload);
  let firstUploadMs: number | undefined;
  const slotsOfSeries = history.chunks.reduce((n, c) => n + gridPoints(c.fromMs, c.toMs, step).length, 0) * exporter.workload.seriesCount;
  const progress = new HistoryProgress(slotsOfSeries * (prometheus.length + (opts.alsoWrite?.copies ?? 0)), log);
  for (const chunk of history.chunks) {
    if (chunk.waitForUploadsBefore > 0) {
      await waitForUploads(t, sidecars, chunk.waitForUploadsBefore, log);
      firstUploadMs ??= Date.now() - started;
    }
    const chunkStart = Date.now();
    // alsoWrite first: the newest history slots are younger than Prometheus' start, so its remote
    // write forwards them as soon as they are backfilled. Had they reached a Receive before the
    // older slots alsoWrite sends, those would be out of order there (HTTP 409; seen at 5k series,
    // where a chunk takes seconds). Afterwards the forwarded copies are duplicates, accepted as such.
    await opts.alsoWrite?.write(chunk.fromMs, chunk.toMs, (samples) => progress.wrote(samples));
    await writeToAll(prometheus.map((p) => `${t.url(p.id)}/api/v1/write`), writer, chunk.fromMs, chunk.toMs, progress);
    backfillMs += Date.now() - chunkStart;
  }

  // The live scrape's first cut may delete the oldest local block, possibly seconds from now:
  // it must be shipped first. The exporter's per-scraper catch-up fills the slots this wait costs.
  if (history.live && history.live.waitForUploads > 0) {
    await waitForUploads(t, sidecars, history.live.waitForUploads, log);
    firstUploadMs ??= Date.now() - started;
  }
  // Go live: the exporter continues each scraper's series right after the history.
  await exporter.arm(historyToMs + step);
  // A cut the live scrape makes soon (at once when the head already spans 1.5 blocks) would change
  // the blocks, and retention the oldest local one, under the caller's assertions: it belongs to
  // the history, and its block is waited for like the others.
  const liveCut =
    history.live && history.head && history.live.nextCutAfterMs < Date.now() + LIVE_CUT_HORIZON_MS
      ? [{ minTime: history.head.minTime, maxTime: alignDown(history.head.minTime, blockMs) + blockMs }]
      : [];
  const populated: PopulatedWorkload = {
    historyFromMs: history.chunks[0]?.fromMs ?? historyFromMs,
    historyToMs,
    blocks: [...history.blocks, ...liveCut],
    prometheus: prometheus.map((p) => p.id),
    sidecars,
    timings: { backfillMs, firstUploadMs, totalMs: 0 },
  };
  if (!opts.returnBeforeShipped) {
    await waitForHistoryShipped(t, populated, log);
    populated.timings.firstUploadMs ??= Date.now() - started;
  }
  populated.timings.totalMs = Date.now() - started;
  log(`  history written (${populated.blocks.length} blocks per Prometheus${liveCut.length ? ", the last cut by the live scrape" : ""}) in ${(populated.timings.totalMs / 1000).toFixed(1)}s${opts.returnBeforeShipped ? ', not all shipped yet' : ''}`);
  return populated;
}

/** Writes the workload's samples in [fromMs, toMs] to every URL, each request encoded once, in time order per URL. */
async function writeToAll(urls: string[], writer: WorkloadWriter, fromMs: number, toMs: number, progress?: HistoryProgress): Promise<void> {
  for (const request of writer.requests(fromMs, toMs)) {
    await Promise.all(urls.map((url) => postWriteRequest(url, request.body)));
    progress?.wrote(request.samples * urls.length);
  }
}

/** A line at most every PROGRESS_EVERY_MS while history is written (100k series take half an hour): how far, and about how long is left. */
class HistoryProgress {
  static readonly PROGRESS_EVERY_MS = 30_000;
  /** Samples the whole history writes, summed over its targets (every Prometheus, and alsoWrite's). */
  readonly total: number;
  readonly log: (line: string) => void;
  readonly #started = Date.now();
  #lastLogMs = Date.now();
  #done = 0;

  constructor(total: number, log: (line: string) => void) {
    this.total = total;
    this.log = log;
  }

  wrote(samples: number): void {
    this.#done += samples;
    const now = Date.now();
    if (now - this.#lastLogMs < HistoryProgress.PROGRESS_EVERY_MS || this.#done >= this.total) return;
    this.#lastLogMs = now;
    const share = this.#done / this.total;
    const leftMin = ((now - this.#started) * (1 - share)) / share / 60_000;
    this.log(`  history: ${(share * 100).toFixed(0)}% written (${this.#done.toLocaleString('en')} of ${this.total.toLocaleString('en')} samples), about ${leftMin.toFixed(1)} min left`);
  }
}

/** Waits until every sidecar has shipped every block of the history (PopulatedWorkload.blocks). */
export async function waitForHistoryShipped(t: RunningTopology, populated: PopulatedWorkload, onProgress: (l: string) => void = () => {}): Promise<void> {
  if (populated.sidecars.length && populated.blocks.length) await waitForUploads(t, populated.sidecars, populated.blocks.length, onProgress);
}
