// Finding C of FINDINGS.md (prometheus-operator #4414): 2h TSDB blocks through prometheus-operator.
// Kube and kind substrates: a real prometheus-operator (harness/prometheus-operator) in a namespace of
// its own on the observee context (kind: a kind cluster of its own); every Prometheus here has a
// Thanos sidecar uploading to S3.
//
//   faulty   spec.additionalArgs storage.tsdb.min/max-block-duration=2h while the operator manages
//            those flags itself: a new resource gets no StatefulSet; an existing one that gets the
//            args later keeps its StatefulSet as it was. The operator says why in the Reconciled condition.
//   fixed    spec.thanos.blockSize: 2h: each flag exactly once, prometheus + thanos-sidecar Ready.
//
// The operator manages the two flags when it disables local compaction: always with a sidecar
// uploading, up to 0.92; from 0.93 only with Prometheus < 3.9, Thanos < 0.41 (0.42 from 0.94) or
// spec.disableCompaction: true. With the harness's pins (Prometheus 3.16.0, Thanos 0.42.4:
// fixtures/versions.json) the operator's default is "delayed compaction", where neither flag is set by the operator: so
// faulty and fixed run with disableCompaction: true (the pre-0.93 behaviour, same code path), and
// the last block measures what the default does with the same two configurations.
//
// Run (see harness/prometheus-operator/README.md):
//   THANOS_HA_E2E_SUBSTRATE=kube THANOS_HA_E2E_KUBE_CONTEXTS=observer=<ctx>,observee=<ctx> KUBECONFIG=<file> \
//     npx vitest run --project e2e scenarios/operator-block-size.e2e.ts
//   npx vitest run --project kind scenarios/operator-block-size.e2e.ts
import { afterEach, describe, expect, it } from 'vitest';
import { pinnedVersion } from '../harness/binaries/versions.ts';
import { OBSERVEE } from '../harness/presets/conventions.ts';
import { operatorCluster } from '../harness/prometheus-operator/cluster.ts';
import { OperatorEnvironment } from '../harness/prometheus-operator/install.ts';
import {
  BLOCK_DURATION_ARGS,
  containerArgs,
  flagCount,
  MAX_BLOCK_DURATION,
  MIN_BLOCK_DURATION,
  OperatedPrometheuses,
  statefulSetName,
  type Condition,
} from '../harness/prometheus-operator/prometheuses.ts';
import { PROMETHEUS_OPERATOR } from '../harness/prometheus-operator/versions.ts';
import { recordFinding } from '../harness/report/findings.ts';
import { log, useCluster } from '../harness/scenario.ts';
import { currentSubstrate } from '../harness/substrates/index.ts';

const SCENARIO = 'operator-block-size';
const SUBSTRATE = currentSubstrate().name;
/** The versions the operator is given (spec.version, spec.thanos.version): the harness's pins. */
const PROMETHEUS_VERSION = pinnedVersion('prometheus').version;
const THANOS_VERSION = pinnedVersion('thanos').version;

// Bring-up: the observee's cluster, lent by the substrate (kind: one of its own; kube: the observee
// context), with prometheus-operator installed in a namespace of its own. A cluster made for the
// run goes whole after the tests; on one that was there before, only that namespace is removed.
const run = useCluster(
  OBSERVEE,
  async (lent) => {
    const op = new OperatorEnvironment(operatorCluster(lent), { onProgress: log });
    const started = Date.now();
    // A cluster that outlives the run keeps nothing of a failed install either (kind's goes whole).
    const install = await op.install().catch(async (err: unknown) => {
      if (!lent.release) await op.close();
      throw err;
    });
    log(`[${SCENARIO}] prometheus-operator ${install.operatorVersion} running in ${install.namespace} after ${seconds(Date.now() - started)}s`);
    return { op, install, prometheuses: new OperatedPrometheuses(op) };
  },
  { cleanup: ({ op }) => op.close() },
);

