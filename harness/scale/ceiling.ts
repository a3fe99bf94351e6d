// The ingest ceiling (issue 18 item 3): the highest sample rate one Receive, and a 3-replica
// hashring with replication factor 3, accept on this machine with no sample lost and remote-write
// p99 under 1 s, beside what one Prometheus ingests from scrapes in the same run. The ratio of the
// two is the figure.
//
// This file is the part that needs no running system, and is unit-tested (ceiling.test.ts): the
// command line, the step plan, the verdict on a step, p99 from histogram buckets, and what a rig's
// steps come to. The rigs themselves: ceiling-receive.ts (remote write from this process) and
// ceiling-scrape.ts (Prometheus scraping the workload exporter); ceiling-run.ts runs all three and
// writes reports/ceiling-<id>/.
import { parseArgs } from 'node:util';
import type { MetricSample } from '../promql/metrics.ts';

export const RIGS = ['receive', 'receive-rf3', 'prometheus'] as const;
export type RigName = (typeof RIGS)[number];

export const RIG_TITLES: Record<RigName, string> = {
  receive: 'one Receive',
  'receive-rf3': '3 Receives, hashring, replication factor 3',
  prometheus: 'one Prometheus, scraping',
};

/** A step passes when it delivered at least this share of its target (below it, something could not keep up). */
export const KEPT_UP = 0.95;
/** The issue's latency bound: remote write's p99 under 1 s. */
export const P99_LIMIT_SECONDS = 1;

/**
 * How long each step is held. 20 s: at the first Receive step (25k samples/s in requests of 2,000)
 * that is 250 requests, enough for a p99 that is not just the slowest request, and several of the
 * Go runtime's GC cycles and of the TSDB's 1 s WAL flushes; for the scrape rig, 20 scrapes of
 * every job. `--ceiling-step-seconds` shortens it while developing (the figures then say so).
 */
export const DEFAULT_STEP_SECONDS = 20;

// ---- the command line ----

export interface CeilingOptions {
  stepSeconds: number;
  rigs: RigName[];
}

/**
 * `--ceiling [--ceiling-step-seconds N] [--ceiling-rigs receive,receive-rf3,prometheus]`. Throws an
 * Error whose message is one line naming the problem and the fix.
 */
export function parseCeilingArgs(argv: string[]): CeilingOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { ceiling: { type: 'boolean' }, 'ceiling-step-seconds': { type: 'string' }, 'ceiling-rigs': { type: 'string' } },
      strict: true,
    }));
  } catch (err) {
    // node:util's messages are several sentences; the first names the option.
    throw new Error(`${(err as Error).message.split('. ')[0]}; --ceiling takes --ceiling-step-seconds N and --ceiling-rigs ${RIGS.join(',')}`);
  }
  let stepSeconds = DEFAULT_STEP_SECONDS;
  const text = values['ceiling-step-seconds'];
  if (text !== undefined) {
    stepSeconds = Number(text);
    if (!/^\d+$/.test(text) || stepSeconds < 5 || stepSeconds > 300)
      throw new Error(`--ceiling-step-seconds ${text}: give whole seconds from 5 to 300 (default ${DEFAULT_STEP_SECONDS})`);
  }
  let rigs: RigName[] = [...RIGS];
  const rigText = values['ceiling-rigs'];
  if (rigText !== undefined) {
    const asked = rigText.split(',').filter((r) => r !== '');
    const unknown = asked.filter((r) => !(RIGS as readonly string[]).includes(r));
    if (unknown.length || asked.length === 0) throw new Error(`--ceiling-rigs ${rigText}: choose among ${RIGS.join(', ')}, comma-separated`);
    rigs = RIGS.filter((r) => asked.includes(r)); // always in the same order: Receive rigs first
  }
  return { stepSeconds, rigs };
}

// ---- the step plan ----

/** Targets grow by `factor` from `start` up to `max`; values are rounded to `unit`. */
export interface StepPlan {
  start: number;
  factor: number;
  max: number;
  unit: number;
}

/** Receive: samples/s, 25k doubling to 1.6M (7 steps; this machine stopped well before the top). */
export const RECEIVE_PLAN: StepPlan = { start: 25_000, factor: 2, max: 1_600_000, unit: 1_000 };
/** Prometheus: scrape jobs of CEILING_SCRAPE_SERIES_PER_COPY (25k) series each, 1 doubling to 64 (1.6M samples/s). */
export const SCRAPE_PLAN: StepPlan = { start: 1, factor: 2, max: 64, unit: 1 };

