// Arch 3 (agent mode, central alerting): the steps that bring a running topology to the states the
// scenario asserts on, and how long an alert may take to travel agent -> Receive -> Query -> Ruler
// -> Alertmanager. The rules are fixtures/rules/central-alerting.yml; the topology is arch3(), whose
// two alerting paths (faulty, fixed) share the agent, Receive and Store.
import type { AlertmanagerAlert } from '../promql/alertmanager.ts';
import { AlertmanagerClient } from '../promql/alertmanager.ts';
import { PromApiClient } from '../promql/client.ts';
import { metricSum, metricValue } from '../promql/metrics.ts';
import { greaterOrEqual, waitSumMetrics } from '../promql/wait-metrics.ts';
import type { RunningTopology } from '../substrates/index.ts';
import { alertLatencyBound, type AlertLatencyBound } from '../models/alert-latency.ts';
import { ARCH3_PATHS, arch3ComponentName, type Arch3Path, type Arch3PathComponent } from '../topology/presets.ts';
import { goLive, waitForLiveUpTo } from '../workload/populate.ts';
import { alignDown, alignUp } from '../time.ts';

export const AGENT = 'observee/prometheus';
export const RECEIVE = 'observer/receive';
const OBSERVER = 'observer';

/** Instance id of one alerting path's component ("observer/fixed-ruler"). */
export const pathInstance = (path: Arch3Path, component: Arch3PathComponent): string => `${OBSERVER}/${arch3ComponentName(path, component)}`;

/** The alerting rule of the fixture, and the value the scenario gives series 0 to cross it. */
export const ALERT = { name: 'WorkloadAboveThreshold', series: 0, threshold: 5e6, crossingValue: 6e6 } as const;
export const RECORDING_RULE = 'cluster:e2e_workload_value:count';

/**
 * Series Prometheus writes per scrape target besides what the target exposes: up,
 * scrape_duration_seconds, scrape_samples_scraped, scrape_samples_post_metric_relabeling and
 * scrape_series_added (more only with --enable-feature=extra-scrape-metrics, which the plan does not set).
 */
export const SERIES_PER_SCRAPE_TARGET = 5;

const ALERTMANAGER_POLL_MS = 250;


/** One alerting path: its Ruler, the Query the Ruler evaluates through, its Alertmanager, and what users query. */
export interface AlertingPath {
  /** Instance id of the Ruler, for messages. */
  rulerInstance: string;
  ruler: PromApiClient;
  /** Store only (faulty) or Store + Receive (fixed). */
  ruleQuery: PromApiClient;
  /** Store, Receive and this path's Ruler, behind `frontend`. */
  query: PromApiClient;
  frontend: PromApiClient;
  alertmanager: AlertmanagerClient;
}

export interface RuleEvaluations {
  /** prometheus_rule_evaluations_total: one per rule per group evaluation. */
  evaluations: number;
  failures: number;
  /** Wall-clock start of the group's last evaluation (ms); its samples carry a timestamp at or just before it. */
  lastEvaluationMs: number;
}

export interface SeenAlert {
  /** Everything Alertmanager listed in the answer that first had the alert. */
  alerts: AlertmanagerAlert[];
  alert: AlertmanagerAlert;
  /** When that answer came back (ms). */
  seenAtMs: number;
}

/** What one path showed around the crossing. */
export interface PathReadings {
  alertsBeforeCrossing: AlertmanagerAlert[];
  evaluationsBeforeCrossing: RuleEvaluations;
  /** The first Alertmanager answer listing ALERT.name, if one came by the deadline. */
  seen: SeenAlert | undefined;
  /** At the first evaluation that started after both the deadline and Receive having the crossing. */
  evaluationsAfterWindow: RuleEvaluations;
}

export interface Arch3Run {
  t: RunningTopology;
  /** First grid slot the exporter served (no history: an agent takes no backfill). */
  liveFromMs: number;
  /** When Receive had appended everything the agent stored up to liveFromMs. */
  receiveHadDataAt: number;
  bound: AlertLatencyBound;
  agent: PromApiClient;
  paths: Record<Arch3Path, AlertingPath>;
  /** The grid slot from which series 0 serves ALERT.crossingValue. */
  crossingAt: number;
  /** crossingAt + bound.totalMs. */
  deadline: number;
  /** When Receive had appended everything the agent stored up to crossingAt. */
  receiveHadCrossingAt: number;
  readings: Record<Arch3Path, PathReadings>;
}

async function metricsOf(t: RunningTopology, instance: string): Promise<string> {
  return await new PromApiClient(t.url(instance)).metrics();
}

/**
 * Precondition: Receive holds every sample the agent had stored up to grid slot untilMs. The
 * exporter knows when the agent stored the slot; the agent's appended-sample count at that moment
 * is then what Receive's tenant TSDB must have appended (the agent sends each sample once, in order).
 * Returns when that held (ms).
 */
export async function waitForReceiveUpTo(t: RunningTopology, untilMs: number, log: (line: string) => void): Promise<number> {
  await waitForLiveUpTo(t, [AGENT], untilMs, log);
  const appended = metricSum(await metricsOf(t, AGENT), 'prometheus_agent_samples_appended_total') ?? 0;
  const tenant = t.topology.components.find((c) => c.kind === 'receive');
  if (tenant?.kind !== 'receive') throw new Error(`topology ${t.topology.name} has no Receive`);
  await waitSumMetrics(RECEIVE, t.url(RECEIVE), greaterOrEqual(appended), 'prometheus_tsdb_head_samples_appended_total', {
    labels: { tenant: tenant.defaultTenant },
    timeoutMs: 60_000,
    intervalMs: 250,
    onProgress: log,
  });
  return Date.now();
}

