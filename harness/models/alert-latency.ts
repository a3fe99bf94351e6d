// How long an alert may take to travel agent -> Receive -> Query -> Ruler -> Alertmanager (Arch 3):
// the bound the central-alerting scenario judges both alerting paths by, from the topology alone.
import { parse } from 'yaml';
import { durationMs } from '../time.ts';
import { scrapeIntervalOf, type Topology } from '../topology/model.ts';

/** Prometheus' default queue_config.batch_send_deadline, where the topology does not set one. */
export const REMOTE_WRITE_BATCH_DEADLINE_MS = 5_000;

export interface AlertLatencyBound {
  scrapeIntervalMs: number;
  batchSendDeadlineMs: number;
  evaluationIntervalMs: number;
  marginMs: number;
  totalMs: number;
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
 * Every Ruler of the topology must evaluate the alert at the same interval: both paths get one bound.
 */
export function alertLatencyBound(topology: Topology, alertName: string): AlertLatencyBound {
  const agent = topology.components.find((c) => c.kind === 'prometheus' && c.mode === 'agent');
  const rulers = topology.components.filter((c) => c.kind === 'ruler');
  if (agent?.kind !== 'prometheus' || rulers.length === 0) throw new Error(`topology ${topology.name} has no agent-mode Prometheus and Ruler`);
  const intervals = new Set(
    rulers.map((ruler) => {
      const groups = (parse(ruler.rules) as { groups: { interval?: string; rules: { alert?: string }[] }[] }).groups;
      const group = groups.find((g) => g.rules.some((r) => r.alert === alertName));
      if (!group) throw new Error(`the Ruler ${ruler.name} of ${topology.name} has no rule "${alertName}"`);
      return durationMs(group.interval ?? ruler.evalInterval);
    }),
  );
  if (intervals.size !== 1) throw new Error(`the Rulers of ${topology.name} evaluate "${alertName}" at different intervals: one bound cannot judge them all`);
  const [evaluationIntervalMs] = [...intervals] as [number];
  const scrapeIntervalMs = durationMs(scrapeIntervalOf(agent, topology));
  const batchSendDeadlineMs = agent.remoteWriteBatchSendDeadline ? durationMs(agent.remoteWriteBatchSendDeadline) : REMOTE_WRITE_BATCH_DEADLINE_MS;
  const marginMs = evaluationIntervalMs;
  return {
    scrapeIntervalMs,
    batchSendDeadlineMs,
    evaluationIntervalMs,
    marginMs,
    totalMs: scrapeIntervalMs + batchSendDeadlineMs + evaluationIntervalMs + marginMs,
  };
}
