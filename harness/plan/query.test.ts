import { describe, expect, it } from 'vitest';
import { linkCut } from '../presets/link-cut.ts';
import { fakeAddressing as addressing } from './fake-addressing.ts';
import { planTopology } from './index.ts';
import { queryTimeouts } from './query.ts';

describe('queryTimeouts', () => {
  const preset = linkCut();
  const plan = planTopology(preset.topology, addressing);
  const planOf = (ref: string) => plan.processes.find((p) => p.component === ref)!;

  it("reads Thanos' defaults where the plan sets no timeout (the note's Query)", () => {
    const args = planOf(preset.paths.plain.query.ref).args;
    expect(args.filter((a) => /^--(query|store\.response|endpoint\.info)-?\.?timeout/.test(a))).toEqual([]);
    expect(queryTimeouts(planOf(preset.paths.plain.query.ref))).toEqual({ queryMs: 120_000, storeResponseMs: 0, endpointInfoMs: 5_000 });
  });

  it('plans a store response timeout and a query timeout as their flags, once each, and reads them back', () => {
    const strict = planOf(preset.paths.strict.query.ref);
    expect(strict.args.filter((a) => a.startsWith('--store.response-timeout='))).toEqual(['--store.response-timeout=3s']);
    expect(queryTimeouts(strict)).toEqual({ queryMs: 120_000, storeResponseMs: 3_000, endpointInfoMs: 5_000 });
    expect(queryTimeouts({ args: ['--query.timeout=1m30s'] })).toMatchObject({ queryMs: 90_000 });
  });
});
