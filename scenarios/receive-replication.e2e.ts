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
// The Service balances per connection. On the process substrate it does not know the receive is
// dead (no readiness), so a new connection may go to it: Prometheus then gets a connection error and
// retries; on Kubernetes the dead pod leaves the Service's endpoints. What is asserted is what does
// not depend on that timing: nothing fails for good, every sample is delivered while the receive is
// down, nothing is missing after chain deduplication, the restarted replica's gap covers at least
// every sample scraped after the kill and delivered before the restart, and it stores new samples
// again. Retries and the gap's exact edges are measured.
//
// The restarted receive keeps what it had stored where its data outlives the process: on the
// process substrate, and on Kubernetes where the cluster has a default StorageClass (a
// PersistentVolumeClaim per receive), not on an emptyDir. Kubernetes cannot SIGKILL: "killed" there
// is the pod deleted with a 1 s grace period (the kubelet sends SIGTERM, SIGKILL 2 s later).
//
// Live only, on a 1s grid: the outage lasts seconds. Workload timestamps trail the clock by the
// scrape's lag behind the grid (a few seconds), so the gap starts before the kill.
import { describe, expect, it } from 'vitest';
import { FORWARD_TIMEOUT_MS, runReceiveOutage, type OutageRun, type Snapshot } from '../harness/flows/receive-replication.ts';
import { analyseRange, type RangeAnalysis } from '../harness/promql/analysis.ts';
import type { PromApiClient } from '../harness/promql/client.ts';
import { recordFinding } from '../harness/report/findings.ts';
import { presentSegments } from '../harness/report/plots.ts';
import { log, useTopology } from '../harness/scenario.ts';
import { receiveReplication } from '../harness/topology/presets.ts';

const iso = (ms: number) => new Date(ms).toISOString();
const seconds = (ms: number) => Math.round(ms / 1000);
const replicaName = (instance: string) => instance.split('/')[1]!;

/** One range query over the judged window, from the liveFromMs slot to endMs, and its analysis. */
async function analyse(run: OutageRun, dedup: boolean, query: PromApiClient): Promise<{ analysis: RangeAnalysis; warnings: string[] }> {
  const window = { start: run.liveFromMs, end: run.endMs, step: run.stepMs };
  const answer = await query.queryRange(run.t.workload.workload.metric, { ...window, dedup, partialResponse: false });
  const analysis = analyseRange(answer.result, {
    workload: run.t.workload.workload,
    startMs: window.start,
    endMs: window.end,
    stepMs: window.step,
    coverage: [{ fromMs: window.start, toMs: window.end }],
  });
  return { analysis, warnings: answer.warnings ?? [] };
}

/** Sum of a per-receive counter over the receives that were up in both snapshots. */
function aliveDelta(run: OutageRun, from: Snapshot, to: Snapshot, pick: (c: NonNullable<Snapshot['receives'][string]>) => number): number {
  return run.receives
    .filter((r) => r !== run.victim)
    .reduce((sum, r) => sum + pick(to.receives[r]!) - pick(from.receives[r]!), 0);
}

const non200 = (byCode: Record<string, number>) => Object.entries(byCode).reduce((n, [code, v]) => n + (code === '200' ? 0 : v), 0);

/** "series@t" for every point a series lacks. */
const missingKeys = (s: RangeAnalysis['series'][number], stepMs: number) =>
  s.missing.flatMap((m) => Array.from({ length: m.points }, (_, k) => `${s.index}@${m.startMs + k * stepMs}`));

