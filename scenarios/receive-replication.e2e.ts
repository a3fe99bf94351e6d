// Receive replication under node loss: one Prometheus remote-writes through a Service to a
// hashring of receives; the receive its connection goes to is killed while the workload runs,
// then restarted.
//
// Thanos 0.42.4 accepts a write once a quorum of the replication factor has stored it
// (pkg/receive/handler.go writeQuorum: RF=3 -> 2, RF=2 -> 1, a special case). So with one of three
// receives down (RF=3) every sample still lands on two; with one of two down (RF=2) on one only.
// Receive has no hinted handoff: the restarted receive never gets the samples written while it was
// down, which dedup=false shows as a gap on that replica and dedup=true hides. The copies are
// identical, so Query merges them with chain deduplication (exact); Thanos' default, penalty,
// can drop samples where it switches away from the replica with the gap: measured separately.
//
// The Service balances per connection and does not know the receive is dead (no readiness), so a
// new connection may go to it: Prometheus then gets a connection error and retries. What is
// asserted is what does not depend on that timing: nothing fails for good, every sample is
// delivered while the receive is down, nothing is missing after chain deduplication, the restarted
// replica's gap covers at least every sample stamped after the kill and delivered before the
// restart, and it stores new samples again. Retries and the gap's exact edges are measured.
import { describe, expect, it } from 'vitest';
import { FORWARD_TIMEOUT_MS, runReceiveOutage, type OutageRun, type Snapshot } from '../harness/flows/receive-replication.ts';
import { analyseRange, type RangeAnalysis } from '../harness/promql/analysis.ts';
import { recordFinding } from '../harness/report/findings.ts';
import { log, useTopology } from '../harness/scenario.ts';
import { receiveReplication } from '../harness/topology/presets.ts';
import { alignDown, alignUp } from '../harness/workload/series.ts';

const N = 10;
const iso = (ms: number) => new Date(ms).toISOString();
const seconds = (ms: number) => Math.round(ms / 1000);
const replicaName = (instance: string) => instance.split('/')[1]!;

async function analyse(run: OutageRun, dedup: boolean, query = run.query): Promise<RangeAnalysis> {
  const window = { start: run.liveFromMs, end: run.endMs, step: run.stepMs };
  const answer = await query.queryRange(run.t.workload.workload.metric, { ...window, dedup, partialResponse: false });
  expect(answer.warnings).toEqual([]);
  return analyseRange(answer.result, {
    workload: run.t.workload.workload,
    startMs: window.start,
    endMs: window.end,
    stepMs: window.step,
    coverage: [{ fromMs: window.start, toMs: window.end }],
  });
}

/** Sum of a per-receive counter over the receives that were up in both snapshots. */
function aliveDelta(run: OutageRun, from: Snapshot, to: Snapshot, pick: (c: NonNullable<Snapshot['receives'][string]>) => number): number {
  return run.receives
    .filter((r) => r !== run.victim)
    .reduce((sum, r) => sum + pick(to.receives[r]!) - pick(from.receives[r]!), 0);
}

const non200 = (byCode: Record<string, number>) => Object.entries(byCode).reduce((n, [code, v]) => n + (code === '200' ? 0 : v), 0);

