// A reference for the churn unit tests, written apart from series.ts' closed forms: it replays the
// rotation period by period, and evaluates queries the slow way (every sample written, every
// series' newest sample within the lookback), so that the tests compare two derivations.
import { gridPoints } from '../time.ts';
import { generationAt, seriesLabels, valueAt, type Workload } from './series.ts';

/**
 * The rotation as the model states it, replayed: pods in a row, `perPeriod` of them replaced at
 * each boundary, in order, wrapping around. Returns, per period from the first, each pod's number
 * of replacements so far (an offset from the closed form's generation, which counts from the epoch).
 */
export function replayRotation(pods: number, perPeriod: number, periods: number, firstCursor: number): number[][] {
  const replaced = new Array<number>(pods).fill(0);
  const out: number[][] = [];
  let cursor = firstCursor;
  for (let k = 0; k < periods; k++) {
    if (k > 0) {
      for (let n = 0; n < perPeriod; n++) {
        replaced[cursor % pods]!++;
        cursor++;
      }
    }
    out.push([...replaced]);
  }
  return out;
}

export interface WrittenSeries {
  labels: Record<string, string>;
  index: number;
  /** Grid timestamps written, ascending. */
  samples: number[];
}

/** Every sample the history writer and the exporter put down from fromMs to toMs, by label set. */
export function writtenSeries(w: Workload, fromMs: number, toMs: number): Map<string, WrittenSeries> {
  const out = new Map<string, WrittenSeries>();
  for (const t of gridPoints(fromMs, toMs, w.stepMs)) {
    for (let i = 0; i < w.seriesCount; i++) {
      const labels = seriesLabels(w, i, generationAt(w, i, t));
      const key = JSON.stringify(labels);
      let s = out.get(key);
      if (!s) out.set(key, (s = { labels, index: i, samples: [] }));
      s.samples.push(t);
    }
  }
  return out;
}

/** What an instant query of every series sees at tMs: each series' newest sample in (t - lookback, t], with its value. */
export function visibleAt(written: Map<string, WrittenSeries>, tMs: number, lookbackMs: number): { labels: Record<string, string>; index: number; sampleMs: number; value: number }[] {
  const out: { labels: Record<string, string>; index: number; sampleMs: number; value: number }[] = [];
  for (const s of written.values()) {
    let newest: number | undefined;
    for (const t of s.samples) if (t <= tMs && t > tMs - lookbackMs) newest = t;
    if (newest !== undefined) out.push({ labels: s.labels, index: s.index, sampleMs: newest, value: valueAt(s.index, newest) });
  }
  return out;
}
