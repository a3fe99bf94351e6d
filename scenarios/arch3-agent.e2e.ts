// Arch 3 (agent mode), FINDINGS.md F: "central alerting through Ruler -> Query -> Receive ->
// Alertmanager"; agent mode answers no queries.
//
// The observee runs Prometheus as an agent: it scrapes the workload and remote-writes to the
// observer's Receive, and keeps nothing it could answer from. Alerting therefore has to happen in
// the observer: the Ruler evaluates the rules through a Query and sends to Alertmanager. That Query
// must read Receive: the agent's samples are only in Receive's TSDB until Receive ships a 2h block
// to S3, so a Ruler whose Query reads only Store (the faulty path) evaluates on nothing and stays
// silent for hours after the threshold was crossed.
//
// One bring-up, one crossing, both paths: same agent, Receive, Store, rules and crossing; only the
// Ruler's Query endpoints differ, which is the note's point. Each path has its own Ruler,
// Alertmanager and users' Query + frontend, so that neither the faulty Alertmanager's "no alert"
// nor its "no recording rule" can be answered by the fixed Ruler (a shared Alertmanager would hold
// the fixed alert, and a Query over both Rulers would deduplicate their recording rules into one).
import { describe, expect, it } from 'vitest';
import { alertLatencyBound, type AlertLatencyBound } from '../harness/models/alert-latency.ts';
import { WORKLOAD_JOB } from '../harness/plan/prometheus.ts';
import { arch3, ARCH3_PATHS, type Arch3Path } from '../harness/presets/arch3.ts';
import { tenantOf } from '../harness/presets/handles.ts';
import { AlertmanagerClient, type AlertmanagerAlert } from '../harness/promql/alertmanager.ts';
import { PromApiClient, PromApiError, type QueryResponse, type Rule } from '../harness/promql/client.ts';
import { metricSum, metricValue } from '../harness/promql/metrics.ts';
import { greaterOrEqual, waitForStores, waitSumMetrics } from '../harness/promql/wait-metrics.ts';
import { recordFinding } from '../harness/report/findings.ts';
import { TRADE_OFFS } from '../harness/report/trade-offs.ts';
import { log, useTopology } from '../harness/scenario.ts';
import { goLive, waitForLiveUpTo } from '../harness/steps/live.ts';
import type { RunningTopology } from '../harness/substrates/index.ts';
import { alignDown, alignUp, iso } from '../harness/time.ts';
import { waitFor, WaitTimeout } from '../harness/wait.ts';

const preset = arch3();
const TOPOLOGY = preset.topology;
/** The cluster the agent's series carry (its external labels cluster, cluster_name, origin_prometheus). */
const OBSERVEE = preset.observee;

/** The alerting rule of the fixture, and the value the scenario gives series 0 to cross it. */
const ALERT = { name: 'WorkloadAboveThreshold', series: 0, threshold: 5e6, crossingValue: 6e6 } as const;
const RECORDING_RULE = 'cluster:e2e_workload_value:count';

/**
 * Series Prometheus writes per scrape target besides what the target exposes: up,
 * scrape_duration_seconds, scrape_samples_scraped, scrape_samples_post_metric_relabeling and
 * scrape_series_added (more only with --enable-feature=extra-scrape-metrics, which the plan does not set).
 */
const SERIES_PER_SCRAPE_TARGET = 5;

const ALERTMANAGER_POLL_MS = 250;