describe.each([
  { receives: 3, rf: 3, quorum: 2 },
  { receives: 2, rf: 2, quorum: 1 },
])('hashring of $receives receives, replication factor $rf (write quorum $quorum): one receive killed and restarted', ({ receives, rf, quorum }) => {
  const topology = receiveReplication(receives, rf);
  let run: OutageRun;
  let penaltyMissingPoints: number | undefined;
  useTopology(topology, async (t) => {
    run = await runReceiveOutage(t, log);
  });

  it('keeps accepting remote write while the receive is down: nothing fails, everything is delivered', () => {
    const { beforeKill, beforeRestart } = run;
    const failed = beforeRestart.prometheus.samplesFailed - beforeKill.prometheus.samplesFailed;
    const retried = beforeRestart.prometheus.samplesRetried - beforeKill.prometheus.samplesRetried;
    const sent = beforeRestart.prometheus.samplesTotal - beforeKill.prometheus.samplesTotal;
    const victimIndex = run.receives.indexOf(run.victim);
    const connectionsToDead = beforeRestart.connections[victimIndex]! - beforeKill.connections[victimIndex]!;
    const replicationErrors = aliveDelta(run, beforeKill, beforeRestart, (c) => c.replicationError);
    const rejected = aliveDelta(run, beforeKill, beforeRestart, (c) => non200(c.requestsByCode));
    log(
      `[${topology.name}] outage ${iso(run.killedAtMs)} .. ${iso(run.restartedAtMs)}: Prometheus sent ${sent} samples (attempts), ${retried} retried, ${failed} failed; ` +
        `delivered up to ${iso(beforeRestart.prometheus.highestSentMs)}; Service connections ${beforeKill.connections.join('/')} -> ${beforeRestart.connections.join('/')} ` +
        `(${connectionsToDead} to the dead receive); alive receives: ${replicationErrors} replication errors, ${rejected} requests answered non-200`,
    );
    expect(failed).toBe(0);
    // Every sample Prometheus scraped during the outage was delivered before the restart.
    expect(beforeRestart.prometheus.highestSentMs).toBeGreaterThanOrEqual(run.outageUntilMs);
    // The alive receives answered every write with 200: the quorum was met without the dead one...
    expect(rejected).toBe(0);
    // ...though they did try to replicate to it.
    expect(replicationErrors).toBeGreaterThan(0);
  });

  it('loses no sample with dedup=true (chain) over the window including the outage', async () => {
    const analysis = await analyse(run, true);
    expect(analysis.series).toHaveLength(N);
    expect(analysis.summary, analysis.description).toMatchObject({ missingPoints: 0, wrongPoints: 0, repeatedTimestamps: 0, ok: true });
  });

  it("with Thanos' default penalty deduplication, loses at most samples inside the restarted receive's gap", async () => {
    // Penalty deduplication follows one replica and, when it switches to another at a gap, skips
    // that one's samples for twice the last interval. Which replica it starts with depends on the
    // order the receives answer in, so how much it loses varies; where it can lose does not.
    const penalty = await analyse(run, true, run.penaltyQuery);
    const perReplica = await analyse(run, false);
    const victimMissing = new Set(
      perReplica.series
        .filter((s) => s.labels.receive_replica === replicaName(run.victim))
        .flatMap((s) => s.missing.flatMap((m) => Array.from({ length: m.points }, (_, k) => `${s.index}@${m.startMs + k * run.stepMs}`))),
    );
    expect(penalty.series).toHaveLength(N);
    expect(penalty.summary.wrongPoints).toBe(0);
    const outside = penalty.series.flatMap((s) =>
      s.missing.flatMap((m) => Array.from({ length: m.points }, (_, k) => `${s.index}@${m.startMs + k * run.stepMs}`)).filter((key) => !victimMissing.has(key)),
    );
    expect(outside, penalty.description).toEqual([]);
    penaltyMissingPoints = penalty.summary.missingPoints;
    log(`[${topology.name}] penalty dedup: ${penalty.description}`);
  });

  it('shows with dedup=false that the restarted receive lacks the outage window and the others are complete', async () => {
    const analysis = await analyse(run, false);
    expect(analysis.series).toHaveLength(receives * N);
    expect(analysis.summary.wrongPoints).toBe(0);
    const victimLabel = replicaName(run.victim);
    const ofVictim = analysis.series.filter((s) => s.labels.receive_replica === victimLabel);
    const ofOthers = analysis.series.filter((s) => s.labels.receive_replica !== victimLabel);
    expect(ofVictim).toHaveLength(N);
    for (const s of ofOthers) expect(s.missing, `${s.labels.receive_replica} series ${s.index}`).toEqual([]);

    // Samples stamped after the kill whose write had completed (on the alive receives) longer than
    // the forward timeout before the restart began can never reach it: each series lacks all of them.
    const killSlot = alignUp(run.killedAtMs, run.stepMs);
    const surelyMissingUntil = alignDown(run.sent.sentBy(run.restartBeganAtMs - FORWARD_TIMEOUT_MS), run.stepMs);
    expect(surelyMissingUntil, 'samples delivered during the outage').toBeGreaterThan(killSlot);
    const surelyMissing = (surelyMissingUntil - killSlot) / run.stepMs + 1;
    for (const s of ofVictim) {
      const covering = s.missing.find((m) => m.startMs <= killSlot && m.endMs >= surelyMissingUntil);
      expect(covering, `${victimLabel} series ${s.index} lacks ${iso(killSlot)}..${iso(surelyMissingUntil)}: ${JSON.stringify(s.missing)}`).toBeDefined();
      // ...and it stores new samples again: the end of the window is there.
      expect(s.missing.every((m) => m.endMs < run.endMs)).toBe(true);
    }
    // The measured gap(s), the same for every series when all writes carry every series.
    const gaps = ofVictim[0]!.missing;
    const gapPoints = ofVictim[0]!.missingPoints;
    const gapText = gaps.map((m) => `${iso(m.startMs)}..${iso(m.endMs)} (${m.points})`).join(', ');

    // During the outage each sample lived on the alive receives only.
    const copiesDuringOutage = receives - 1;
    log(
      `[${topology.name}] ${victimLabel} lacks ${gapText}, ${gapPoints} points per series; surely lacks ${iso(killSlot)}..${iso(surelyMissingUntil)} (${surelyMissing}); ` +
        `killed ${iso(run.killedAtMs)}, restart began ${iso(run.restartBeganAtMs)}, ready ${iso(run.restartedAtMs)}; ${ofOthers.length / N} other replica(s) complete`,
    );
    const lastGap = gaps.at(-1)!;
    const retried = run.beforeRestart.prometheus.samplesRetried - run.beforeKill.prometheus.samplesRetried;
    const failed = run.beforeRestart.prometheus.samplesFailed - run.beforeKill.prometheus.samplesFailed;
    recordFinding({
      finding: 'R',
      scenario: 'receive-replication',
      topology: topology.name,
      substrate: run.t.substrate,
      configuration: rf >= 3 ? 'fixed' : 'faulty',
      observed:
        `${run.victim} killed for ${seconds(run.restartedAtMs - run.killedAtMs)}s under load: remote write kept succeeding (${failed} samples failed, ${retried} retried), ` +
        `dedup=true missing 0 points with chain deduplication (${penaltyMissingPoints ?? '?'} with the default penalty); dedup=false: ${victimLabel} lacks ${gapPoints} points per series (${gapText}), never backfilled; ` +
        `while it was down each sample was held by ${copiesDuringOutage} receive(s) (write quorum ${quorum} of ${rf})`,
      figures: {
        outageSeconds: seconds(run.restartedAtMs - run.killedAtMs),
        samplesFailed: failed,
        samplesRetried: retried,
        missingPointsDedupChain: 0,
        missingPointsDedupPenalty: penaltyMissingPoints ?? 'not measured',
        victimMissingPointsPerSeries: gapPoints,
        victimSurelyMissingPointsPerSeries: surelyMissing,
        victimGaps: gaps.length,
        gapStartAfterKillSeconds: seconds(gaps[0]!.startMs - run.killedAtMs),
        gapEndAfterRestartSeconds: seconds(lastGap.endMs - run.restartedAtMs),
        copiesDuringOutage,
        connectionsToDeadReceive:
          run.beforeRestart.connections[run.receives.indexOf(run.victim)]! - run.beforeKill.connections[run.receives.indexOf(run.victim)]!,
      },
    });
  });

  it('serves again after the restart: Query reaches it and it holds the data from before the kill', async () => {
    const entry = ((await run.query.stores()).receive ?? []).find((e) => e.labelSets[0]?.receive_replica === replicaName(run.victim));
    expect(entry, `${run.victim} in /api/v1/stores`).toBeDefined();
    expect(entry!.lastError).toBeNull();
    expect(entry!.lastCheck!).toBeGreaterThan(run.restartedAtMs);
    // WAL replay kept what it had stored before the kill.
    expect(entry!.minTime as number).toBeLessThanOrEqual(run.liveFromMs);
    expect(run.end.receives[run.victim]!.headMaxTimeMs!).toBeGreaterThanOrEqual(run.endMs);
  });
});
