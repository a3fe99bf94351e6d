// Arch 3 (agent mode, central alerting): the steps that bring a running topology to the states the
// scenario asserts on, and how long an alert may take to travel agent -> Receive -> Query -> Ruler
// -> Alertmanager. The rules are fixtures/rules/central-alerting.yml.
import { parse } from 'yaml';
import type { AlertmanagerAlert } from '../promql/alertmanager.ts';
import { AlertmanagerClient } from '../promql/alertmanager.ts';
import { PromApiClient } from '../promql/client.ts';
import { metricSum, metricValue } from '../promql/metrics.ts';
import { durationMs } from '../topology/duration.ts';
import type { RunningTopology } from '../substrates/index.ts';
import { scrapeIntervalOf, type Topology } from '../topology/model.ts';
import { waitFor } from '../wait.ts';
import { goLive, waitForLiveUpTo } from '../workload/populate.ts';
import { alignDown, alignUp } from '../workload/series.ts';

export const AGENT = 'observee/prometheus';
export const RECEIVE = 'observer/receive';
export const RULER = 'observer/ruler';
/** The Query the Ruler evaluates its rules through (Store only when faulty, Store + Receive when fixed). */
export const RULE_QUERY = 'observer/rule-query';
/** What users (Grafana) query: Store, Receive and the Ruler, behind the Query Frontend. */
export const USER_QUERY = 'observer/query';
export const QUERY_FRONTEND = 'observer/query-frontend';
export const ALERTMANAGER = 'observer/alertmanager';

/** The alerting rule of the fixture, and the value the scenario gives series 0 to cross it. */
export const ALERT = { name: 'WorkloadAboveThreshold', series: 0, threshold: 5e6, crossingValue: 6e6 } as const;
export const RECORDING_RULE = 'cluster:e2e_workload_value:count';

/** Prometheus' default queue_config.batch_send_deadline (the plan does not set it). */
export const REMOTE_WRITE_BATCH_DEADLINE_MS = 5_000;
const ALERTMANAGER_POLL_MS = 250;

export interface AlertLatencyBound {
  scrapeIntervalMs: number;
  batchSendDeadlineMs: number;
  evaluationIntervalMs: number;
  marginMs: number;
  totalMs: number;
}

