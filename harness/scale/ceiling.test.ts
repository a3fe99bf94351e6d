import { describe, expect, it } from 'vitest';
import { parseMetrics } from '../promql/metrics.ts';
import {
  bucketDelta,
  bucketsOf,
  ceilingOf,
  ceilingRatio,
  DEFAULT_STEP_SECONDS,
  histogramQuantile,
  judgeReceiveStep,
  judgeScrapeStep,
  nextStep,
  parseCeilingArgs,
  RECEIVE_PLAN,
  SCRAPE_PLAN,
  shareWithin,
  type ReceiveStepFigures,
  type ScrapeStepFigures,
  type StepCore,
  type StepOutcome,
} from './ceiling.ts';
import { describeRatio } from './ceiling-report.ts';
import { ceilingPrometheus, ceilingReceive, ceilingReceiveRing } from '../presets/ceiling.ts';

describe('the command line', () => {
  it('defaults to every rig, in order, at the default hold', () => {
    expect(parseCeilingArgs(['--ceiling'])).toEqual({ stepSeconds: DEFAULT_STEP_SECONDS, rigs: ['receive', 'receive-rf3', 'prometheus'] });
  });

  it('takes a shorter hold and a subset of the rigs, always Receive first', () => {
    expect(parseCeilingArgs(['--ceiling', '--ceiling-step-seconds', '8', '--ceiling-rigs', 'prometheus,receive'])).toEqual({ stepSeconds: 8, rigs: ['receive', 'prometheus'] });
  });

  it('names the fix in one line for bad input', () => {
    expect(() => parseCeilingArgs(['--ceiling', '--ceiling-step-seconds', '2'])).toThrow(/whole seconds from 5 to 300/);
    expect(() => parseCeilingArgs(['--ceiling', '--ceiling-step-seconds', '1.5'])).toThrow(/whole seconds/);
    expect(() => parseCeilingArgs(['--ceiling', '--ceiling-rigs', 'receive,ring'])).toThrow(/choose among receive, receive-rf3, prometheus/);
    expect(() => parseCeilingArgs(['--ceiling', '--series', '10k'])).toThrow(/--series.*--ceiling takes/);
    for (const args of [['--ceiling', '--bogus'], ['--ceiling', '--ceiling-rigs', '']]) {
      try {
        parseCeilingArgs(args);
        expect.unreachable();
      } catch (err) {
        expect((err as Error).message).not.toContain('\n');
      }
    }
  });
});

describe('the step plan', () => {
  const step = (target: number, verdict: StepOutcome['verdict'], refinement = false): StepOutcome => ({ target, verdict, refinement });

  it('starts at the plan start and doubles while steps pass, up to the plan maximum', () => {
    expect(nextStep(RECEIVE_PLAN, [])).toEqual({ target: 25_000, refinement: false });
    expect(nextStep(RECEIVE_PLAN, [step(25_000, 'pass'), step(50_000, 'pass')])).toEqual({ target: 100_000, refinement: false });
    expect(nextStep(RECEIVE_PLAN, [step(1_600_000, 'pass')])).toBeUndefined();
  });

  it('after the first failure, tries once between the last pass and it, then stops', () => {
    const done = [step(100_000, 'pass'), step(200_000, 'fail')];
    expect(nextStep(RECEIVE_PLAN, done)).toEqual({ target: 141_000, refinement: true });
    expect(nextStep(RECEIVE_PLAN, [...done, step(141_000, 'pass', true)])).toBeUndefined();
    expect(nextStep(RECEIVE_PLAN, [...done, step(141_000, 'fail', true)])).toBeUndefined();
    expect(nextStep(SCRAPE_PLAN, [step(8, 'pass'), step(16, 'fail')])).toEqual({ target: 11, refinement: true });
  });

  it('stops at a failing first step, and where no whole step lies between', () => {
    expect(nextStep(RECEIVE_PLAN, [step(25_000, 'fail')])).toBeUndefined();
    expect(nextStep(SCRAPE_PLAN, [step(1, 'pass'), step(2, 'fail')])).toBeUndefined();
  });

  it('stops at once at saturation, or when the generator, not the rig, was the limit', () => {
    expect(nextStep(RECEIVE_PLAN, [step(100_000, 'pass'), step(200_000, 'saturated')])).toBeUndefined();
    expect(nextStep(RECEIVE_PLAN, [step(100_000, 'pass'), step(200_000, 'generator-bound')])).toBeUndefined();
  });
});

