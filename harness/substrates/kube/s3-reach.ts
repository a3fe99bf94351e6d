// Whether the S3 of THANOS_HA_E2E_S3_ENDPOINT answers pods of a cluster, checked before anything of
// a topology is deployed: a short-lived pod runs `thanos tools bucket ls` against it (Thanos is what
// will dial it, from the same network; the image is one the run needs anyway), in a namespace of
// its own that is deleted at once. An endpoint a cluster's pods cannot reach fails the bring-up in
// one line, instead of sidecars failing to ship minutes later.
import type { V1Pod } from '@kubernetes/client-node';
import { s3ObjstoreConfig, type S3Access } from '../../plan/index.ts';
import { waitFor } from '../../wait.ts';
import { apiMessage, cannotStart, podStatusLine, type KubeCluster } from '../kubernetes/cluster.ts';

const POD = 's3-check';
/** The pod's own deadline: an S3 whose packets are dropped never answers, and Thanos' client retries. */
export const S3_CHECK_DEADLINE_S = 45;
/** Scheduling and starting the pod on top of its deadline. */
const S3_CHECK_WAIT_MS = (S3_CHECK_DEADLINE_S + 45) * 1000;

/** The check pod: Thanos listing the bucket once; never restarted, gone after its deadline. */
export function s3CheckPod(namespace: string, s3: S3Access, image: string, imagePullPolicy: string): V1Pod {
  return {
    metadata: { name: POD, namespace },
    spec: {
      restartPolicy: 'Never',
      activeDeadlineSeconds: S3_CHECK_DEADLINE_S,
      automountServiceAccountToken: false,
      containers: [{ name: 'thanos', image, imagePullPolicy, args: ['tools', 'bucket', 'ls', `--objstore.config=${s3ObjstoreConfig(s3, '')}`] }],
    },
  };
}

/** Errors that mean the request never reached an S3 (as Go's net/http and DNS word them). */
const UNREACHABLE = /dial tcp|i\/o timeout|connection refused|no route to host|no such host|network is unreachable|connection reset|context deadline exceeded|TLS handshake|server misbehaving/i;

/**
 * The line of Thanos' log that says why it failed: the first line of its err= value where it logged
 * one (Thanos logs `%+v`, the cause's message, then stack frames, as escaped newlines).
 */
export function failureLine(log: string): string {
  const lines = log.trim().split('\n').filter((l) => l.trim());
  const last = [...lines].reverse().find((l) => l.includes('err=')) ?? lines.at(-1) ?? '(no log)';
  const err = /err="((?:[^"\\]|\\.)*)"/.exec(last)?.[1] ?? /err=(\S+)/.exec(last)?.[1];
  if (err === undefined) return last.trim();
  return err.split('\\n')[0]!.replace(/\\"/g, '"').trim();
}

export type S3CheckVerdict = { reachable: true; note?: string } | { reachable: false; why: string };

/**
 * What the finished pod says: exit 0, S3 answered; a failure whose error is a network one, not
 * reachable; any other failure (no such bucket, access denied) came from an S3, so it is reachable,
 * and the error is noted for the progress line.
 */
export function s3CheckVerdict(pod: V1Pod, log: string): S3CheckVerdict | undefined {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded') return { reachable: true };
  if (phase !== 'Failed') return undefined;
  if (pod.status?.reason === 'DeadlineExceeded') return { reachable: false, why: `no answer within ${S3_CHECK_DEADLINE_S}s (${failureLine(log)})` };
  const line = failureLine(log);
  return UNREACHABLE.test(line) || UNREACHABLE.test(log) ? { reachable: false, why: line } : { reachable: true, note: line };
}

/** One line, the same for every way the check can refuse. */
export const unreachableMessage = (s3: S3Access, context: string, why: string) =>
  `the S3 endpoint ${s3.endpoint} (THANOS_HA_E2E_S3_ENDPOINT) is not reachable from a pod of context "${context}": ${why}`;

/**
 * Runs the check pod in a namespace of its own (labelled as the run's, so the janitor removes it if
 * this process dies) and deletes the namespace, whatever the outcome. Throws the one-line refusal.
 */
export async function checkS3Reachable(
  kube: KubeCluster,
  s3: S3Access,
  opts: { namespace: string; labels: Record<string, string>; image: string; imagePullPolicy: string; onProgress: (line: string) => void },
): Promise<void> {
  const { namespace, onProgress } = opts;
  const started = Date.now();
  await kube.createNamespace(namespace, opts.labels);
  try {
    try {
      await kube.core.createNamespacedPod({ namespace, body: s3CheckPod(namespace, s3, opts.image, opts.imagePullPolicy) });
    } catch (err) {
      throw new Error(`cannot start the S3 check pod in context "${kube.context}": ${apiMessage(err)}`);
    }
    let verdict: S3CheckVerdict | undefined;
    let last: V1Pod | undefined;
    let cannot: string | undefined;
    try {
      await waitFor(
        `a pod of context ${kube.context} to reach S3 at ${s3.endpoint}`,
        async (note) => {
          last = await kube.pod(namespace, POD);
          if (!last) return note('not created yet'), undefined;
          note(podStatusLine(last));
          if ((last.status?.containerStatuses ?? []).some((c) => cannotStart(c))) cannot = podStatusLine(last);
          verdict = s3CheckVerdict(last, ['Succeeded', 'Failed'].includes(last.status?.phase ?? '') ? await kube.logs(namespace, POD, 'thanos') : '');
          return verdict ? true : undefined;
        },
        { timeoutMs: S3_CHECK_WAIT_MS, intervalMs: 500, onProgress, abort: () => cannot },
      );
    } catch {
      // Never finished: the pod could not start (an image the node lacks) or stayed unscheduled.
      if (cannot) throw new Error(`the S3 check pod in context "${kube.context}" cannot start: ${cannot} (the images must be where the nodes find them)`);
      throw new Error(`the S3 check pod in context "${kube.context}" did not finish within ${S3_CHECK_WAIT_MS / 1000}s: ${last ? podStatusLine(last) : 'never created'}`);
    }
    if (!verdict!.reachable) throw new Error(unreachableMessage(s3, kube.context, verdict!.why));
    onProgress(`  S3 at ${s3.endpoint} answers pods of context ${kube.context} (${((Date.now() - started) / 1000).toFixed(1)}s)${verdict!.note ? `, with: ${verdict!.note}` : ''}`);
  } finally {
    await kube.core.deleteNamespace({ name: namespace }).catch(() => undefined);
    const i = kube.created.indexOf(namespace);
    if (i >= 0) kube.created.splice(i, 1);
  }
}