/**
 * pass: the target met, nothing lost, latency within bounds. saturated: the same, except that the
 * rig's answers held every connection and it took less than the target: its throughput, within
 * bounds, is what it took. generator-bound: the target missed while the rig kept up and the
 * generator did not wait for it. fail: something lost, not appended, or too slow.
 */
export type Verdict = 'pass' | 'saturated' | 'generator-bound' | 'fail';

/** Whether a step's achieved rate counts towards the ceiling: everything it sent was taken, in time. */
export const isClean = (v: Verdict): boolean => v !== 'fail';

export interface PlannedStep {
  target: number;
  /** The one step between the last pass and the first failure (see nextStep). */
  refinement: boolean;
}

export interface StepOutcome extends PlannedStep {
  verdict: Verdict;
}

/**
 * The next step, or undefined to stop. Up by plan.factor while steps pass. A saturated or
 * generator-bound step stops at once: a higher target would only measure the same limit again.
 * At the first failure, one refinement step at the geometric middle between the last pass and it,
 * so that the ceiling is known within a factor of about 1.4 instead of 2, then stop whatever it gives.
 */
export function nextStep(plan: StepPlan, done: readonly StepOutcome[]): PlannedStep | undefined {
  const last = done.at(-1);
  if (!last) return { target: plan.start, refinement: false };
  if (last.refinement || last.verdict === 'saturated' || last.verdict === 'generator-bound') return undefined;
  if (last.verdict === 'pass') {
    const target = Math.round((last.target * plan.factor) / plan.unit) * plan.unit;
    return target <= plan.max ? { target, refinement: false } : undefined;
  }
  const passed = done.filter((s) => s.verdict === 'pass').at(-1);
  if (!passed) return undefined;
  const middle = Math.round(Math.sqrt(passed.target * last.target) / plan.unit) * plan.unit;
  return middle > passed.target && middle < last.target ? { target: middle, refinement: true } : undefined;
}

// ---- histograms ----

export interface Bucket {
  /** Upper bound; Infinity for +Inf. */
  le: number;
  /** Cumulative count. */
  count: number;
}