describe("p99 from a histogram's buckets", () => {
  const exposition = (fast: number, slow: number, tail: number) => `
http_request_duration_seconds_bucket{code="200",handler="receive",method="post",le="0.1"} ${fast}
http_request_duration_seconds_bucket{code="200",handler="receive",method="post",le="1"} ${fast + slow}
http_request_duration_seconds_bucket{code="200",handler="receive",method="post",le="+Inf"} ${fast + slow + tail}
http_request_duration_seconds_bucket{code="500",handler="receive",method="post",le="0.1"} 0
http_request_duration_seconds_bucket{code="500",handler="receive",method="post",le="1"} 0
http_request_duration_seconds_bucket{code="500",handler="receive",method="post",le="+Inf"} 1
http_request_duration_seconds_bucket{code="200",handler="other",method="get",le="+Inf"} 500
`;
  const read = (text: string) => bucketsOf(parseMetrics(text), 'http_request_duration_seconds', { handler: 'receive' });

  it('sums the series of the handler by bound, and subtracts an earlier read', () => {
    const before = read(exposition(100, 0, 0));
    const after = read(exposition(1_090, 10, 0));
    expect(after).toEqual([
      { le: 0.1, count: 1_090 },
      { le: 1, count: 1_100 },
      { le: Infinity, count: 1_101 },
    ]);
    expect(bucketDelta(after, before)).toEqual([
      { le: 0.1, count: 990 },
      { le: 1, count: 1_000 },
      { le: Infinity, count: 1_000 },
    ]);
  });

  it("interpolates within the bucket as PromQL's histogram_quantile does", () => {
    const buckets = [
      { le: 0.1, count: 980 },
      { le: 1, count: 1_000 },
      { le: Infinity, count: 1_000 },
    ];
    // rank 990 lies halfway through the (0.1, 1] bucket's 20 observations.
    expect(histogramQuantile(0.99, buckets)).toBeCloseTo(0.55);
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.1 * (500 / 980));
    expect(shareWithin(1, buckets)).toBe(1);
  });

  it('gives the highest finite bound when the rank is in +Inf, and nothing for an empty step', () => {
    const slow = [
      { le: 0.1, count: 10 },
      { le: 1, count: 50 },
      { le: Infinity, count: 100 },
    ];
    expect(histogramQuantile(0.99, slow)).toBe(1);
    expect(shareWithin(1, slow)).toBe(0.5);
    expect(histogramQuantile(0.99, [{ le: Infinity, count: 0 }])).toBeUndefined();
    expect(shareWithin(0.5, slow)).toBeUndefined();
  });
});

