// The kube substrate's S3 reachability check, without a cluster: the pod it runs, and how it reads
// the finished pod (Thanos' own log lines) into "reachable" or a one-line refusal.
import type { V1Pod } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { failureLine, s3CheckPod, s3CheckVerdict, S3_CHECK_DEADLINE_S, unreachableMessage } from './s3-reach.ts';

const S3 = { endpoint: '172.18.0.1:7070', bucket: 'thanos-ha-e2e', accessKey: 'AK', secretKey: 'SK', region: 'us-east-1', insecure: true };
const finished = (phase: string, reason?: string): V1Pod => ({ status: { phase, ...(reason ? { reason } : {}) } });
// As Thanos logs a failed command: logfmt, err="%+v" with the stack as escaped newlines.
const thanosError = (err: string) =>
  `ts=2026-12-07T03:00:00Z caller=factory.go:39 level=info msg="loading bucket configuration"\nts=2026-12-07T03:00:05Z caller=main.go:145 level=error err="${err.replace(/"/g, '\\"')}\\ngithub.com/thanos-io/objstore/providers/s3.(*Bucket).Iter\\n\\t/go/pkg/mod/objstore/s3.go:412\\nbucket ls command failed"`;

describe('the S3 check pod', () => {
  it('lists the bucket once with Thanos and the objstore config the components get, never restarted, bounded by a deadline', () => {
    const pod = s3CheckPod('thanos-ha-e2e-abc123-s3-check', S3, 'thanos-ha-e2e/thanos:0.42.0', 'IfNotPresent');
    expect(pod.metadata).toEqual({ name: 's3-check', namespace: 'thanos-ha-e2e-abc123-s3-check' });
    expect(pod.spec!.restartPolicy).toBe('Never');
    expect(pod.spec!.activeDeadlineSeconds).toBe(S3_CHECK_DEADLINE_S);
    const [c] = pod.spec!.containers;
    expect(c!.image).toBe('thanos-ha-e2e/thanos:0.42.0');
    expect(c!.imagePullPolicy).toBe('IfNotPresent');
    expect(c!.args!.slice(0, 3)).toEqual(['tools', 'bucket', 'ls']);
    const config = parse(c!.args![3]!.replace(/^--objstore\.config=/, ''));
    expect(config).toMatchObject({ type: 'S3', config: { bucket: 'thanos-ha-e2e', endpoint: '172.18.0.1:7070', access_key: 'AK', secret_key: 'SK', insecure: true, bucket_lookup_type: 'path' } });
  });
});

describe('reading the finished check pod', () => {
  it('takes the first line of Thanos\' err=, else the last log line', () => {
    expect(failureLine(thanosError('Get "http://172.18.0.1:7070/thanos-ha-e2e/": dial tcp 172.18.0.1:7070: connect: connection refused'))).toBe(
      'Get "http://172.18.0.1:7070/thanos-ha-e2e/": dial tcp 172.18.0.1:7070: connect: connection refused',
    );
    expect(failureLine('exec /bin/thanos: exec format error\n')).toBe('exec /bin/thanos: exec format error');
    expect(failureLine('')).toBe('(no log)');
  });

  it('says reachable on success, and on an error that only an S3 gives (noted)', () => {
    expect(s3CheckVerdict(finished('Succeeded'), '')).toEqual({ reachable: true });
    expect(s3CheckVerdict(finished('Failed'), thanosError('The specified bucket does not exist'))).toEqual({ reachable: true, note: 'The specified bucket does not exist' });
    expect(s3CheckVerdict(finished('Failed'), thanosError('Access Denied.'))).toEqual({ reachable: true, note: 'Access Denied.' });
  });

  it("reads Thanos 0.42.4's own log of an S3 that refuses connections (captured from the binary)", () => {
    const log = [
      'ts=2026-12-07T03:32:45.52416654Z caller=factory.go:39 level=info msg="loading bucket configuration"',
      'ts=2026-12-07T03:32:50.55079406Z caller=main.go:143 level=error err="Get \\"http://127.0.0.1:1/thanos-ha-e2e/?delimiter=%2F&encoding-type=url&fetch-owner=true&list-type=2&prefix=\\": dial tcp 127.0.0.1:1: connect: connection refused\\nBaseFetcher: iter bucket\\ngithub.com/thanos-io/thanos/pkg/block.(*BaseFetcher).fetchMetadata\\n\\tgithub.com/thanos-io/thanos/pkg/block/fetcher.go:593"',
    ].join('\n');
    const why = 'Get "http://127.0.0.1:1/thanos-ha-e2e/?delimiter=%2F&encoding-type=url&fetch-owner=true&list-type=2&prefix=": dial tcp 127.0.0.1:1: connect: connection refused';
    expect(failureLine(log)).toBe(why);
    expect(s3CheckVerdict(finished('Failed'), log)).toEqual({ reachable: false, why });
  });

  it('says not reachable on a network error, and on a pod that ran out of time', () => {
    for (const err of [
      'Get "http://172.18.0.1:7070/thanos-ha-e2e/": dial tcp 172.18.0.1:7070: connect: connection refused',
      'Get "http://s3.example:7070/": dial tcp: lookup s3.example on 10.96.0.10:53: no such host',
      'Get "http://10.0.0.9:7070/": dial tcp 10.0.0.9:7070: i/o timeout',
      'Get "http://10.0.0.9:7070/": dial tcp 10.0.0.9:7070: connect: no route to host',
    ]) {
      expect(s3CheckVerdict(finished('Failed'), thanosError(err)), err).toEqual({ reachable: false, why: err });
    }
    expect(s3CheckVerdict(finished('Failed', 'DeadlineExceeded'), '')).toEqual({ reachable: false, why: `no answer within ${S3_CHECK_DEADLINE_S}s ((no log))` });
  });

  it('waits while the pod runs', () => {
    for (const phase of ['Pending', 'Running', 'Unknown']) expect(s3CheckVerdict(finished(phase), ''), phase).toBeUndefined();
  });

  it('refuses in one line naming the endpoint, its variable and the context', () => {
    const message = unreachableMessage(S3, 'kind-thanos-ha-e2e-abc123-observee', 'dial tcp 172.18.0.1:7070: connect: connection refused');
    expect(message).toBe(
      'the S3 endpoint 172.18.0.1:7070 (THANOS_HA_E2E_S3_ENDPOINT) is not reachable from a pod of context "kind-thanos-ha-e2e-abc123-observee": dial tcp 172.18.0.1:7070: connect: connection refused',
    );
    expect(message).not.toContain('\n');
  });
});
