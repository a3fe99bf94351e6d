import { describe, expect, it } from 'vitest';
import { receiveHashringGrowth } from '../../presets/receive-hashring-growth.ts';
import { receiveIngesterLoss } from '../../presets/receive-ingester-loss.ts';
import { currentSubstrate } from '../index.ts';
import { kubernetesCannotRun } from './limits.ts';

describe('what the Kubernetes substrates refuse before deploying', () => {
  it('refuses a hashring that grows, in one line naming it; runs a ring that does not', () => {
    for (const variant of ['faulty', 'fixed'] as const) {
      const why = kubernetesCannotRun(receiveHashringGrowth(variant).topology);
      expect(why).toMatch(/^a hashring that grows \(observer\/receive\) runs on the process substrate only: /);
      expect(why).not.toContain('\n');
    }
    expect(kubernetesCannotRun(receiveIngesterLoss('fixed').topology)).toBeUndefined();
  });

  it('is what the seam says for kind, and nothing for process', () => {
    const growing = receiveHashringGrowth('fixed').topology;
    expect(currentSubstrate({ THANOS_HA_E2E_SUBSTRATE: 'kind' }).cannotRun(growing)).toBe(kubernetesCannotRun(growing));
    expect(currentSubstrate({ THANOS_HA_E2E_SUBSTRATE: 'process' }).cannotRun(growing)).toBeUndefined();
  });
});