describe('the verdict on a Receive step', () => {
  const kept: ReceiveStepFigures = { target: 100_000, achieved: 99_000, lostRequests: 0, appendMismatch: [], serverP99Seconds: 0.2, serverShareWithin1s: 1, blockedShare: 0, benchCpuCores: 0.4, machineBusyCores: 1.2, cores: 2 };

  it('passes when nothing was lost, every Receive appended it all, p99 is under 1 s and the target was met', () => {
    expect(judgeReceiveStep(kept)).toEqual({ verdict: 'pass' });
  });

  it('fails on a lost request, a Receive short of appends, or a slow p99, before asking about the rate', () => {
    expect(judgeReceiveStep({ ...kept, lostRequests: 2, firstError: 'HTTP 503: quorum' })).toEqual({ verdict: 'fail', reason: '2 request(s) not accepted (HTTP 503: quorum)' });
    expect(judgeReceiveStep({ ...kept, appendMismatch: ['receive-2 appended 98,000 of 100,000 accepted'] }).reason).toBe('receive-2 appended 98,000 of 100,000 accepted');
    expect(judgeReceiveStep({ ...kept, achieved: 50_000, blockedShare: 0.9, serverP99Seconds: 1.4, serverShareWithin1s: 0.97 })).toMatchObject({ verdict: 'fail', reason: expect.stringMatching(/p99 1\.40 s .*97\.0% within 1 s/) });
    // Without a 1 s bucket bound, the interpolated p99 decides.
    expect(judgeReceiveStep({ ...kept, serverShareWithin1s: undefined, serverP99Seconds: 0.99 }).verdict).toBe('pass');
    expect(judgeReceiveStep({ ...kept, serverShareWithin1s: undefined, serverP99Seconds: undefined }).verdict).toBe('fail');
  });

  it("calls a missed target saturation when Receive's answers held the connections: what it took counts", () => {
    expect(judgeReceiveStep({ ...kept, achieved: 80_000, blockedShare: 0.6 })).toEqual({ verdict: 'saturated', reason: 'took 80,000 of 100,000 samples/s: its answers held every connection 60% of the step' });
  });

  it('blames the generator for a missed target when it rarely waited for Receive, naming a full machine', () => {
    expect(judgeReceiveStep({ ...kept, achieved: 80_000, blockedShare: 0.02 })).toEqual({
      verdict: 'generator-bound',
      reason: 'the generator sent 80,000 of 100,000 samples/s using 0.40 cores, waiting for a connection 2% of the step',
    });
    expect(judgeReceiveStep({ ...kept, achieved: 80_000, blockedShare: 0.02, machineBusyCores: 1.96 }).reason).toMatch(/the machine's 2 cores were busy \(1\.96\), the rest was the rig's$/);
  });
});

describe('the verdict on a scrape step', () => {
  const kept: ScrapeStepFigures = {
    jobs: 4,
    intervalSeconds: 1,
    dueScrapes: 80,
    scrapes: 79,
    failedScrapes: 0,
    samplesPerScrape: 25_005,
    appendedSamples: 79 * 25_005,
    rejectedSamples: 0,
    p99ScrapeSeconds: 0.2,
    maxScrapeSeconds: 0.3,
    meanScrapeSeconds: 0.1,
    exporterScrapeSeconds: 0.02,
  };

  it('passes when no scrape failed, nothing was refused, the jobs kept their schedule and the head took what they brought', () => {
    expect(judgeScrapeStep(kept)).toEqual({ verdict: 'pass' });
    // A job's ticks against the window's edges are chance: one scrape a job short is not behind.
    expect(judgeScrapeStep({ ...kept, scrapes: 76, appendedSamples: 76 * 25_005 }).verdict).toBe('pass');
  });

  it('fails on failed scrapes, refused samples, a schedule fallen behind, slow scrapes or a short head, naming the exporter when it dominated', () => {
    expect(judgeScrapeStep({ ...kept, failedScrapes: 3, p99ScrapeSeconds: 1, maxScrapeSeconds: 1, meanScrapeSeconds: 0.8, exporterScrapeSeconds: 0.6 }).reason).toBe(
      '3 of 79 scrapes failed, scrapes p99 1.00 s, slowest 1.00 s of a 1 s interval; the exporter alone took 0.60 s of a 0.80 s mean scrape: exporter-bound',
    );
    expect(judgeScrapeStep({ ...kept, failedScrapes: 3 }).reason).not.toContain('exporter');
    expect(judgeScrapeStep({ ...kept, rejectedSamples: 10 }).reason).toBe('10 scraped sample(s) refused');
    expect(judgeScrapeStep({ ...kept, scrapes: 75 }).reason).toBe('scrapes fell behind: 75 of 80 due, scrapes p99 0.20 s, slowest 0.30 s of a 1 s interval');
    // Late but not failed: the job's next scrape waited.
    expect(judgeScrapeStep({ ...kept, p99ScrapeSeconds: 1.2, maxScrapeSeconds: 1.4 }).reason).toBe('1% of scrapes or more took the whole interval, scrapes p99 1.20 s, slowest 1.40 s of a 1 s interval');
    expect(judgeScrapeStep({ ...kept, appendedSamples: 1_000_000 }).reason).toBe('appended 1,000,000 of 1,975,395 scraped samples');
  });
});