/** A classic histogram's buckets summed over every series of `name`_bucket matching `labels` (e.g. over codes and instances). */
export function bucketsOf(samples: readonly MetricSample[], name: string, labels: Record<string, string> = {}): Bucket[] {
  const byLe = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${name}_bucket` || s.labels.le === undefined) continue;
    if (!Object.entries(labels).every(([k, v]) => s.labels[k] === v)) continue;
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  return [...byLe.entries()].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
}

/** Buckets of `after` less `before` (two reads of the same counters): what was observed in between. */
export function bucketDelta(after: readonly Bucket[], before: readonly Bucket[]): Bucket[] {
  const earlier = new Map(before.map((b) => [b.le, b.count]));
  return after.map((b) => ({ le: b.le, count: b.count - (earlier.get(b.le) ?? 0) }));
}

/**
 * The q-quantile as PromQL's histogram_quantile computes it: linear within the bucket that holds
 * the rank. In the +Inf bucket it is the highest finite bound (a floor, as PromQL says). undefined
 * when nothing was observed.
 */
export function histogramQuantile(q: number, buckets: readonly Bucket[]): number | undefined {
  const total = buckets.at(-1)?.count ?? 0;
  if (buckets.length === 0 || total <= 0 || buckets.at(-1)!.le !== Infinity) return undefined;
  const rank = q * total;
  let lowerLe = 0;
  let lowerCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return lowerLe;
      if (b.count === lowerCount) return b.le;
      return lowerLe + ((b.le - lowerLe) * (rank - lowerCount)) / (b.count - lowerCount);
    }
    lowerLe = b.le;
    lowerCount = b.count;
  }
  return lowerLe;
}

/** Share of observations at or under `limit`, exact when `limit` is a bucket bound; undefined when there is no such bound or nothing was observed. */
export function shareWithin(limit: number, buckets: readonly Bucket[]): number | undefined {
  const total = buckets.at(-1)?.count ?? 0;
  const at = buckets.find((b) => b.le === limit);
  return at && total > 0 ? at.count / total : undefined;
}

// ---- verdicts ----

export interface ReceiveStepFigures {
  target: number;
  achieved: number;
  /** Requests not accepted (non-2xx or no answer): their samples are lost. */
  lostRequests: number;
  firstError?: string;
  /** Receives whose own head did not append what was accepted, one line each ("receive-1 appended 99,000 of 100,000"). */
  appendMismatch: string[];
  /** p99 of the Receives' own request-duration histogram over the step (seconds), and the share of requests within 1 s. */
  serverP99Seconds?: number;
  serverShareWithin1s?: number;
  /** Time the generator spent waiting for a free connection, as a share of the step. */
  blockedShare: number;
  /** Cores this process used over the step (process.cpuUsage). */
  benchCpuCores: number;
  /** Cores the whole machine was busy over the step, of `cores`. */
  machineBusyCores: number;
  cores: number;
}

export interface Judgement {
  verdict: Verdict;
  /** Why it did not pass; for generator-bound, why the generator is to blame. */
  reason?: string;
}

const n = (v: number) => Math.round(v).toLocaleString('en');

/**
 * A Receive step fails when a request was lost, a Receive did not append every accepted sample, or
 * fewer than 99% of requests took under 1 s by Receive's own histogram. Otherwise it passes if it
 * met its target. A target missed with everything kept is Receive's saturation when its answers
 * held the connections (the generator waited for one at least 10% of the step): what it took is
 * then its throughput. Else the generator is to blame: this process was short of CPU, on its own
 * (a core's worth) or because the rig had the machine's other cores.
 */
export function judgeReceiveStep(f: ReceiveStepFigures): Judgement {
  if (f.lostRequests > 0) return { verdict: 'fail', reason: `${n(f.lostRequests)} request(s) not accepted${f.firstError ? ` (${f.firstError})` : ''}` };
  if (f.appendMismatch.length) return { verdict: 'fail', reason: f.appendMismatch.join('; ') };
  const within = f.serverShareWithin1s;
  if (within !== undefined ? within < 0.99 : f.serverP99Seconds === undefined || f.serverP99Seconds >= P99_LIMIT_SECONDS)
    return { verdict: 'fail', reason: `p99 ${f.serverP99Seconds === undefined ? 'unknown' : `${f.serverP99Seconds.toFixed(2)} s`} by Receive's own histogram${within !== undefined ? ` (${(within * 100).toFixed(1)}% within 1 s)` : ''}` };
  if (f.achieved >= KEPT_UP * f.target) return { verdict: 'pass' };
  const took = `${n(f.achieved)} of ${n(f.target)} samples/s`;
  if (f.blockedShare >= 0.1) return { verdict: 'saturated', reason: `took ${took}: its answers held every connection ${(f.blockedShare * 100).toFixed(0)}% of the step` };
  const machine = f.machineBusyCores >= 0.9 * f.cores ? `; the machine's ${f.cores} cores were busy (${f.machineBusyCores.toFixed(2)}), the rest was the rig's` : '';
  return { verdict: 'generator-bound', reason: `the generator sent ${took} using ${f.benchCpuCores.toFixed(2)} cores, waiting for a connection ${(f.blockedShare * 100).toFixed(0)}% of the step${machine}` };
}

export interface ScrapeStepFigures {
  /** Scrape jobs: each scrapes every exporter series once an interval. */
  jobs: number;
  intervalSeconds: number;
  /** Scrapes the jobs were due in the step's window: jobs x whole intervals in it. */
  dueScrapes: number;
  /** Scrapes Prometheus made in the window, by its own `up` series, and those of them with up == 0. */
  scrapes: number;
  failedScrapes: number;
  /** What one successful scrape writes: the exporter's series and Prometheus' 5 report series. */
  samplesPerScrape: number;
  /** Rise of Prometheus' own prometheus_tsdb_head_samples_appended_total over the step. */
  appendedSamples: number;
  /** Samples Prometheus refused in scrapes (out of order, duplicate, out of bounds), and scrapes over a limit. */
  rejectedSamples: number;
  /** Over every scrape in the window, from Prometheus' own scrape_duration_seconds: p99 (nearest rank), slowest, mean. */
  p99ScrapeSeconds?: number;
  maxScrapeSeconds?: number;
  meanScrapeSeconds?: number;
  /** What one scrape of a job's series took the exporter alone, in the middle of the step (median of a few). */
  exporterScrapeSeconds?: number;
}

/** The exporter dominates a scrape when serving it alone takes at least half of what Prometheus' scrapes take. */
export function exporterBound(f: ScrapeStepFigures): boolean {
  return f.exporterScrapeSeconds !== undefined && f.meanScrapeSeconds !== undefined && f.exporterScrapeSeconds >= 0.5 * f.meanScrapeSeconds;
}