describe.each([
  { receives: 3, rf: 3, quorum: 2 },
  { receives: 2, rf: 2, quorum: 1 },
])('hashring of $receives receives, replication factor $rf (write quorum $quorum): one receive killed and restarted', ({ receives, rf, quorum }) => {
  const topology = receiveReplication(receives, rf);
  // The outage, and every answer the tests judge, each asked once here.
  const run = useTopology(topology, async (t) => {
    const outage = await runReceiveOutage(t, log);
    return {
      outage,
      chain: await analyse(outage, true, outage.query),
      penalty: await analyse(outage, true, outage.penaltyQuery),
      perReplica: await analyse(outage, false, outage.query),
    };
  });

  it('keeps accepting remote write while the receive is down: nothing fails, everything is delivered', () => {
    const { outage } = run();
    const { beforeKill, beforeRestart } = outage;
    const failed = beforeRestart.prometheus.samplesFailed - beforeKill.prometheus.samplesFailed;
    const retried = beforeRestart.prometheus.samplesRetried - beforeKill.prometheus.samplesRetried;
    const sent = beforeRestart.prometheus.samplesTotal - beforeKill.prometheus.samplesTotal;
    const victimIndex = outage.receives.indexOf(outage.victim);
    const counted = beforeKill.connections.length > 0; // not on Kubernetes
    const connections = counted
      ? `Service connections ${beforeKill.connections.join('/')} -> ${beforeRestart.connections.join('/')} (${beforeRestart.connections[victimIndex]! - beforeKill.connections[victimIndex]!} to the dead receive)`
      : 'Service connections not counted on this substrate';
    const replicationErrors = aliveDelta(outage, beforeKill, beforeRestart, (c) => c.replicationError);
    const rejected = aliveDelta(outage, beforeKill, beforeRestart, (c) => non200(c.requestsByCode));
    log(
      `[${topology.name}] outage ${iso(outage.killedAtMs)} .. ${iso(outage.restartedAtMs)}: Prometheus sent ${sent} samples (attempts), ${retried} retried, ${failed} failed; ` +
        `delivered up to ${iso(beforeRestart.prometheus.highestSentMs)}; ${connections}; alive receives: ${replicationErrors} replication errors, ${rejected} requests answered non-200`,
    );
    expect(failed).toBe(0);
    // Every sample Prometheus scraped during the outage was delivered before the restart: one
    // appended after the last outage slot was (one shard, sending in append order).
    expect(beforeRestart.prometheus.highestSentMs).toBeGreaterThanOrEqual(outage.outageScrapedAtMs);
    // The alive receives answered every write with 200: the quorum was met without the dead one...
    expect(rejected).toBe(0);
    // ...though they did try to replicate to it.
    expect(replicationErrors).toBeGreaterThan(0);
  });

  it('loses no sample with dedup=true (chain) over the window including the outage', () => {
    const { outage, chain } = run();
    expect(chain.warnings).toEqual([]);
    expect(chain.analysis.series).toHaveLength(outage.t.workload.workload.seriesCount);
    expect(chain.analysis.summary, chain.analysis.description).toMatchObject({ missingPoints: 0, wrongPoints: 0, repeatedTimestamps: 0, ok: true });
  });

  it("with Thanos' default penalty deduplication, loses at most samples inside the restarted receive's gap", () => {
    // Penalty deduplication follows one replica and, when it switches to another at a gap, skips
    // that one's samples for twice the last interval. Which replica it starts with depends on the
    // order the receives answer in, so how much it loses varies; where it can lose does not.
    const { outage, penalty, perReplica } = run();
    const victimMissing = new Set(
      perReplica.analysis.series.filter((s) => s.labels.receive_replica === replicaName(outage.victim)).flatMap((s) => missingKeys(s, outage.stepMs)),
    );
    expect(penalty.warnings).toEqual([]);
    expect(penalty.analysis.series).toHaveLength(outage.t.workload.workload.seriesCount);
    expect(penalty.analysis.summary.wrongPoints).toBe(0);
    const outside = penalty.analysis.series.flatMap((s) => missingKeys(s, outage.stepMs).filter((key) => !victimMissing.has(key)));
    expect(outside, penalty.analysis.description).toEqual([]);
    log(`[${topology.name}] penalty dedup: ${penalty.analysis.description}`);
  });

  it('shows with dedup=false that the restarted receive lacks the outage window and the others are complete', () => {
    const { outage, chain, penalty, perReplica } = run();
    const { analysis } = perReplica;
    const { seriesCount } = outage.t.workload.workload;
    expect(perReplica.warnings).toEqual([]);
    expect(analysis.series).toHaveLength(receives * seriesCount);
    expect(analysis.summary.wrongPoints).toBe(0);
    const victimLabel = replicaName(outage.victim);
    const ofVictim = analysis.series.filter((s) => s.labels.receive_replica === victimLabel);
    const ofOthers = analysis.series.filter((s) => s.labels.receive_replica !== victimLabel);
    expect(ofVictim).toHaveLength(seriesCount);
    for (const s of ofOthers) expect(s.missing, `${s.labels.receive_replica} series ${s.index}`).toEqual([]);

    // Samples scraped after the kill whose write had completed (on the alive receives) longer than
    // the forward timeout before the restart began can never reach it: each series lacks all of them.
    const firstAfterKill = outage.firstSlotAfterKillMs;
    const surelyMissingUntil = outage.sent.slotSentBy(outage.restartBeganAtMs - FORWARD_TIMEOUT_MS);
    expect(surelyMissingUntil, 'samples delivered during the outage').toBeGreaterThan(firstAfterKill);
    const surelyMissing = (surelyMissingUntil - firstAfterKill) / outage.stepMs + 1;
    for (const s of ofVictim) {
      const covering = s.missing.find((m) => m.startMs <= firstAfterKill && m.endMs >= surelyMissingUntil);
      expect(covering, `${victimLabel} series ${s.index} lacks ${iso(firstAfterKill)}..${iso(surelyMissingUntil)}: ${JSON.stringify(s.missing)}`).toBeDefined();
      // ...and it stores new samples again: the end of the window is there.
      expect(s.missing.every((m) => m.endMs < outage.endMs)).toBe(true);
    }
    // The measured gap(s), the same for every series when all writes carry every series.
    const gaps = ofVictim[0]!.missing;
    const gapPoints = ofVictim[0]!.missingPoints;
    const gapText = gaps.map((m) => `${iso(m.startMs)}..${iso(m.endMs)} (${m.points})`).join(', ');

    // During the outage each sample lived on the alive receives only.
    const copiesDuringOutage = receives - 1;
    log(
      `[${topology.name}] ${victimLabel} lacks ${gapText}, ${gapPoints} points per series; surely lacks ${iso(firstAfterKill)}..${iso(surelyMissingUntil)} (${surelyMissing}); ` +
        `killed ${iso(outage.killedAtMs)}, restart began ${iso(outage.restartBeganAtMs)}, ready ${iso(outage.restartedAtMs)}; ${ofOthers.length / seriesCount} other replica(s) complete`,
    );
    const lastGap = gaps.at(-1)!;
    const retried = outage.beforeRestart.prometheus.samplesRetried - outage.beforeKill.prometheus.samplesRetried;
    const failed = outage.beforeRestart.prometheus.samplesFailed - outage.beforeKill.prometheus.samplesFailed;
    const chainMissing = chain.analysis.summary.missingPoints;
    const penaltyMissing = penalty.analysis.summary.missingPoints;
    const victimIndex = outage.receives.indexOf(outage.victim);
    const { connections } = outage.beforeKill;
    recordFinding({
      finding: 'R',
      scenario: 'receive-replication',
      topology: topology.name,
      substrate: outage.t.substrate,
      configuration: rf >= 3 ? 'fixed' : 'faulty',
      observed:
        `${outage.victim} killed for ${seconds(outage.restartedAtMs - outage.killedAtMs)}s under load: remote write kept succeeding (${failed} samples failed, ${retried} retried), ` +
        `dedup=true missing ${chainMissing} points with chain deduplication (${penaltyMissing} with the default penalty); dedup=false: ${victimLabel} lacks ${gapPoints} points per series (${gapText}), never backfilled; ` +
        `while it was down each sample was held by ${copiesDuringOutage} receive(s) (write quorum ${quorum} of ${rf})`,
      figures: {
        outageSeconds: seconds(outage.restartedAtMs - outage.killedAtMs),
        samplesFailed: failed,
        samplesRetried: retried,
        missingPointsDedupChain: chainMissing,
        missingPointsDedupPenalty: penaltyMissing,
        victimMissingPointsPerSeries: gapPoints,
        victimSurelyMissingPointsPerSeries: surelyMissing,
        victimGaps: gaps.length,
        // Workload timestamps trail the clock by the scrape's lag behind the grid: a gap can start before the kill.
        scrapeLagAtKillSeconds: seconds(outage.killedAtMs - outage.firstSlotAfterKillMs),
        gapStartAfterKillSeconds: seconds(gaps[0]!.startMs - outage.killedAtMs),
        gapEndAfterRestartSeconds: seconds(lastGap.endMs - outage.restartedAtMs),
        copiesDuringOutage,
        // Where the substrate counts the Service's connections (not on Kubernetes).
        ...(connections.length ? { connectionsToDeadReceive: outage.beforeRestart.connections[victimIndex]! - connections[victimIndex]! } : {}),
      },
      plots: [
        {
          kind: 'timeline',
          title: `What each receive holds of series 0 (dedup=false), with ${outage.victim}'s outage marked`,
          range: { from: outage.liveFromMs, to: outage.endMs },
          rows: outage.receives.map((receive) => {
            const series = analysis.series.find((s) => s.labels.receive_replica === replicaName(receive))!;
            return { label: receive, segments: presentSegments(outage.liveFromMs, outage.endMs, outage.stepMs, series.missing) };
          }),
          marks: [{ label: `${outage.victim} down`, from: outage.killedAtMs, to: outage.restartedAtMs }],
        },
      ],
    });
  });

  it('serves again after the restart: Query reaches it and it holds the data from before the kill', () => {
    const { outage } = run();
    const entry = (outage.storesAfterRestart.receive ?? []).find((e) => e.labelSets[0]?.receive_replica === replicaName(outage.victim));
    expect(entry, `${outage.victim} in /api/v1/stores`).toBeDefined();
    expect(entry!.lastError).toBeNull();
    expect(entry!.lastCheck!).toBeGreaterThan(outage.restartedAtMs);
    // Its data outlived the process (WAL replay, or the block a receive cuts on SIGTERM): it holds what it stored before the kill.
    expect(entry!.minTime as number, `${outage.victim}'s oldest sample after the restart (on Kubernetes its data is on an emptyDir where the cluster has no default StorageClass: see the bring-up's "data on" line)`).toBeLessThanOrEqual(outage.liveFromMs);
    expect(outage.end.receives[outage.victim]!.headMaxTimeMs!).toBeGreaterThanOrEqual(outage.endMs);
  });
});