describe('what the steps come to', () => {
  const s = (target: number, achieved: number, verdict: StepCore['verdict'], reason?: string, refinement = false): StepCore => ({ target, achieved, verdict, reason, refinement, latencySeconds: target / 1e6 });
  const text = (t: number) => `${t} samples/s`;

  it('is the highest rate taken cleanly, a saturated step included, stopped by the lowest step that did not pass', () => {
    expect(ceilingOf([s(100, 99, 'pass'), s(200, 150, 'saturated', 'held')], text)).toEqual({ rate: 150, atLeast: false, latencySeconds: 200 / 1e6, stoppedBy: 'saturated at 200 samples/s: held' });
    const refined = [s(100, 99, 'pass'), s(200, 190, 'fail', 'lost'), s(141, 140, 'pass', undefined, true)];
    expect(ceilingOf(refined, text)).toEqual({ rate: 140, atLeast: false, latencySeconds: 141 / 1e6, stoppedBy: 'fail at 200 samples/s: lost' });
    expect(ceilingOf([s(100, 99, 'pass'), s(200, 190, 'fail', 'p99'), s(141, 120, 'fail', 'lost', true)], text)).toMatchObject({ rate: 99, stoppedBy: 'fail at 141 samples/s: lost' });
  });

  it('is a floor when the generator was the limit, or when every planned step passed', () => {
    expect(ceilingOf([s(100, 99, 'pass'), s(200, 170, 'generator-bound', 'busy')], text)).toMatchObject({ rate: 170, atLeast: true, stoppedBy: 'generator-bound at 200 samples/s: busy' });
    expect(ceilingOf([s(100, 99, 'pass')], text)).toMatchObject({ rate: 99, atLeast: true, stoppedBy: 'nothing: every planned step passed' });
    expect(ceilingOf([s(100, 50, 'fail', 'lost')], text)).toMatchObject({ rate: 0, atLeast: false });
  });

  it("gives Receive's ceiling over Prometheus', and says which side is a floor", () => {
    const exact = { rate: 200_000, atLeast: false, stoppedBy: '' };
    const floor = { rate: 100_000, atLeast: true, stoppedBy: '' };
    expect(ceilingRatio(exact, { ...exact, rate: 400_000 })).toBe(0.5);
    expect(ceilingRatio(exact, { ...exact, rate: 0 })).toBeUndefined();
    expect(describeRatio(exact, { ...exact, rate: 400_000 })).toBe('0.50');
    expect(describeRatio(floor, exact)).toBe('at least 0.50');
    expect(describeRatio(exact, floor)).toBe('at most 2.00');
    expect(describeRatio(floor, floor)).toMatch(/^1\.00 \(both figures are floors/);
  });
});

describe("the rigs' topologies", () => {
  it('one standalone Receive, and three in a hashring that each store every sample', () => {
    expect(ceilingReceive().components).toEqual([expect.objectContaining({ kind: 'receive', replicas: 1, mode: 'standalone', replicationFactor: 1 })]);
    expect(ceilingReceiveRing().components).toEqual([expect.objectContaining({ kind: 'receive', replicas: 3, mode: 'hashring', replicationFactor: 3 })]);
  });

  it('one server-mode Prometheus with no scrape job of its own: the bench gives it its jobs', () => {
    const t = ceilingPrometheus();
    expect(t.grid).toBe('1s');
    expect(t.components).toEqual([expect.objectContaining({ kind: 'prometheus', mode: 'server', scrapeWorkload: false, scrapeInterval: '1s', remoteWrite: [] })]);
  });
});