const REJECTION = `can't set arguments which are already managed by the operator: ${MIN_BLOCK_DURATION},${MAX_BLOCK_DURATION}`;
/** The Reconciled condition's message, as operator 0.93.1 words it (the wrapping differs between releases). */
const REJECTION_MESSAGE = `making statefulset failed: make StatefulSet spec: ${REJECTION}`;
const RECONCILE_TIMEOUT_MS = 60_000;
const READY_TIMEOUT_MS = 180_000;
const seconds = (ms: number) => +(ms / 1000).toFixed(1);

/** Adds the Reconciled condition's state to `seen` when it differs from the last one: every state it went through, in order. */
function noteState(seen: string[], c: Condition | undefined): void {
  const state = c ? `Reconciled=${c.status} gen=${c.observedGeneration} reason=${c.reason ?? ''} message="${c.message ?? ''}"` : 'no Reconciled condition';
  if (seen.at(-1) !== state) seen.push(state);
}

describe(`finding C: block duration through prometheus-operator ${PROMETHEUS_OPERATOR.version} (kube, kind)`, () => {
  // The operator's own account when a test fails: its last log lines (informer chatter left out).
  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    const { op } = run();
    const tail = (await op.operatorLog().catch((err: unknown) => `(no operator log: ${String(err)})`)).trim().split('\n').filter((l) => !l.includes('shared_informer')).slice(-30);
    log(`[${SCENARIO}] ${ctx.task.name} failed; the operator's last log lines (informer chatter left out):\n${tail.map((l) => `    ${l}`).join('\n')}`);
  });

  describe('faulty: additionalArgs storage.tsdb.min/max-block-duration=2h while the operator manages them', () => {
    it('a new Prometheus is rejected: Reconciled=False with the reason, and no StatefulSet', async () => {
      const { prometheuses, install, op } = run();
      const name = 'additional-args';
      const { resource, createdAt } = await prometheuses.create(name, { disableCompaction: true, additionalArgs: BLOCK_DURATION_ARGS });
      // The operator's first sync of a new resource only adds its status-cleanup finalizer and succeeds,
      // so Reconciled first reads True (empty reason and message) for the same generation; the sync
      // that builds the StatefulSet comes next. So wait for a False condition or a StatefulSet, whichever
      // comes first, and keep every state the condition went through.
      const seen: string[] = [];
      const { value: outcome, ms } = await prometheuses.waitReconciled(
        name,
        async (c) => {
          noteState(seen, c);
          if (c && c.observedGeneration === resource.metadata.generation && c.status === 'False') return { condition: c, sts: false };
          return (await prometheuses.statefulSetsOf(name)).length > 0 ? { condition: c, sts: true } : undefined;
        },
        { since: createdAt, timeoutMs: RECONCILE_TIMEOUT_MS, what: `the operator to report on Prometheus ${name}`, onProgress: log },
      );
      log(`[${SCENARIO}] faulty (new): after ${seconds(ms)}s; the condition went through: ${seen.join(' -> ')}`);
      expect(outcome.sts).toBe(false);
      const condition = outcome.condition!;
      expect(condition.status).toBe('False');
      expect(condition.reason).toBe('ReconciliationFailed');
      expect(condition.message).toBe(REJECTION_MESSAGE);

      // The condition is written after the failed sync, so no StatefulSet can appear later from this spec.
      expect(await prometheuses.statefulSet(name)).toBeUndefined();
      const statefulSets = await prometheuses.statefulSetsOf(name);
      expect(statefulSets).toEqual([]);
      const logLines = (await op.operatorLog()).split('\n').filter((l) => l.includes(REJECTION) && l.includes(name));
      log(`[${SCENARIO}] faulty (new): operator log (${logLines.length} line(s) so far): ${logLines[0]?.trim() ?? '(none)'}`);
      expect(logLines.length).toBeGreaterThan(0);

      recordFinding({
        finding: 'C',
        scenario: SCENARIO,
        topology: 'operator-additional-args-new',
        substrate: SUBSTRATE,
        configuration: 'faulty',
        observed: `prometheus-operator ${install.operatorVersion} rejects the new Prometheus within ${seconds(ms)}s (Reconciled=False, ${condition.reason}: "${condition.message}") and creates no StatefulSet`,
        figures: {
          operatorVersion: install.operatorVersion,
          reconcileSeconds: seconds(ms),
          reason: condition.reason!,
          message: condition.message!,
          conditionSequence: seen.join(' -> '),
          statefulSets: statefulSets.length,
        },
      });
      await prometheuses.delete(name);
    });

    it('an existing Prometheus that gets the additionalArgs later keeps its StatefulSet unchanged', async () => {
      const { prometheuses, install } = run();
      const name = 'args-added-later';
      const { resource, createdAt } = await prometheuses.create(name, { disableCompaction: true });
      const { ms: createdMs } = await prometheuses.waitStatefulSet(name, { since: createdAt, timeoutMs: RECONCILE_TIMEOUT_MS, onProgress: log });
      const { pod, ms: readyMs } = await prometheuses.waitPodReady(name, { since: createdAt, timeoutMs: READY_TIMEOUT_MS, onProgress: log });
      // Taken once the pod runs: right after creation the operator still rewrites the StatefulSet's
      // input-hash annotation once (the hash covers the existing spec), without changing its spec.
      const before = (await prometheuses.statefulSet(name))!;
      const argsBefore = containerArgs(before, 'prometheus');
      log(
        `[${SCENARIO}] faulty (update): a working Prometheus first: StatefulSet in ${seconds(createdMs)}s, pod Ready in ${seconds(readyMs)}s; ` +
          `StatefulSet generation ${before.metadata?.generation}, revision ${before.status?.updateRevision}, prometheus args: ${argsBefore.join(' ')}`,
      );

      const patched = await prometheuses.patchSpec(name, { additionalArgs: BLOCK_DURATION_ARGS });
      const patchedAt = Date.now();
      expect(patched.metadata.generation).toBe((resource.metadata.generation ?? 0) + 1);
      // Whichever comes first: the operator reports the new generation as failed, or it changes the
      // StatefulSet's spec. (A Reconciled=True carrying the new generation can come first: the status
      // is written with the resource's current generation whatever sync it reports on.)
      const seen: string[] = [];
      const { value: outcome, ms } = await prometheuses.waitReconciled(
        name,
        async (c) => {
          noteState(seen, c);
          if (c && c.observedGeneration === patched.metadata.generation && c.status === 'False') return { condition: c as Condition, changed: false };
          const now = await prometheuses.statefulSet(name);
          return now?.metadata?.generation !== before.metadata?.generation ? { condition: c, changed: true } : undefined;
        },
        { since: patchedAt, timeoutMs: RECONCILE_TIMEOUT_MS, what: `the operator to act on generation ${patched.metadata.generation} of ${name}`, onProgress: log },
      );
      const after = await prometheuses.statefulSet(name);
      const podAfter = await prometheuses.waitPodReady(name, { since: patchedAt, timeoutMs: READY_TIMEOUT_MS });
      log(
        `[${SCENARIO}] faulty (update): after ${seconds(ms)}s the condition went through: ${seen.join(' -> ')}; ` +
          `StatefulSet generation ${before.metadata?.generation} -> ${after?.metadata?.generation}, revision ${before.status?.updateRevision} -> ${after?.status?.updateRevision}`,
      );
      expect(outcome.changed).toBe(false);
      expect(outcome.condition?.reason).toBe('ReconciliationFailed');
      expect(outcome.condition?.message).toBe(REJECTION_MESSAGE);
      expect(after).toBeDefined();
      expect(after!.metadata?.uid).toBe(before.metadata?.uid);
      const generationBefore = before.metadata?.generation;
      const generationAfter = after!.metadata?.generation;
      expect(generationBefore).toBeTypeOf('number');
      expect(generationAfter).toBe(generationBefore);
      expect(after!.status?.updateRevision).toBe(before.status?.updateRevision);
      expect(containerArgs(after!, 'prometheus')).toEqual(argsBefore);
      expect(containerArgs(after!, 'prometheus').filter((a) => a.startsWith('--storage.tsdb.m'))).toEqual([`--${MAX_BLOCK_DURATION}=2h`, `--${MIN_BLOCK_DURATION}=2h`]);
      expect(podAfter.pod.metadata?.uid).toBe(pod.metadata?.uid); // the running pod is left alone

      recordFinding({
        finding: 'C',
        scenario: SCENARIO,
        topology: 'operator-additional-args-update',
        substrate: SUBSTRATE,
        configuration: 'faulty',
        observed: `adding the additionalArgs to a running Prometheus: Reconciled=False within ${seconds(ms)}s ("${outcome.condition?.message}"); its StatefulSet stays at generation ${after!.metadata?.generation} with the same args and pod`,
        figures: {
          operatorVersion: install.operatorVersion,
          reconcileSeconds: seconds(ms),
          statefulSetGenerationBefore: generationBefore!,
          statefulSetGenerationAfter: generationAfter!,
          message: outcome.condition!.message!,
          conditionSequence: seen.join(' -> '),
        },
      });
      await prometheuses.delete(name);
    });
  });

  describe('fixed: spec.thanos.blockSize 2h', () => {
    it('the StatefulSet sets each block-duration flag once, and prometheus + thanos-sidecar become Ready', async () => {
      const { prometheuses, install } = run();
      const name = 'block-size';
      const { createdAt } = await prometheuses.create(name, { disableCompaction: true, blockSize: '2h' });
      const { sts, ms: stsMs } = await prometheuses.waitStatefulSet(name, { since: createdAt, timeoutMs: RECONCILE_TIMEOUT_MS, onProgress: log });
      const args = containerArgs(sts, 'prometheus');
      log(`[${SCENARIO}] fixed: StatefulSet ${statefulSetName(name)} created in ${seconds(stsMs)}s; prometheus args: ${args.join(' ')}`);
      expect(args.filter((a) => a === `--${MIN_BLOCK_DURATION}=2h`)).toHaveLength(1);
      expect(args.filter((a) => a === `--${MAX_BLOCK_DURATION}=2h`)).toHaveLength(1);
      expect(flagCount(args, MIN_BLOCK_DURATION)).toBe(1);
      expect(flagCount(args, MAX_BLOCK_DURATION)).toBe(1);
      const sidecarArgs = containerArgs(sts, 'thanos-sidecar');
      expect(sidecarArgs[0]).toBe('sidecar');
      expect(sidecarArgs).toContain('--objstore.config=$(OBJSTORE_CONFIG)');

      const { pod, ms: readyMs } = await prometheuses.waitPodReady(name, { since: createdAt, timeoutMs: READY_TIMEOUT_MS, onProgress: log });
      const ready = Object.fromEntries((pod.status?.containerStatuses ?? []).map((s) => [s.name, s.ready]));
      log(`[${SCENARIO}] fixed: pod ${pod.metadata?.name} Ready ${seconds(readyMs)}s after the resource was created; containers ${JSON.stringify(ready)}`);
      expect(ready).toMatchObject({ prometheus: true, 'thanos-sidecar': true });
      const { value: condition } = await prometheuses.waitReconciled(name, (c) => (c && c.status !== 'Unknown' ? c : undefined), {
        since: createdAt,
        timeoutMs: RECONCILE_TIMEOUT_MS,
        what: `the Reconciled condition of ${name}`,
      });
      expect(condition.status).toBe('True');

      recordFinding({
        finding: 'C',
        scenario: SCENARIO,
        topology: 'operator-thanos-block-size',
        substrate: SUBSTRATE,
        configuration: 'fixed',
        observed: `spec.thanos.blockSize 2h: StatefulSet in ${seconds(stsMs)}s with --${MIN_BLOCK_DURATION}=2h and --${MAX_BLOCK_DURATION}=2h once each; prometheus + thanos-sidecar Ready ${seconds(readyMs)}s after creation`,
        figures: {
          operatorVersion: install.operatorVersion,
          statefulSetSeconds: seconds(stsMs),
          podReadySeconds: seconds(readyMs),
          minBlockDurationArgs: flagCount(args, MIN_BLOCK_DURATION),
          maxBlockDurationArgs: flagCount(args, MAX_BLOCK_DURATION),
        },
      });
      await prometheuses.delete(name);
    });
  });

  describe("the operator's default with Prometheus >= 3.9 and Thanos >= 0.41 (delayed compaction, operator >= 0.93)", () => {
    it('accepts the same additionalArgs: each flag once, next to the delayed-compaction flags, and the pod becomes Ready', async () => {
      const { prometheuses, install } = run();
      const name = 'default-additional-args';
      const { createdAt } = await prometheuses.create(name, { additionalArgs: BLOCK_DURATION_ARGS });
      const { sts, ms: stsMs } = await prometheuses.waitStatefulSet(name, { since: createdAt, timeoutMs: RECONCILE_TIMEOUT_MS, onProgress: log });
      const args = containerArgs(sts, 'prometheus');
      const sidecarArgs = containerArgs(sts, 'thanos-sidecar');
      log(`[${SCENARIO}] default mode: StatefulSet created in ${seconds(stsMs)}s; prometheus args: ${args.join(' ')}; sidecar args: ${sidecarArgs.join(' ')}`);
      expect(args.filter((a) => a === `--${MIN_BLOCK_DURATION}=2h`)).toHaveLength(1);
      expect(args.filter((a) => a === `--${MAX_BLOCK_DURATION}=2h`)).toHaveLength(1);
      expect(flagCount(args, MIN_BLOCK_DURATION)).toBe(1);
      expect(flagCount(args, MAX_BLOCK_DURATION)).toBe(1);
      expect(args).toContain('--storage.tsdb.delay-compact-file.path=/prometheus/thanos.shipper.json');
      expect(sidecarArgs).toContain('--shipper.ignore-unequal-block-size');

      const { ms: readyMs } = await prometheuses.waitPodReady(name, { since: createdAt, timeoutMs: READY_TIMEOUT_MS, onProgress: log });
      log(`[${SCENARIO}] default mode: pod Ready ${seconds(readyMs)}s after the resource was created`);
      recordFinding({
        finding: 'C',
        scenario: SCENARIO,
        topology: 'operator-default-delayed-compaction',
        substrate: SUBSTRATE,
        configuration: 'fixed',
        observed: `operator ${install.operatorVersion} defaults (Prometheus ${PROMETHEUS_VERSION}, Thanos ${THANOS_VERSION}, no disableCompaction): the note's additionalArgs are accepted, each flag once, pod Ready in ${seconds(readyMs)}s; #4414 does not occur`,
        figures: { operatorVersion: install.operatorVersion, statefulSetSeconds: seconds(stsMs), podReadySeconds: seconds(readyMs) },
      });
      await prometheuses.delete(name);
    });

    it('ignores spec.thanos.blockSize: the operator sets no block-duration flag at all', async () => {
      const { prometheuses } = run();
      const name = 'default-block-size';
      const { createdAt } = await prometheuses.create(name, { blockSize: '2h' });
      const { sts, ms } = await prometheuses.waitStatefulSet(name, { since: createdAt, timeoutMs: RECONCILE_TIMEOUT_MS, onProgress: log });
      const args = containerArgs(sts, 'prometheus');
      log(`[${SCENARIO}] default mode + blockSize 2h: StatefulSet created in ${seconds(ms)}s; prometheus args: ${args.join(' ')}`);
      expect(flagCount(args, MIN_BLOCK_DURATION)).toBe(0);
      expect(flagCount(args, MAX_BLOCK_DURATION)).toBe(0);
      expect(args).toContain('--storage.tsdb.delay-compact-file.path=/prometheus/thanos.shipper.json');
      await prometheuses.delete(name);
    });
  });
});
