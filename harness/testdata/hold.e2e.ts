// Not a scenario: scenarios/teardown.e2e.ts runs this file in a vitest of its own
// (harness/testdata/vitest.config.ts) and signals or kills that runner from outside. Its setup
// waits on something that cannot happen within the wait: Store loads no block, because nothing
// has been written (a sidecar ships its first block after 2h). It ends when the wait times out,
// when the runner is stopped, or at once when the Store exits.
import { expect, it } from 'vitest';
import { greaterOrEqual, waitSumMetrics } from '../promql/wait-metrics.ts';
import { log, useTopology } from '../scenario.ts';
import { presetByName } from '../presets/index.ts';
import { HOLD_COMPONENT, HOLD_PRESET } from './hold.ts';

const run = useTopology(presetByName(HOLD_PRESET), async (t) => {
  log(`holding ${t.runDir}`);
  return await waitSumMetrics(HOLD_COMPONENT, t.url(HOLD_COMPONENT), greaterOrEqual(1), 'thanos_bucket_store_blocks_loaded', { timeoutMs: 60_000, onProgress: log });
});

it('holds the topology until the runner is stopped', () => {
  expect(run()).toBeGreaterThanOrEqual(1);
});
