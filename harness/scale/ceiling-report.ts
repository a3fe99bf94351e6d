// reports/ceiling-<id>/: the ingest ceiling's results.json and a short page: one row per rig (its
// ceiling, the latency at it, what stopped it), the ratio of each Receive rig's ceiling to
// Prometheus' scrape ceiling, then every step each rig took.
import { escapeXml as esc } from '../report/plots.ts';
import { ceilingOf, ceilingRatio, describeCeiling, RIG_TITLES, type Ceiling, type RigName } from './ceiling.ts';
import type { ReceiveStep } from './ceiling-receive.ts';
import type { RigRun } from './ceiling-rig.ts';
import type { ScrapeStep } from './ceiling-scrape.ts';
import { CEILING_SCRAPE_SERIES_PER_COPY } from '../presets/ceiling.ts';

export interface RigResult {
  title: string;
  run: RigRun<ReceiveStep> | RigRun<ScrapeStep>;
  ceiling: Ceiling;
}

export interface CeilingResults {
  id: string;
  startedAt: string;
  finishedAt: string;
  commit?: string;
  substrate: string;
  machine: { cores: number; memoryBytes: number; cpu: string };
  versions: Record<string, string>;
  stepSeconds: number;
  rigs: Partial<Record<RigName, RigResult>>;
}

const rate = (v: number) => `${Math.round(v).toLocaleString('en')} samples/s`;

/** How a rig's target reads in "what stopped it". */
export function targetText(rig: RigName): (target: number) => string {
  return rig === 'prometheus' ? (jobs) => `${jobs} job(s) (${rate(jobs * CEILING_SCRAPE_SERIES_PER_COPY)})` : rate;
}

/** A rig's result from its run: the ceiling its steps come to, or what stopped it before any step. */
export function rigResult(rig: RigName, run: RigRun<ReceiveStep> | RigRun<ScrapeStep>): RigResult {
  const ceiling = ceilingOf(run.steps, targetText(rig));
  // Stopped before any step found the limit (bring-up failed, memory, a signal): what it reached is a floor.
  const limitFound = run.steps.some((s) => s.verdict !== 'pass');
  return { title: RIG_TITLES[rig], run, ceiling: run.stopped && !limitFound ? { ...ceiling, atLeast: true, stoppedBy: run.stopped } : ceiling };
}

/** "0.84", "at least 0.84" (Receive's figure is a floor), "at most 0.84" (Prometheus' is). */
export function describeRatio(receive: Ceiling | undefined, prometheus: Ceiling | undefined): string {
  const ratio = ceilingRatio(receive, prometheus);
  if (ratio === undefined) return 'n/a';
  const r = ratio.toFixed(2);
  if (receive!.atLeast && prometheus!.atLeast) return `${r} (both figures are floors: the ratio is not bounded)`;
  if (receive!.atLeast) return `at least ${r}`;
  if (prometheus!.atLeast) return `at most ${r}`;
  return r;
}

const seconds = (s: number | undefined) => (s === undefined ? 'n/a' : s < 1 ? `${(s * 1000).toFixed(0)} ms` : `${s.toFixed(2)} s`);
const cores = (v: number) => v.toFixed(2);
const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;

function receiveRows(steps: ReceiveStep[]): string {
  const head = ['target samples/s', 'achieved', 'requests', 'lost samples', 'client p50 / p99', "Receive's own p99 (within 1 s)", 'appended per Receive', 'refused as out of order', 'failed forwards', 'Receive CPU cores', 'Receive RSS', 'bench cores (waiting for a connection)', 'machine busy cores', 'verdict'];
  const rows = steps.map((s) =>
    [
      `${s.target.toLocaleString('en')}${s.refinement ? ' (refinement)' : ''}`,
      rate(s.achieved),
      s.requests.toLocaleString('en'),
      s.lostSamples.toLocaleString('en'),
      `${s.clientP50Ms?.toFixed(0) ?? 'n/a'} / ${s.clientP99Ms?.toFixed(0) ?? 'n/a'} ms`,
      `${seconds(s.serverP99Seconds)} (${s.serverShareWithin1s === undefined ? 'n/a' : `${(s.serverShareWithin1s * 100).toFixed(2)}%`})`,
      Object.entries(s.appended).map(([id, v]) => `${id.split('/')[1]}: ${v.toLocaleString('en')}`).join(', '),
      s.outOfOrderSamples.toLocaleString('en'),
      s.forwardErrors.toLocaleString('en'),
      Object.values(s.receiveCpuCores).map(cores).join(' / '),
      Object.values(s.receiveRssBytes).map(gib).join(' / '),
      `${cores(s.benchCpuCores)} (${(s.blockedShare * 100).toFixed(0)}%)`,
      cores(s.machineBusyCores),
      `${s.verdict}${s.reason ? `: ${s.reason}` : ''}`,
    ],
  );
  return table(head, rows);
}

