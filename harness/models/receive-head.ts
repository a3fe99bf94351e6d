// What a Receive's head does with one sample: the model the ingest findings (issue 20) check both
// sides' counters and the query of what landed against. Read from Thanos 0.42.4
// pkg/receive/writer.go (ReceiveAppender) and Prometheus 3.16.0 tsdb/head_append.go (the TSDB
// Receive embeds):
//   - too far in the future: with --tsdb.too-far-in-future.time-window W > 0, a sample stamped later
//     than Receive's clock + W is refused before the head sees it (ErrOutOfBounds, HTTP 409);
//     W = 0 (the default) accepts it, and it becomes the head's newest sample;
//   - out of bounds: the head appends in order only from max(head max time - block length / 2, the
//     end of the last block it cut); with no out-of-order window an older sample is refused
//     (ErrOutOfBounds, 409);
//   - with an out-of-order window O, a sample not in order is kept if it is no older than head max
//     time - O, else refused as too old (ErrTooOldSample, 409);
//   - a sample older than its series' newest, inside the in-order range, is out of order (409).
// Receive answers a request 409 when any of its samples was refused this way, after appending the
// rest; Prometheus drops a 409 request whole and counts its samples failed (no retry).

export type Verdict = 'appended' | 'out-of-order-appended' | 'too-far-in-future' | 'out-of-bounds' | 'too-old' | 'out-of-order';

export interface HeadState {
  /** Newest sample in the head (ms); undefined while it is empty. */
  maxTimeMs: number | undefined;
  /** End of the last block the head cut (ms), or undefined before the first cut. */
  lastBlockEndMs?: number;
}

export interface HeadOptions {
  /** The head's block length (Receive's --tsdb.min-block-duration, 2h upstream). */
  blockMs: number;
  /** --tsdb.out-of-order.time-window; 0: off (upstream). */
  outOfOrderWindowMs: number;
  /** --tsdb.too-far-in-future.time-window; 0: off (upstream). */
  tooFarInFutureWindowMs: number;
}

/** The oldest timestamp the head appends in order (head_append.go appendableMinValidTime). */
export function minValidTimeMs(head: HeadState, opts: HeadOptions): number {
  if (head.maxTimeMs === undefined) return Number.NEGATIVE_INFINITY;
  return Math.max(head.maxTimeMs - opts.blockMs / 2, head.lastBlockEndMs ?? Number.NEGATIVE_INFINITY);
}

/**
 * The head's verdict on one sample stamped tMs, written at nowMs (Receive's clock), for a series
 * whose newest sample is seriesMaxMs (undefined: a new series).
 */
export function verdictOf(tMs: number, nowMs: number, head: HeadState, opts: HeadOptions, seriesMaxMs?: number): Verdict {
  if (opts.tooFarInFutureWindowMs > 0 && tMs > nowMs + opts.tooFarInFutureWindowMs) return 'too-far-in-future';
  const minValid = minValidTimeMs(head, opts);
  if (opts.outOfOrderWindowMs === 0 && tMs < minValid) return 'out-of-bounds';
  if (tMs >= minValid && (seriesMaxMs === undefined || tMs >= seriesMaxMs)) return 'appended';
  const headMax = head.maxTimeMs ?? tMs;
  if (opts.outOfOrderWindowMs > 0) return tMs >= headMax - opts.outOfOrderWindowMs ? 'out-of-order-appended' : 'too-old';
  return tMs < minValid ? 'out-of-bounds' : 'out-of-order';
}

/** Whether a verdict keeps the sample. */
export const kept = (v: Verdict): boolean => v === 'appended' || v === 'out-of-order-appended';

/** The head after a sample was kept: its newest sample moves forward, never back. */
export function afterAppend(head: HeadState, tMs: number): HeadState {
  return { ...head, maxTimeMs: head.maxTimeMs === undefined ? tMs : Math.max(head.maxTimeMs, tMs) };
}

// Where the samples appended out of order go (Thanos 0.42.4 pkg/receive/multitsdb.go
// startPeriodicHeadCompaction; Prometheus 3.16.0 tsdb/db.go compactOOOHead, compactOOO): Receive
// cuts its head itself, every block length, once the head's oldest sample is 1.5 block lengths
// old, and after those in-order blocks it cuts the out-of-order head into blocks: one per
// block-aligned range that holds any of its samples, marked "from-out-of-order" in meta.json, level
// 1, which the shipper uploads as any other. A Receive that stops cuts only its in-order head
// (tenant.flushHead): what is still in its out-of-order head stays in its write-behind log (WBL).

/** The block-aligned ranges [minTime, maxTime) the out-of-order head cuts its samples into, oldest first. */
export function outOfOrderBlockRanges(sampleTimesMs: Iterable<number>, blockMs: number): { minTime: number; maxTime: number }[] {
  const starts = new Set([...sampleTimesMs].map((t) => Math.floor(t / blockMs) * blockMs));
  return [...starts].sort((a, b) => a - b).map((minTime) => ({ minTime, maxTime: minTime + blockMs }));
}

/**
 * One tenant's out-of-order compactions as its WBL counts them: each begins by cutting a new WBL
 * segment (NewOOOCompactionHead, prometheus_tsdb_out_of_order_wbl_segment_current) and, its blocks
 * written and loaded, ends by truncating the WBL (truncateOOO,
 * prometheus_tsdb_out_of_order_wbl_truncations_total). A new WBL starts at segment 0, and nothing
 * else cuts one before it reaches its 128 MiB: so segment counts the compactions begun, and
 * truncations those finished.
 */
export interface OutOfOrderCompactions {
  segment: number;
  truncations: number;
}

/** Whether an out-of-order compaction begun after `before` was read has finished by `now`, with none under way. */
export function outOfOrderCompactedSince(before: OutOfOrderCompactions, now: OutOfOrderCompactions): boolean {
  return now.segment > before.segment && now.truncations >= now.segment;
}
