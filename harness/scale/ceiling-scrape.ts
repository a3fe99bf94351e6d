// The Prometheus rig of the ingest ceiling (ceiling.ts): what one Prometheus ingests from scrapes.
//
// The harness's workload exporter (in the harness servers' worker thread) serves
// CEILING_SCRAPE_SERIES_PER_COPY (25k) series. A step of N "copies" gives Prometheus N scrape jobs
// of it at a 1 s interval, each its own named scraper (?scraper=, so the exporter serves each the
// next grid slot, with the slot's explicit timestamp) and its own `copy` label (so each job's
// series are series of their own): N x 25k samples/s. The bench writes the jobs into Prometheus'
// config file and reloads it (POST /-/reload; the harness starts Prometheus with
// --web.enable-lifecycle), adding jobs and never changing one, so that a running job's scrape loop
// is left alone by the reload. This needs the config file on this machine: the process substrate.
//
// Per step: expected samples/s (jobs x (series + the 5 series Prometheus writes about each
// scrape)) against the rise of Prometheus' own prometheus_tsdb_head_samples_appended_total; failed
// scrapes (up == 0) and scrape_duration_seconds over the step from its own TSDB; samples it refused
// from its own counters. And what the exporter alone takes to serve one job's scrape, mid-step:
// when that is most of the scrape time, the exporter is the bottleneck and the output says so.
import { writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { parse, stringify } from 'yaml';
import { PromApiClient } from '../promql/client.ts';
import { currentSubstrate, type RunningTopology, type Substrate } from '../substrates/index.ts';
import { ceilingPrometheus, CEILING_SCRAPE_SERIES_PER_COPY } from '../presets/ceiling.ts';
import { waitFor } from '../wait.ts';
import { alignDown } from '../time.ts';
import { judgeScrapeStep, SCRAPE_PLAN, type ScrapeStepFigures, type StepCore } from './ceiling.ts';
import { scrapeComponent, startMeters, sumOf } from './ceiling-meters.ts';
import { driveRig, type RigOptions, type RigRun } from './ceiling-rig.ts';
import { percentile } from './report.ts';

const INTERVAL_SECONDS = 1;
/** Series Prometheus writes about every scrape of a target: up, scrape_duration_seconds, scrape_samples_scraped, scrape_samples_post_metric_relabeling, scrape_series_added. */
const REPORT_SERIES = 5;
/** Scrapes of one job's series the bench makes itself in the middle of a step, to time the exporter alone. */
const EXPORTER_PROBES = 3;
/** How long new jobs may take to be scraped once after a reload (Prometheus applies a reload at once; the first scrape comes within one interval). */
const JOBS_LIVE_TIMEOUT_MS = 30_000;
/** Prometheus' own counters of scraped samples it refused, and of scrapes over a limit. */
const REFUSED = [
  'prometheus_target_scrapes_sample_out_of_order_total',
  'prometheus_target_scrapes_sample_duplicate_timestamp_total',
  'prometheus_target_scrapes_sample_out_of_bounds_total',
  'prometheus_target_scrapes_exceeded_sample_limit_total',
  'prometheus_target_scrapes_exceeded_body_size_limit_total',
];
const JOB_PREFIX = 'ceiling-';

/** A step of the scrape rig: what the verdict reads (ScrapeStepFigures), and the rest of what was measured. */
export interface ScrapeStep extends StepCore, ScrapeStepFigures {
  /** Scrape jobs, each of every exporter series (the step's target). */
  copies: number;
  series: number;
  seconds: number;
  /** Samples/s the jobs bring on schedule: jobs x (series + 5 report series) per interval. */
  expected: number;
  benchCpuCores: number;
  machineBusyCores: number;
  prometheusCpuCores: number;
  prometheusRssBytes: number;
}

/** The step's scrape jobs: copy k is scraper `ceiling-k`, its series labelled copy="k". */
export function scrapeJobs(copies: number, exporterAddress: string): object[] {
  return Array.from({ length: copies }, (_, k) => ({
    job_name: `${JOB_PREFIX}${k}`,
    // The exporter's own job/instance labels stay (as the harness's workload job has them); copy tells the jobs apart.
    honor_labels: true,
    scrape_interval: `${INTERVAL_SECONDS}s`,
    scrape_timeout: `${INTERVAL_SECONDS}s`,
    params: { scraper: [`${JOB_PREFIX}${k}`] },
    static_configs: [{ targets: [exporterAddress], labels: { copy: String(k) } }],
  }));
}

/** One instant query's single value (0 when the answer is empty, e.g. no scrape matched). */
async function scalar(client: PromApiClient, expr: string, timeMs: number): Promise<number | undefined> {
  const answer = await client.query(expr, { time: timeMs });
  if (answer.resultType !== 'vector') throw new Error(`${expr}: a ${answer.resultType}, expected a vector`);
  return answer.result[0]?.v;
}

class ScrapeRig {
  readonly t: RunningTopology;
  readonly id: string;
  readonly client: PromApiClient;
  readonly configFile: string;
  readonly baseConfig: Record<string, unknown>;

  constructor(t: RunningTopology) {
    this.t = t;
    const p = t.plan.processes.find((x) => x.kind === 'prometheus')!;
    this.id = p.id;
    this.client = new PromApiClient(t.url(p.id));
    const flag = p.args.find((a) => a.startsWith('--config.file='));
    if (!flag || !currentSubstrate().local) throw new Error(`the scrape rig rewrites Prometheus' config file: it runs on the process substrate only (this is ${t.substrate})`);
    this.configFile = flag.slice('--config.file='.length);
    this.baseConfig = parse(p.files['prometheus.yml']!) as Record<string, unknown>;
  }

  /** Gives Prometheus `copies` jobs and waits until each has been scraped since. */
  async setCopies(copies: number, onProgress: (line: string) => void): Promise<void> {
    // A new job's scraper starts at the current slot (the exporter serves a named scraper from its arm time on).
    await this.t.workload.arm(alignDown(Date.now(), this.t.workload.workload.stepMs));
    const address = new URL(this.t.workload.url).host;
    await writeFile(this.configFile, stringify({ ...this.baseConfig, scrape_configs: scrapeJobs(copies, address) }));
    const reloaded = Date.now();
    const response = await fetch(`${this.client.baseUrl}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(30_000) });
    if (!response.ok) throw new Error(`${this.id} refused its new config (POST /-/reload): HTTP ${response.status}: ${(await response.text()).trim()}`);
    await waitFor(
      `${this.id} to scrape all ${copies} job(s)`,
      async (note) => {
        const targets = (await this.client.targets('active')).activeTargets.filter((x) => x.scrapePool.startsWith(JOB_PREFIX));
        const scraped = targets.filter((x) => Date.parse(x.lastScrape) > reloaded);
        note(`${scraped.length} of ${targets.length} scraped since the reload`);
        return targets.length === copies && scraped.length === copies ? true : undefined;
      },
      { timeoutMs: JOBS_LIVE_TIMEOUT_MS, intervalMs: 250, onProgress },
    );
  }

  /** Waits until every job has finished a scrape that started at or after `ms` (the targets page's lastScrape is a finished scrape's start). */
  async waitScrapedSince(ms: number, onProgress: (line: string) => void): Promise<void> {
    await waitFor(
      `${this.id} to finish the scrapes under way at ${new Date(ms).toISOString()}`,
      async (note) => {
        const targets = (await this.client.targets('active')).activeTargets.filter((x) => x.scrapePool.startsWith(JOB_PREFIX));
        const done = targets.filter((x) => Date.parse(x.lastScrape) >= ms);
        note(`${done.length} of ${targets.length}`);
        return done.length === targets.length ? true : undefined;
      },
      { timeoutMs: JOBS_LIVE_TIMEOUT_MS, intervalMs: 250, onProgress },
    );
  }

  /** The exporter alone: one job's scrape from this process, timed to the last byte (an anonymous scrape changes no scraper's slot). */
  async probeExporter(): Promise<number | undefined> {
    const times: number[] = [];
    for (let k = 0; k < EXPORTER_PROBES; k++) {
      const started = performance.now();
      const response = await fetch(`${this.t.workload.url}/metrics`, { signal: AbortSignal.timeout(30_000) });
      await response.arrayBuffer();
      times.push((performance.now() - started) / 1000);
    }
    return percentile(times, 50);
  }

  async step(copies: number, holdMs: number, refinement: boolean, onProgress: (line: string) => void): Promise<ScrapeStep> {
    await this.setCopies(copies, onProgress);
    const before = await scrapeComponent(this.client.baseUrl);
    const meters = startMeters();
    const startedAt = Date.now();
    // The exporter is timed in the middle of the step, under the step's own load.
    await new Promise((resolve) => setTimeout(resolve, holdMs / 2));
    const exporterScrapeSeconds = await this.probeExporter();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, startedAt + holdMs - Date.now())));
    const after = await scrapeComponent(this.client.baseUrl);
    const used = meters.read();
    const endedAt = Date.now();
    const seconds = used.seconds;
    // The `up` samples carry each scrape's start time: a scrape started inside the window is only
    // counted once it has finished, and a job's scrapes run one after another.
    await this.waitScrapedSince(endedAt, onProgress);
    const windowMs = endedAt - startedAt;
    const jobs = `{job=~"${JOB_PREFIX}.*"}`;
    const over = (fn: string, metric: string) => `${fn}(${metric}${jobs}[${windowMs}ms])`;
    // Failed ones out of the same scrapes: one query, so that a scrape landing between two cannot skew it.
    const [scrapes, failed, durations] = await Promise.all([
      scalar(this.client, `sum(${over('count_over_time', 'up')})`, endedAt),
      scalar(this.client, `sum(${over('count_over_time', 'up')} - ${over('sum_over_time', 'up')})`, endedAt),
      this.client.query(`scrape_duration_seconds${jobs}[${windowMs}ms]`, { time: endedAt }),
    ]);
    const each = durations.resultType === 'matrix' ? durations.result.flatMap((series) => series.samples.map((x) => x.v)) : [];
    const delta = (name: string) => sumOf(after, name) - sumOf(before, name);
    const figures = {
      jobs: copies,
      intervalSeconds: INTERVAL_SECONDS,
      dueScrapes: copies * Math.floor(windowMs / 1000 / INTERVAL_SECONDS),
      scrapes: scrapes ?? 0,
      failedScrapes: failed ?? 0,
      samplesPerScrape: CEILING_SCRAPE_SERIES_PER_COPY + REPORT_SERIES,
      appendedSamples: delta('prometheus_tsdb_head_samples_appended_total'),
      rejectedSamples: REFUSED.reduce((sum, name) => sum + delta(name), 0),
      p99ScrapeSeconds: percentile(each, 99),
      maxScrapeSeconds: each.length ? Math.max(...each) : undefined,
      meanScrapeSeconds: each.length ? each.reduce((a, b) => a + b, 0) / each.length : undefined,
      exporterScrapeSeconds,
    };
    const judgement = judgeScrapeStep(figures);
    return {
      target: copies,
      refinement,
      ...judgement,
      ...figures,
      // What its scrapes brought per second of the window, each scrape counted once by its `up`
      // sample: the head's counter (checked against it) also counts scrapes straddling the window's edges.
      achieved: ((figures.scrapes - figures.failedScrapes) * figures.samplesPerScrape + figures.failedScrapes * REPORT_SERIES) / (windowMs / 1000),
      latencySeconds: figures.p99ScrapeSeconds,
      copies,
      series: copies * CEILING_SCRAPE_SERIES_PER_COPY,
      seconds,
      expected: (copies * figures.samplesPerScrape) / INTERVAL_SECONDS,
      benchCpuCores: used.benchCpuCores,
      machineBusyCores: used.machineBusyCores,
      prometheusCpuCores: (sumOf(after, 'process_cpu_seconds_total') - sumOf(before, 'process_cpu_seconds_total')) / seconds,
      prometheusRssBytes: sumOf(after, 'process_resident_memory_bytes'),
    };
  }
}

/** One line per step, to stderr. */
export function scrapeStepLine(s: ScrapeStep): string {
  const k = (v: number) => `${Math.round(v / 1000).toLocaleString('en')}k`;
  const ms = (v: number | undefined) => (v === undefined ? 'n/a' : `${(v * 1000).toFixed(0)} ms`);
  const exporter = ms(s.exporterScrapeSeconds);
  return `[ceiling prometheus] ${s.copies} job(s), target ${k(s.expected)}/s${s.refinement ? ' (refinement)' : ''}: achieved ${k(s.achieved)}/s, scrapes p99 ${ms(s.p99ScrapeSeconds)}, slowest ${ms(s.maxScrapeSeconds)} (exporter alone ${exporter}), scrapes ${s.scrapes} of ${s.dueScrapes} due, ${s.failedScrapes} failed, Prometheus ${s.prometheusCpuCores.toFixed(2)} cores, bench ${s.benchCpuCores.toFixed(2)}, machine ${s.machineBusyCores.toFixed(2)}: ${s.verdict}${s.reason ? ` (${s.reason})` : ''}`;
}

/** Brings the rig up, adds scrape jobs step by step up to its ceiling, tears it down (however it ends). */
export function runScrapeRig(substrate: Substrate, opts: RigOptions<ScrapeStep>): Promise<RigRun<ScrapeStep>> {
  return driveRig('prometheus', ceilingPrometheus(), SCRAPE_PLAN, substrate, opts, async (t) => {
    const rig = new ScrapeRig(t);
    opts.onProgress(`[ceiling prometheus] ${rig.id} up; each job scrapes ${CEILING_SCRAPE_SERIES_PER_COPY.toLocaleString('en')} series every ${INTERVAL_SECONDS} s`);
    return {
      instances: [rig.id],
      step: (copies, holdMs, refinement) => rig.step(copies, holdMs, refinement, opts.onProgress),
      line: scrapeStepLine,
      // Nothing of its own to close: Prometheus and the exporter go with the topology.
      [Symbol.dispose]: () => {},
    };
  });
}
