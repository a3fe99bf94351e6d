import { describe, expect, it } from 'vitest';
import { arch3, arch1 } from '../topology/presets.ts';
import { alertLatencyBound } from './arch3.ts';

describe('alertLatencyBound', () => {
  it("adds the agent's scrape interval, the batch deadline, the rule group's interval and one more interval of margin", () => {
    for (const variant of ['ruler-through-query', 'ruler-without-receive'] as const) {
      expect(alertLatencyBound(arch3(variant))).toEqual({
        scrapeIntervalMs: 5_000,
        batchSendDeadlineMs: 5_000,
        evaluationIntervalMs: 5_000,
        marginMs: 5_000,
        totalMs: 20_000,
      });
    }
  });

  it('refuses a topology without an agent and a Ruler', () => {
    expect(() => alertLatencyBound(arch1('store-only'))).toThrow(/no agent-mode Prometheus and Ruler/);
  });
});