function scrapeRows(steps: ScrapeStep[]): string {
  const head = ['jobs (series)', 'expected samples/s', 'achieved (scrapes in the window)', 'appended by the head', 'scrapes (failed)', 'scrape mean / p99 / slowest', 'the exporter alone, one scrape', 'refused samples', 'Prometheus CPU cores', 'Prometheus RSS', 'bench cores (the exporter)', 'machine busy cores', 'verdict'];
  const rows = steps.map((s) => [
    `${s.copies} (${s.series.toLocaleString('en')})${s.refinement ? ' (refinement)' : ''}`,
    Math.round(s.expected).toLocaleString('en'),
    rate(s.achieved),
    s.appendedSamples.toLocaleString('en'),
    `${s.scrapes.toLocaleString('en')} (${s.failedScrapes})`,
    `${seconds(s.meanScrapeSeconds)} / ${seconds(s.p99ScrapeSeconds)} / ${seconds(s.maxScrapeSeconds)}`,
    seconds(s.exporterScrapeSeconds),
    s.rejectedSamples.toLocaleString('en'),
    cores(s.prometheusCpuCores),
    gib(s.prometheusRssBytes),
    cores(s.benchCpuCores),
    cores(s.machineBusyCores),
    `${s.verdict}${s.reason ? `: ${s.reason}` : ''}`,
  ]);
  return table(head, rows);
}

function table(head: string[], rows: string[][]): string {
  return `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</table>`;
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}
table{border-collapse:collapse;margin:12px 0}th,td{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}
th{background:#f3f3f3}`;

export function renderCeilingHtml(r: CeilingResults): string {
  const rigs = Object.entries(r.rigs) as [RigName, RigResult][];
  const summary = table(
    ['rig', 'ceiling', 'latency at the ceiling', 'what stopped it'],
    rigs.map(([rig, x]) => [x.title, describeCeiling(x.ceiling), `${seconds(x.ceiling.latencySeconds)} ${rig === 'prometheus' ? '(p99 of a scrape)' : "(p99 of a request, Receive's own)"}`, x.ceiling.stoppedBy]),
  );
  const prometheus = r.rigs.prometheus?.ceiling;
  const ratios = table(
    ['Receive rig', 'its ceiling / Prometheus’ scrape ceiling'],
    (['receive', 'receive-rf3'] as const).filter((rig) => r.rigs[rig]).map((rig) => [r.rigs[rig]!.title, describeRatio(r.rigs[rig]!.ceiling, prometheus)]),
  );
  const details = rigs
    .map(([rig, x]) => `<h2>${esc(x.title)}</h2><p>topology ${esc(x.run.topology)}: ${esc(x.run.instances.join(', '))}${x.run.stopped ? ` · ${esc(x.run.stopped)}` : ''}</p>${rig === 'prometheus' ? scrapeRows(x.run.steps as ScrapeStep[]) : receiveRows(x.run.steps as ReceiveStep[])}`)
    .join('\n');
  const m = r.machine;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>thanos-ha-e2e ingest ceiling ${esc(r.id)}</title><style>${CSS}</style></head><body>
<h1>Ingest ceiling ${esc(r.id)}</h1>
<p>${esc(r.startedAt)} to ${esc(r.finishedAt)}${r.commit ? ` · at ${esc(r.commit)}` : ''} · substrate ${esc(r.substrate)} · ${m.cores} cores (${esc(m.cpu)}), ${gib(m.memoryBytes)} · each step held ${r.stepSeconds} s</p>
<p>versions: ${Object.entries(r.versions).map(([k, v]) => `${esc(k)} ${esc(v)}`).join(' · ')}</p>
<p>In every rig a step at R samples/s is R series at one sample a second. A Receive step passes when no request was refused or lost, every Receive's head appended every accepted sample, at least 99% of requests took under 1 s by Receive's own histogram, and at least 95% of the target was delivered; one that met all but the target because Receive's answers held every connection is saturated, and what it took counts. A scrape step passes when no scrape failed, no sample was refused, the jobs kept their schedule, 99% of scrapes took less than the 1 s interval, and the head appended what the scrapes brought. The ceiling is the highest rate a passing or saturated step took; "at least": the rig was not shown to be the limit (the generator was, or every planned step passed). The load (the remote-write generator, or the workload exporter) runs in the bench process on the same cores as the rig: its CPU is the "bench" column.</p>
${summary}
${ratios}
${details}
</body></html>
`;
}