/**
 * A scrape step passes when no scrape failed (up == 0: over the 1 s timeout, or refused), no
 * sample was refused, the jobs kept their schedule (at most one scrape a job short of what was due:
 * where each job's ticks fall against the window's edges is chance), 99% of scrapes took less than
 * the interval (Prometheus' counterpart of remote write's p99 under 1 s: a longer scrape delays
 * the job's next), and Prometheus' head appended at least 95% of what its scrapes brought (the
 * counter and the `up` window are read a scrape's duration apart). A failure names the exporter
 * when it dominated the scrape time: the figure is then the exporter's as much as Prometheus'.
 */
export function judgeScrapeStep(f: ScrapeStepFigures): Judgement {
  const exporter = exporterBound(f) ? `; the exporter alone took ${f.exporterScrapeSeconds!.toFixed(2)} s of a ${f.meanScrapeSeconds!.toFixed(2)} s mean scrape: exporter-bound` : '';
  const slow = f.p99ScrapeSeconds === undefined ? '' : `, scrapes p99 ${f.p99ScrapeSeconds.toFixed(2)} s, slowest ${f.maxScrapeSeconds?.toFixed(2)} s of a ${f.intervalSeconds} s interval`;
  if (f.failedScrapes > 0) return { verdict: 'fail', reason: `${n(f.failedScrapes)} of ${n(f.scrapes)} scrapes failed${slow}${exporter}` };
  if (f.rejectedSamples > 0) return { verdict: 'fail', reason: `${n(f.rejectedSamples)} scraped sample(s) refused${exporter}` };
  if (f.scrapes < f.dueScrapes - f.jobs) return { verdict: 'fail', reason: `scrapes fell behind: ${n(f.scrapes)} of ${n(f.dueScrapes)} due${slow}${exporter}` };
  if (f.p99ScrapeSeconds === undefined || f.p99ScrapeSeconds >= f.intervalSeconds) return { verdict: 'fail', reason: `1% of scrapes or more took the whole interval${slow || ' (no scrape durations)'}${exporter}` };
  const scraped = f.scrapes * f.samplesPerScrape;
  if (f.appendedSamples < KEPT_UP * scraped) return { verdict: 'fail', reason: `appended ${n(f.appendedSamples)} of ${n(scraped)} scraped samples${exporter}` };
  return { verdict: 'pass' };
}

// ---- what a rig's steps come to ----

export interface StepCore extends StepOutcome {
  reason?: string;
  /** Samples/s the rig took: accepted by Receive, or appended by Prometheus. */
  achieved: number;
  /** The latency shown beside the ceiling: Receive's own p99 of a request; Prometheus' p99 of a scrape. */
  latencySeconds?: number;
}

export interface Ceiling {
  /** Samples/s: the highest rate a step took cleanly (see isClean; 0 when none did). */
  rate: number;
  /** True when the rig was not shown to be the limit: the generator was, or every planned step passed. */
  atLeast: boolean;
  latencySeconds?: number;
  /** What stopped it, one line. */
  stoppedBy: string;
}

/**
 * The rig's ceiling: the highest rate any step took with nothing lost and latency within bounds
 * (a saturated step's included: that is its throughput), stopped by the lowest step that did not
 * pass. A floor when that step was generator-bound, or when every planned step passed.
 */
export function ceilingOf(steps: readonly StepCore[], targetText: (target: number) => string): Ceiling {
  const best = steps.filter((s) => isClean(s.verdict)).reduce<StepCore | undefined>((a, s) => (!a || s.achieved > a.achieved ? s : a), undefined);
  const stop = steps.filter((s) => s.verdict !== 'pass').sort((a, b) => a.target - b.target)[0];
  const rate = best?.achieved ?? 0;
  if (!stop) return { rate, atLeast: true, latencySeconds: best?.latencySeconds, stoppedBy: 'nothing: every planned step passed' };
  return { rate, atLeast: stop.verdict === 'generator-bound', latencySeconds: best?.latencySeconds, stoppedBy: `${stop.verdict} at ${targetText(stop.target)}: ${stop.reason}` };
}

/** "412k" / "at least 412k" samples/s. */
export function describeCeiling(c: Ceiling): string {
  return `${c.atLeast ? 'at least ' : ''}${n(c.rate)} samples/s`;
}

/** Receive's ceiling over Prometheus' (how many Prometheus' worth of scrape ingest one rig takes); undefined without both. */
export function ceilingRatio(receive: Ceiling | undefined, prometheus: Ceiling | undefined): number | undefined {
  if (!receive || !prometheus || receive.rate <= 0 || prometheus.rate <= 0) return undefined;
  return receive.rate / prometheus.rate;
}
