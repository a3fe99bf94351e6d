// Where Prometheus cuts a series' chunks, for the workload's regular grid.
//
// Pure code, modelling the Prometheus 3.x head (tsdb/head_append.go appendPreprocessor, checked
// against 3.9.1): a float series' head chunk is cut when a sample reaches the chunk's predicted end,
// and never spans a chunk-range boundary (the block duration: the head's chunk range). When a chunk
// holds a quarter of the target sample count (120), its end is predicted so that the rest of the
// chunk range splits into equal chunks (computeChunkEndTime). Blocks keep the head's chunks as they
// are. Not modelled: the 1 KiB size cut (the workload's XOR chunks stay far below it at 120 samples)
// and the 2 x 120 samples cut (a regular grid never reaches it).
//
// It matters to Thanos Store's time partitions: Store selects whole chunks that overlap its
// --min-time/--max-time and does not trim their samples, so what a bounded Store serves ends at a
// chunk edge, not at its bound.

/** Prometheus' default target number of samples per chunk (tsdb.DefaultSamplesPerChunk). */
export const SAMPLES_PER_CHUNK = 120;

/** One chunk: its first and last sample's timestamps, both included (as in a chunk's meta). */
export interface ChunkRange {
  minTime: number;
  maxTime: number;
}

// tsdb/db.go rangeForTimestamp: the end of the chunk range t falls in.
const rangeEnd = (t: number, rangeMs: number) => Math.floor(t / rangeMs) * rangeMs + rangeMs;

// tsdb/head_append.go computeChunkEndTime: the rest of [start, maxT) split into equal chunks.
function computeChunkEndTime(start: number, cur: number, maxT: number, ratioToFull: number): number {
  const n = (maxT - start) / ((cur - start + 1) * ratioToFull);
  if (n <= 1) return maxT;
  return Math.trunc(start + (maxT - start) / Math.floor(n));
}

/**
 * The chunks of a series with one sample at every multiple of stepMs in [fromMs, toMs), appended in
 * order to a head whose chunk range is rangeMs (the block duration), oldest first.
 */
export function gridChunks(fromMs: number, toMs: number, stepMs: number, rangeMs: number, samplesPerChunk = SAMPLES_PER_CHUNK): ChunkRange[] {
  const chunks: ChunkRange[] = [];
  let current: (ChunkRange & { samples: number }) | undefined;
  let nextAt = 0;
  for (let t = Math.ceil(fromMs / stepMs) * stepMs; t < toMs; t += stepMs) {
    if (current) {
      if (current.samples === samplesPerChunk / 4) nextAt = computeChunkEndTime(current.minTime, current.maxTime, nextAt, 4);
      if (t >= nextAt || current.samples >= samplesPerChunk * 2) {
        chunks.push({ minTime: current.minTime, maxTime: current.maxTime });
        current = undefined;
      }
    }
    if (!current) {
      current = { minTime: t, maxTime: t, samples: 0 };
      nextAt = rangeEnd(t, rangeMs);
    }
    current.samples++;
    current.maxTime = t;
  }
  if (current) chunks.push({ minTime: current.minTime, maxTime: current.maxTime });
  return chunks;
}
