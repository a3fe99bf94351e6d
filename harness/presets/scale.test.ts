import { describe, expect, it } from 'vitest';
import { scaleSweep, SCALE_SWEEP } from './scale.ts';

describe('the scale sweep topology', () => {
  const t = scaleSweep();

  it("gives each path's frontend a results cache, which the sweep's cached latency reads", () => {
    const frontends = t.components.filter((c) => c.kind === 'query-frontend');
    expect(frontends.map((f) => f.name).sort()).toEqual([`${SCALE_SWEEP.viaReceive}-frontend`, `${SCALE_SWEEP.viaSidecar}-frontend`]);
    for (const f of frontends) expect(f.kind === 'query-frontend' && f.resultsCache, f.name).toMatchObject({ maxFreshness: '1m' });
  });

  it('runs the cluster shape, one scrape per slot and the default remote-write queue', () => {
    expect(t.workload).toMatchObject({ shape: 'cluster' });
    const prometheus = t.components.find((c) => c.kind === 'prometheus')!;
    expect(prometheus).toMatchObject({ replicas: 2, remoteWrite: [SCALE_SWEEP.receive] });
    expect(prometheus.kind === 'prometheus' && prometheus.scrapeInterval).toBeUndefined();
    expect(prometheus.kind === 'prometheus' && prometheus.remoteWriteBatchSendDeadline).toBeUndefined();
  });
});
