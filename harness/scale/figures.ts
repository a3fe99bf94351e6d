// What one point of the scale sweep measured (scale/measure.ts takes it, scale/report.ts draws it).
import type { ObserveeCost } from '../steps/trade-offs.ts';

export type Path = 'viaSidecar' | 'viaReceive';

export interface Latency {
  /** Milliseconds of each complete answer. */
  coldMs: number[];
  cachedMs: number[];
}

export interface BucketCost {
  bytes: number;
  blocks: number;
  /** Hours the blocks span (newest end less oldest start). */
  hours: number;
  bytesPerSeriesHour: number;
}

export interface PointFigures {
  series: number;
  /** Samples the history wrote, into the HA pair and Receive together, and how long it took. */
  history: { samples: number; seconds: number };
  /** The sidecars' blocks (Arch 1), Receive's (Arch 3: what its agent's writes become), before and after the Compactor. */
  bucket: { sidecar: BucketCost; receive: BucketCost; sidecarCompacted: BucketCost; compactorHalted: boolean };
  /** What the HA pair's remote write put on the wire per sample (after snappy), from its own counters. */
  remoteWrite: { bytes: number; samples: number; bytesPerSample: number };
  observee: Record<Path, ObserveeCost>;
  receive: { rssBytes: number; headSeries: number; rssBytesPerSeries: number; samplesPerSecond: number; cpuSecondsPer1kSamples: number };
  latency: Record<Path, Latency>;
  /** Seconds from a slot's scrape until it answers, per probe. */
  freshness: Record<Path, number[]>;
  /** Answers that were partial or incomplete, described: left out of every figure above. */
  partial: string[];
}