function alertingPath(t: RunningTopology, path: Arch3Path): AlertingPath {
  const client = (component: Arch3PathComponent) => new PromApiClient(t.url(pathInstance(path, component)));
  return {
    rulerInstance: pathInstance(path, 'ruler'),
    ruler: client('ruler'),
    ruleQuery: client('rule-query'),
    query: client('query'),
    frontend: client('query-frontend'),
    alertmanager: new AlertmanagerClient(t.url(pathInstance(path, 'alertmanager'))),
  };
}

const byPath = async <T>(f: (path: Arch3Path) => Promise<T>): Promise<Record<Arch3Path, T>> =>
  Object.fromEntries(await Promise.all(ARCH3_PATHS.map(async (p) => [p, await f(p)] as const))) as Record<Arch3Path, T>;

/**
 * Every state change of the scenario, in order: the agent goes live (no history) and Receive has its
 * first samples; then series 0 crosses the threshold once, and both paths are watched through the
 * same window, crossingAt + bound, and until each Ruler has evaluated after it and after Receive
 * had the crossing. Returns what was read then; the tests judge it.
 */
export async function prepareArch3(t: RunningTopology, log: (line: string) => void): Promise<Arch3Run> {
  const { liveFromMs } = await goLive(t);
  const receiveHadDataAt = await waitForReceiveUpTo(t, liveFromMs, log);
  const bound = alertLatencyBound(t.topology, ALERT.name);
  const paths = { faulty: alertingPath(t, 'faulty'), fixed: alertingPath(t, 'fixed') };

  const before = await byPath(async (p) => ({ alerts: await paths[p].alertmanager.alerts(), evaluations: await ruleEvaluations(paths[p]) }));
  const crossingAt = await crossThreshold(t, log);
  const deadline = crossingAt + bound.totalMs;
  // Receive's count is a conservative signal: it also waits for the agent's next scrape, so it
  // tells that the crossing was in Receive, not how soon.
  const [seen, receiveHadCrossingAt] = await Promise.all([
    byPath((p) => watchForAlert(paths[p].alertmanager, deadline)),
    waitForReceiveUpTo(t, crossingAt, log),
  ]);
  const judgedFrom = Math.max(deadline, receiveHadCrossingAt);
  const after = await byPath((p) => waitForEvaluationAfter(paths[p], judgedFrom, log));
  const readings = (p: Arch3Path): PathReadings => ({
    alertsBeforeCrossing: before[p].alerts,
    evaluationsBeforeCrossing: before[p].evaluations,
    seen: seen[p],
    evaluationsAfterWindow: after[p],
  });

  return {
    t,
    liveFromMs,
    receiveHadDataAt,
    bound,
    agent: new PromApiClient(t.url(AGENT)),
    paths,
    crossingAt,
    deadline,
    receiveHadCrossingAt,
    readings: { faulty: readings('faulty'), fixed: readings('fixed') },
  };
}

/**
 * Gives series 0 the crossing value from the next grid slot on and returns that slot (ms). First
 * waits until the agent is caught up, so that it is served the slot at its first scrape after it.
 */
export async function crossThreshold(t: RunningTopology, log: (line: string) => void): Promise<number> {
  const step = t.workload.workload.stepMs;
  await waitForLiveUpTo(t, [AGENT], alignDown(Date.now(), step) - step, log);
  // At least a second ahead: the exporter must not have served the slot when the override is set.
  const crossingAt = alignUp(Date.now() + 1_000, step);
  await t.workload.setOverride(ALERT.series, crossingAt, ALERT.crossingValue);
  return crossingAt;
}

/** A Ruler's own account of its evaluations (its /metrics). */
export async function ruleEvaluations(path: AlertingPath): Promise<RuleEvaluations> {
  const text = await path.ruler.metrics();
  const last = metricValue(text, 'prometheus_rule_group_last_evaluation_timestamp_seconds');
  return {
    evaluations: metricSum(text, 'prometheus_rule_evaluations_total') ?? 0,
    failures: metricSum(text, 'prometheus_rule_evaluation_failures_total') ?? 0,
    lastEvaluationMs: last === undefined ? 0 : Math.floor(last * 1000),
  };
}

/** Precondition: the Ruler has started a group evaluation at or after fromMs. */
export async function waitForEvaluationAfter(path: AlertingPath, fromMs: number, log: (line: string) => void): Promise<RuleEvaluations> {
  // Its one rule group's last evaluation, in seconds (floor(x * 1000) >= fromMs exactly when x >= fromMs / 1000).
  await waitSumMetrics(path.rulerInstance, path.ruler.baseUrl, greaterOrEqual(fromMs / 1000), 'prometheus_rule_group_last_evaluation_timestamp_seconds', {
    timeoutMs: Math.max(0, fromMs - Date.now()) + 60_000,
    intervalMs: 250,
    onProgress: log,
  });
  return await ruleEvaluations(path);
}

/**
 * The measurement itself: reads Alertmanager's alerts until one named ALERT.name is listed or the
 * deadline passes. Returns what was listed then and when the answer came back, or undefined.
 */
export async function watchForAlert(alertmanager: AlertmanagerClient, deadlineMs: number): Promise<SeenAlert | undefined> {
  for (;;) {
    const alerts = await alertmanager.alerts();
    const seenAtMs = Date.now();
    const alert = alerts.find((a) => a.labels.alertname === ALERT.name);
    if (alert) return { alerts, alert, seenAtMs };
    if (seenAtMs >= deadlineMs) return undefined;
    await new Promise((resolve) => setTimeout(resolve, Math.min(ALERTMANAGER_POLL_MS, deadlineMs - seenAtMs)));
  }
}
