import { describe, expect, it } from 'vitest';
import { validateTopology } from '../topology/model.ts';
import { arch3 } from '../presets/arch3.ts';
import { arch1 } from '../presets/arch1.ts';
import { alertLatencyBound } from './alert-latency.ts';
const ALERT = 'WorkloadAboveThreshold';

describe('alertLatencyBound', () => {
  it("adds the agent's scrape interval, its batch send deadline, the rule group's interval and one more interval of margin", () => {
    expect(alertLatencyBound(arch3().topology, ALERT)).toEqual({
      scrapeIntervalMs: 500,
      batchSendDeadlineMs: 1_000,
      evaluationIntervalMs: 1_000,
      marginMs: 1_000,
      totalMs: 3_500,
    });
  });

  it("takes Prometheus' default batch send deadline (5s) and the scrape interval from the topology", () => {
    const topology = arch3().topology;
    const agent = topology.components.find((c) => c.kind === 'prometheus')!;
    const slower = validateTopology({
      ...topology,
      grid: '15s',
      components: topology.components.map((c) => (c === agent ? { ...agent, remoteWriteBatchSendDeadline: undefined, scrapeInterval: '5s' } : c)),
    });
    expect(alertLatencyBound(slower, ALERT)).toMatchObject({ scrapeIntervalMs: 5_000, batchSendDeadlineMs: 5_000, totalMs: 12_000 });
  });

  it('refuses Rulers that evaluate the alert at different intervals', () => {
    const topology = arch3().topology;
    const first = topology.components.find((c) => c.kind === 'ruler');
    if (first?.kind !== 'ruler') throw new Error('arch3().topology has no Ruler');
    const mixed = validateTopology({
      ...topology,
      components: topology.components.map((c) => (c === first ? { ...first, rules: first.rules.replace('interval: 1s', 'interval: 2s') } : c)),
    });
    expect(() => alertLatencyBound(mixed, ALERT)).toThrow(/different intervals/);
  });

  it('refuses a topology without an agent and a Ruler', () => {
    expect(() => alertLatencyBound(arch1('store-only').topology, ALERT)).toThrow(/no agent-mode Prometheus and Ruler/);
  });
});