/** One alerting path: its Ruler, the Query the Ruler evaluates through, its Alertmanager, and what users query. */
interface AlertingPath {
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

interface RuleEvaluations {
  /** prometheus_rule_evaluations_total: one per rule per group evaluation. */
  evaluations: number;
  failures: number;
  /** Wall-clock start of the group's last evaluation (ms); its samples carry a timestamp at or just before it. */
  lastEvaluationMs: number;
}

interface SeenAlert {
  /** Everything Alertmanager listed in the answer that first had the alert. */
  alerts: AlertmanagerAlert[];
  alert: AlertmanagerAlert;
  /** When that answer came back (ms). */
  seenAtMs: number;
}

/** What one path showed around the crossing. */
interface PathReadings {
  alertsBeforeCrossing: AlertmanagerAlert[];
  evaluationsBeforeCrossing: RuleEvaluations;
  /** The first Alertmanager answer listing ALERT.name, if one came by the deadline. */
  seen: SeenAlert | undefined;
  /** At the first evaluation that started after both the deadline and Receive having the crossing. */
  evaluationsAfterWindow: RuleEvaluations;
}

interface Arch3Run {
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
async function waitForReceiveUpTo(t: RunningTopology, untilMs: number, log: (line: string) => void): Promise<number> {
  await waitForLiveUpTo(t, [...preset.agent.instances], untilMs, log);
  const appended = metricSum(await metricsOf(t, preset.agent.ref), 'prometheus_agent_samples_appended_total') ?? 0;
  await waitSumMetrics(preset.receive.ref, t.url(preset.receive.ref), greaterOrEqual(appended), 'prometheus_tsdb_head_samples_appended_total', {
    labels: { tenant: tenantOf(preset.receive) },
    timeoutMs: 60_000,
    intervalMs: 250,
    onProgress: log,
  });
  return Date.now();
}

function alertingPath(t: RunningTopology, path: Arch3Path): AlertingPath {
  const h = preset.paths[path];
  const client = (ref: string) => new PromApiClient(t.url(ref));
  return {
    rulerInstance: h.ruler.ref,
    ruler: client(h.ruler.ref),
    ruleQuery: client(h.ruleQuery.ref),
    query: client(h.users.query.ref),
    frontend: client(h.users.frontend.ref),
    alertmanager: new AlertmanagerClient(t.url(h.alertmanager.ref)),
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
async function prepareArch3(t: RunningTopology): Promise<Arch3Run> {
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
    agent: new PromApiClient(t.url(preset.agent.ref)),
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
async function crossThreshold(t: RunningTopology, log: (line: string) => void): Promise<number> {
  const step = t.workload.workload.stepMs;
  await waitForLiveUpTo(t, [...preset.agent.instances], alignDown(Date.now(), step) - step, log);
  // At least a second ahead: the exporter must not have served the slot when the override is set.
  const crossingAt = alignUp(Date.now() + 1_000, step);
  await t.workload.setOverride(ALERT.series, crossingAt, ALERT.crossingValue);
  return crossingAt;
}

/** A Ruler's own account of its evaluations (its /metrics). */
async function ruleEvaluations(path: AlertingPath): Promise<RuleEvaluations> {
  const text = await path.ruler.metrics();
  const last = metricValue(text, 'prometheus_rule_group_last_evaluation_timestamp_seconds');
  return {
    evaluations: metricSum(text, 'prometheus_rule_evaluations_total') ?? 0,
    failures: metricSum(text, 'prometheus_rule_evaluation_failures_total') ?? 0,
    lastEvaluationMs: last === undefined ? 0 : Math.floor(last * 1000),
  };
}

/** Precondition: the Ruler has started a group evaluation at or after fromMs. */
async function waitForEvaluationAfter(path: AlertingPath, fromMs: number, log: (line: string) => void): Promise<RuleEvaluations> {
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
async function watchForAlert(alertmanager: AlertmanagerClient, deadlineMs: number): Promise<SeenAlert | undefined> {
  const probe = async (): Promise<SeenAlert | undefined> => {
    const alerts = await alertmanager.alerts();
    const alert = alerts.find((a) => a.labels.alertname === ALERT.name);
    return alert ? { alerts, alert, seenAtMs: Date.now() } : undefined;
  };
  try {
    return await waitFor(`${ALERT.name} listed by Alertmanager`, probe, { timeoutMs: Math.max(0, deadlineMs - Date.now()), intervalMs: ALERTMANAGER_POLL_MS });
  } catch (err) {
    // Not listed by the deadline: the measurement's answer, which the tests judge.
    if (err instanceof WaitTimeout) return undefined;
    throw err;
  }
}

const run = useTopology(TOPOLOGY, prepareArch3);

const seconds = (ms: number) => +(ms / 1000).toFixed(2);

const SERIES_0 = `e2e_workload_value{series="${ALERT.series}"}`;
// Series 0 as the observer stores it: the workload's labels and the agent's external labels; the
// receive and replica labels are deduplicated away by Query.
const SERIES_0_LABELS = {
  __name__: 'e2e_workload_value',
  cluster: OBSERVEE,
  cluster_name: OBSERVEE,
  instance: 'workload-exporter',
  job: 'workload',
  origin_prometheus: OBSERVEE,
  series: String(ALERT.series),
};
// As Alertmanager gets it: the rule's output labels; the Ruler's only external label is its
// replica label, which the plan drops before sending (--alert.label-drop).
const ALERT_LABELS = { alertname: ALERT.name, cluster: OBSERVEE, severity: 'page' };

const vectorOf = (answer: QueryResponse) => {
  expect(answer.resultType).toBe('vector');
  return answer.resultType === 'vector' ? answer.result : [];
};

const alertingRule = async (path: AlertingPath): Promise<Rule> => {
  const rule = (await path.ruler.rules('alert')).flatMap((g) => g.rules).find((r) => r.name === ALERT.name);
  expect(rule, `the Ruler has the rule ${ALERT.name}`).toBeDefined();
  return rule!;
};


describe('Arch 3, fixed: Ruler -> Query (Store + Receive) -> Alertmanager (finding F)', () => {
  it('the agent answers no queries and says it is an agent', async () => {
    const { agent, t } = run();
    // Prometheus 3.9.1 web/api/v1: every query endpoint is wrapped to answer errorExec (HTTP 422) in agent mode.
    const error = await agent.query('up').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(PromApiError);
    expect((error as PromApiError).status).toBe(422);
    expect(JSON.parse((error as PromApiError).body)).toEqual({ status: 'error', errorType: 'execution', error: 'unavailable with Prometheus Agent' });

    // It reports the agent mode the plan started it in: the --agent flag from 3.0, a feature before (plan/prometheus.ts).
    const flags = await agent.status('flags');
    const planned = t.plan.processes.find((p) => p.id === preset.agent.ref)!.args;
    if (planned.includes('--agent')) expect(flags.agent).toBe('true');
    else expect(String(flags['enable-feature']).split(',')).toContain('agent');
    // No TSDB: its status page answers like the query endpoints. (Its runtimeinfo retention says
    // nothing: 3.9.1 reports "", 3.16.0 the 15d default it does not use.)
    const tsdb = await agent.status('tsdb').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect((tsdb as PromApiError).status).toBe(422);
    // Its one target is the workload exporter; in memory it holds the workload's series and the
    // series Prometheus adds for that target, nothing else.
    const { activeTargets } = await agent.targets('active');
    expect(activeTargets.map((target) => target.labels.job)).toEqual([WORKLOAD_JOB]);
    const metrics = await agent.metrics();
    expect(metricValue(metrics, 'prometheus_agent_active_series')).toBe(t.workload.workload.seriesCount + SERIES_PER_SCRAPE_TARGET * activeTargets.length);
    expect(metricValue(metrics, 'prometheus_tsdb_head_series')).toBeUndefined();
  });

  it('fires WorkloadAboveThreshold in Alertmanager within scrape + batch deadline + evaluation interval of the crossing', async () => {
    const { bound, crossingAt, deadline, paths, readings, t } = run();
    const { ruler, ruleQuery } = paths.fixed;
    const { alertsBeforeCrossing, seen, evaluationsBeforeCrossing, evaluationsAfterWindow } = readings.fixed;
    expect(alertsBeforeCrossing).toEqual([]);
    expect(seen, `no ${ALERT.name} in Alertmanager by ${iso(deadline)} (${seconds(bound.totalMs)}s after the crossing at ${iso(crossingAt)})`).toBeDefined();
    const { alerts, alert, seenAtMs } = seen!;

    expect(alerts).toHaveLength(1);
    expect(alert).toMatchObject({
      labels: ALERT_LABELS,
      annotations: { summary: `series 0 of cluster ${OBSERVEE} crossed 5e6` },
      state: 'active',
      silencedBy: [],
      inhibitedBy: [],
      receivers: ['harness'],
    });
    // Fired by the evaluation that saw the crossing (it queries at its own timestamp), and received before the deadline.
    expect(alert.startsAt).toBeGreaterThanOrEqual(crossingAt);
    expect(alert.updatedAt).toBeLessThanOrEqual(deadline);
    expect(alert.updatedAt).toBeGreaterThanOrEqual(alert.startsAt);
    expect(evaluationsAfterWindow.failures - evaluationsBeforeCrossing.failures).toBe(0);

    // The Ruler's own view, and the data it saw through its Query.
    expect(await ruler.alerts()).toEqual([
      // The value as Go formats 6e6 (%e-style), alerts' labels without the external label.
      expect.objectContaining({ labels: ALERT_LABELS, state: 'firing', value: '6e+06' }),
    ]);
    const seenByRuleQuery = await ruleQuery.query(SERIES_0, { time: crossingAt });
    expect(seenByRuleQuery.result).toEqual([{ metric: SERIES_0_LABELS, t: crossingAt, v: ALERT.crossingValue }]);

    const figures = {
      crossingAt: iso(crossingAt),
      boundSeconds: seconds(bound.totalMs),
      rulerFiredAfterSeconds: seconds(alert.startsAt - crossingAt),
      alertmanagerReceivedAfterSeconds: seconds(alert.updatedAt - crossingAt),
      seenAfterSeconds: seconds(seenAtMs - crossingAt),
      ruleEvaluationsInWindow: evaluationsAfterWindow.evaluations - evaluationsBeforeCrossing.evaluations,
    };
    log(
      `[${TOPOLOGY.name} fixed] ${ALERT.name} in Alertmanager ${figures.alertmanagerReceivedAfterSeconds}s after the crossing (Ruler fired at +${figures.rulerFiredAfterSeconds}s; bound ${figures.boundSeconds}s)`,
    );
    recordFinding({
      finding: 'F',
      scenario: 'arch3-agent',
      topology: TOPOLOGY.name,
      substrate: t.substrate,
      configuration: 'fixed',
      observed: `${ALERT.name}{cluster="${OBSERVEE}",severity="page"} active in Alertmanager ${figures.alertmanagerReceivedAfterSeconds}s after series 0 crossed 5e6 (bound ${figures.boundSeconds}s = scrape ${seconds(bound.scrapeIntervalMs)}s + batch deadline ${seconds(bound.batchSendDeadlineMs)}s + evaluation ${seconds(bound.evaluationIntervalMs)}s + margin ${seconds(bound.marginMs)}s); the agent answers queries with HTTP 422`,
      figures,
      plots: [
        {
          kind: 'bars',
          title: `Seconds from series 0's crossing to each step of ${ALERT.name} reaching Alertmanager, against the bound`,
          bars: [
            { label: 'Ruler fired (startsAt)', value: figures.rulerFiredAfterSeconds },
            { label: 'Alertmanager received', value: figures.alertmanagerReceivedAfterSeconds },
            { label: 'harness saw it', value: figures.seenAfterSeconds },
          ],
          reference: { label: 'bound', value: figures.boundSeconds },
          unit: 's',
        },
      ],
      tradeOff: {
        row: TRADE_OFFS.centralAlerting,
        cells: { 'Arch 3': `yes: the observer's Alertmanager had ${ALERT.name} ${figures.alertmanagerReceivedAfterSeconds}s after the crossing (Ruler's Query over Store + Receive; bound ${figures.boundSeconds}s)` },
      },
    });
  });

  it("serves the Ruler's recording rule through the Query Frontend: one series for cluster observee, counting every workload series", async () => {
    const { paths, receiveHadDataAt, t } = run();
    // Settled: an evaluation that started after Receive had all of the agent's series.
    const evaluated = await waitForEvaluationAfter(paths.fixed, receiveHadDataAt, log);
    const at = evaluated.lastEvaluationMs;
    // The users' Query skips an endpoint whose advertised data does not reach the query's time; it
    // re-reads the Ruler's (none before its first evaluation) every 5 s.
    await waitForStores(preset.paths.fixed.users.query.ref, paths.fixed.query, { type: 'rule', count: 1, covering: at }, { onProgress: log });
    const answer = await paths.fixed.frontend.query(`${RECORDING_RULE}{cluster="${OBSERVEE}"}`, { time: at });
    expect(answer.warnings).toEqual([]);
    // rule_replica, the Ruler's external label, is a replica label of Query: deduplicated away.
    const series = vectorOf(answer);
    expect(series).toEqual([{ metric: { __name__: RECORDING_RULE, cluster: OBSERVEE }, t: at, v: t.workload.workload.seriesCount }]);
    const recordingRuleValue = series[0]!.v;
    recordFinding({
      finding: 'F-recording',
      scenario: 'arch3-agent',
      topology: TOPOLOGY.name,
      substrate: t.substrate,
      configuration: 'fixed',
      observed: `${RECORDING_RULE}{cluster="${OBSERVEE}"} = ${recordingRuleValue} through the Query Frontend at the Ruler's evaluation of ${iso(at)}`,
      figures: { recordingRuleValue, evaluatedAt: iso(at), ruleEvaluations: evaluated.evaluations },
    });
  });
});

// The faulty counterpart keeps everything but Receive out of the Ruler's Query: the agent's samples
// are only in Receive until it ships a 2h block and Store syncs it, so such a Ruler would alert two to
// three hours late. Central alerting needs Ruler -> Query -> Receive.
describe('Arch 3, faulty: the Ruler queries a Query that reads only Store (finding F)', () => {
  it('sends no alert within the same bound: the Ruler evaluates on nothing', async () => {
    const { bound, crossingAt, deadline, paths, readings, t } = run();
    const { alertmanager, ruler, ruleQuery, query } = paths.faulty;
    const { alertsBeforeCrossing, seen, evaluationsBeforeCrossing: before, evaluationsAfterWindow: after } = readings.faulty;
    // The same crossing made the fixed path fire (judged above); here nothing may arrive.
    expect(alertsBeforeCrossing).toEqual([]);
    expect(seen?.alerts ?? [], `alerts in Alertmanager by the deadline ${iso(deadline)}`).toEqual([]);
    const alertsNow = await alertmanager.alerts();
    expect(alertsNow).toEqual([]);
    expect(after.evaluations).toBeGreaterThan(before.evaluations);
    // Judged over the window only: on Kubernetes the Ruler's Query needs a few refreshes to find
    // Store after the pods start, and the evaluations before that fail without saying anything here.
    expect(after.failures - before.failures).toBe(0);
    expect(await ruler.alerts()).toEqual([]);
    expect(await alertingRule(paths.faulty)).toMatchObject({ health: 'ok', state: 'inactive', alerts: [] });

    // The crossing is in the observer (the users' Query reads Receive), but not where the Ruler looks.
    expect((await query.query(SERIES_0, { time: crossingAt })).result).toEqual([{ metric: SERIES_0_LABELS, t: crossingAt, v: ALERT.crossingValue }]);
    expect((await ruleQuery.query(SERIES_0, { time: crossingAt })).result).toEqual([]);

    const figures = {
      crossingAt: iso(crossingAt),
      boundSeconds: seconds(bound.totalMs),
      judgedEvaluationAfterSeconds: seconds(after.lastEvaluationMs - crossingAt),
      ruleEvaluationsInWindow: after.evaluations - before.evaluations,
      alertsInAlertmanager: alertsNow.length,
    };
    log(
      `[${TOPOLOGY.name} faulty] no alert within ${figures.boundSeconds}s of the crossing, though it was in Receive; ${figures.ruleEvaluationsInWindow} rule evaluations through a Query that reads only Store, the last at +${figures.judgedEvaluationAfterSeconds}s`,
    );
    recordFinding({
      finding: 'F',
      scenario: 'arch3-agent',
      topology: TOPOLOGY.name,
      substrate: t.substrate,
      configuration: 'faulty',
      observed: `no alert in Alertmanager within ${figures.boundSeconds}s of series 0 crossing 5e6, though Receive had the sample and the users' Query shows it: ${figures.ruleEvaluationsInWindow} rule evaluations (the last at +${figures.judgedEvaluationAfterSeconds}s) through a Query that reads only Store`,
      figures,
      tradeOff: {
        row: TRADE_OFFS.centralAlerting,
        cells: { 'Arch 3': `only if the Ruler's Query reads Receive: through Store alone, no alert within ${figures.boundSeconds}s (${figures.ruleEvaluationsInWindow} evaluations on nothing)` },
      },
    });
  });

  it('records nothing: the recording rule has no input', async () => {
    const { paths, receiveHadDataAt, t } = run();
    const evaluated = await waitForEvaluationAfter(paths.faulty, receiveHadDataAt, log);
    const answer = await paths.faulty.frontend.query(`${RECORDING_RULE}{cluster="${OBSERVEE}"}`, { time: evaluated.lastEvaluationMs });
    const series = vectorOf(answer);
    expect(series).toEqual([]);
    // At the source: the Ruler has written no sample at all (no recording, no ALERTS series), so
    // it advertises no data, as read by the users' Query after that evaluation.
    const page = await waitForStores(preset.paths.faulty.users.query.ref, paths.faulty.query, { type: 'rule', count: 1, checkedAfter: evaluated.lastEvaluationMs }, { onProgress: log });
    expect(page.rule!.map((s) => [s.minTime, s.maxTime])).toEqual([['unbounded', 'unbounded']]);
    recordFinding({
      finding: 'F-recording',
      scenario: 'arch3-agent',
      topology: TOPOLOGY.name,
      substrate: t.substrate,
      configuration: 'faulty',
      observed: `${RECORDING_RULE}{cluster="${OBSERVEE}"} is absent through the Query Frontend: the Ruler's Query has no series to count`,
      figures: { recordingRuleSeries: series.length, evaluatedAt: iso(evaluated.lastEvaluationMs), ruleEvaluations: evaluated.evaluations },
    });
  });
});