export interface Arch3Run {
  t: RunningTopology;
  /** First grid slot the exporter served (no history: an agent takes no backfill). */
  liveFromMs: number;
  /** When Receive had appended everything the agent stored up to liveFromMs. */
  receiveHadDataAt: number;
  bound: AlertLatencyBound;
  agent: PromApiClient;
  ruler: PromApiClient;
  ruleQuery: PromApiClient;
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


/**
 * The longest an alert may take from the moment the exporter first serves the crossing value
 * until Alertmanager lists it:
 * - scrape interval: the agent's next scrape comes at most one interval later;
 * - batch send deadline: the agent's WAL watcher is notified on every commit, but a shard sends only
 *   when a batch is full (2000 samples; a scrape brings 15) or when the deadline expires;
 * - the rule group's evaluation interval: the first evaluation after Receive appended sees it;
 *   `for: 0s` fires in that evaluation, which hands the alert to the Ruler's sender at once;
 * - a margin of one more evaluation interval: each hop (remote-write request, Receive's append,
 *   Query's fan-out, the alert POST) takes milliseconds, but this 2-core machine runs other
 *   topologies at the same time, and an evaluation that runs late is caught by the next one.
 * Alertmanager's group_wait is not part of it: it delays notifications, while GET /api/v2/alerts
 * lists an alert as soon as it is received (its status is computed when read).
 */
export function alertLatencyBound(topology: Topology): AlertLatencyBound {
  const agent = topology.components.find((c) => c.kind === 'prometheus' && c.mode === 'agent');
  const ruler = topology.components.find((c) => c.kind === 'ruler');
  if (agent?.kind !== 'prometheus' || ruler?.kind !== 'ruler') throw new Error(`topology ${topology.name} has no agent-mode Prometheus and Ruler`);
  const groups = (parse(ruler.rules) as { groups: { interval?: string; rules: { alert?: string }[] }[] }).groups;
  const group = groups.find((g) => g.rules.some((r) => r.alert === ALERT.name));
  if (!group) throw new Error(`the Ruler of ${topology.name} has no rule "${ALERT.name}"`);
  const evaluationIntervalMs = durationMs(group.interval ?? ruler.evalInterval);
  const scrapeIntervalMs = durationMs(scrapeIntervalOf(agent, topology));
  const marginMs = evaluationIntervalMs;
  return {
    scrapeIntervalMs,
    batchSendDeadlineMs: REMOTE_WRITE_BATCH_DEADLINE_MS,
    evaluationIntervalMs,
    marginMs,
    totalMs: scrapeIntervalMs + REMOTE_WRITE_BATCH_DEADLINE_MS + evaluationIntervalMs + marginMs,
  };
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
  await waitFor(
    `Receive to append the ${appended} samples the agent stored up to ${new Date(untilMs).toISOString()}`,
    async (note) => {
      const received = metricSum(await metricsOf(t, RECEIVE), 'prometheus_tsdb_head_samples_appended_total', { tenant: tenant.defaultTenant }) ?? 0;
      note(`${received} appended`);
      return received >= appended ? received : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250, onProgress: log },
  );
  return Date.now();
}

/** The agent goes live (no history), and Receive has its first samples. */
export async function prepareArch3(t: RunningTopology, log: (line: string) => void): Promise<Arch3Run> {
  const { liveFromMs } = goLive(t);
  const receiveHadDataAt = await waitForReceiveUpTo(t, liveFromMs, log);
  return {
    t,
    liveFromMs,
    receiveHadDataAt,
    bound: alertLatencyBound(t.topology),
    agent: new PromApiClient(t.url(AGENT)),
    ruler: new PromApiClient(t.url(RULER)),
    ruleQuery: new PromApiClient(t.url(RULE_QUERY)),
    query: new PromApiClient(t.url(USER_QUERY)),
    frontend: new PromApiClient(t.url(QUERY_FRONTEND)),
    alertmanager: new AlertmanagerClient(t.url(ALERTMANAGER)),
  };
}

/**
 * Gives series 0 the crossing value from the next grid slot on and returns that slot (ms). First
 * waits until the agent is caught up, so that it is served the slot at its first scrape after it.
 */
export async function crossThreshold(run: Arch3Run, log: (line: string) => void): Promise<number> {
  const step = run.t.workload.workload.stepMs;
  await waitForLiveUpTo(run.t, [AGENT], alignDown(Date.now(), step) - step, log);
  // At least a second ahead: the exporter must not have served the slot when the override is set.
  const crossingAt = alignUp(Date.now() + 1_000, step);
  run.t.workload.setOverride(ALERT.series, crossingAt, ALERT.crossingValue);
  return crossingAt;
}

/** The Ruler's own account of its evaluations (its /metrics). */
export async function ruleEvaluations(run: Arch3Run): Promise<RuleEvaluations> {
  const text = await run.ruler.metrics();
  const last = metricValue(text, 'prometheus_rule_group_last_evaluation_timestamp_seconds');
  return {
    evaluations: metricSum(text, 'prometheus_rule_evaluations_total') ?? 0,
    failures: metricSum(text, 'prometheus_rule_evaluation_failures_total') ?? 0,
    lastEvaluationMs: last === undefined ? 0 : Math.floor(last * 1000),
  };
}

/** Precondition: the Ruler has started a group evaluation at or after fromMs. */
export async function waitForEvaluationAfter(run: Arch3Run, fromMs: number, log: (line: string) => void): Promise<RuleEvaluations> {
  return await waitFor(
    `the Ruler to evaluate its rules after ${new Date(fromMs).toISOString()}`,
    async (note) => {
      const e = await ruleEvaluations(run);
      note(`last evaluation ${new Date(e.lastEvaluationMs).toISOString()}`);
      return e.lastEvaluationMs >= fromMs ? e : undefined;
    },
    { timeoutMs: Math.max(0, fromMs - Date.now()) + 60_000, intervalMs: 250, onProgress: log },
  );
}

/**
 * The measurement itself: reads Alertmanager's alerts until one named ALERT.name is listed or the
 * deadline passes. Returns what was listed then and when the answer came back, or undefined.
 */
export async function watchForAlert(
  run: Arch3Run,
  deadlineMs: number,
): Promise<{ alerts: AlertmanagerAlert[]; alert: AlertmanagerAlert; seenAtMs: number } | undefined> {
  for (;;) {
    const alerts = await run.alertmanager.alerts();
    const seenAtMs = Date.now();
    const alert = alerts.find((a) => a.labels.alertname === ALERT.name);
    if (alert) return { alerts, alert, seenAtMs };
    if (seenAtMs >= deadlineMs) return undefined;
    await new Promise((resolve) => setTimeout(resolve, Math.min(ALERTMANAGER_POLL_MS, deadlineMs - seenAtMs)));
  }
}
