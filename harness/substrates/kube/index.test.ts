// kubeSettings(env): what the kube substrate reads from the environment, and the one-line error for
// each way of getting it wrong. No cluster is contacted.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { connectContexts, kindClusterOfContext, kubeSettings, s3ForTopology } from './index.ts';

const CONTEXTS = 'observer=eks-observer,observee=eks-observee';
const S3 = {
  THANOS_HA_E2E_KUBE_CONTEXTS: CONTEXTS,
  THANOS_HA_E2E_S3_ENDPOINT: 's3.eu-west-1.amazonaws.com',
  THANOS_HA_E2E_S3_BUCKET: 'thanos-ha',
  AWS_ACCESS_KEY_ID: 'AKIA123',
  AWS_SECRET_ACCESS_KEY: 'secret',
};

/** The error kubeSettings throws for env, checked to be one line. */
function errorOf(env: Record<string, string | undefined>): string {
  let message: string | undefined;
  try {
    kubeSettings(env);
  } catch (err) {
    message = (err as Error).message;
  }
  expect(message, `no error for ${JSON.stringify(env)}`).toBeDefined();
  expect(message).not.toContain('\n');
  return message!;
}

describe('kubeSettings', () => {
  it('says how to set THANOS_HA_E2E_KUBE_CONTEXTS when it is missing or empty', () => {
    const expected = 'the kube substrate needs THANOS_HA_E2E_KUBE_CONTEXTS, e.g. observer=eks-observer,observee=eks-observee (kubeconfig contexts)';
    expect(errorOf({})).toBe(expected);
    expect(errorOf({ THANOS_HA_E2E_KUBE_CONTEXTS: '' })).toBe(expected);
    // S3 alone does not stand in for the contexts.
    expect(errorOf({ ...S3, THANOS_HA_E2E_KUBE_CONTEXTS: undefined })).toBe(expected);
  });

  it('names the malformed pair', () => {
    const cases: [string, string][] = [
      ['observer', 'observer'],
      ['observer=', 'observer='],
      ['=eks-observer', '=eks-observer'],
      [' = ', ' = '],
      ['observer=eks-observer,observee', 'observee'],
      ['observer=eks-observer,', ''],
      ['observer=eks-observer,,observee=eks-observee', ''],
      ['observer:eks-observer', 'observer:eks-observer'],
      ['observer=a=b', 'observer=a=b'],
    ];
    for (const [spec, pair] of cases) {
      expect(errorOf({ THANOS_HA_E2E_KUBE_CONTEXTS: spec }), spec).toBe(
        `THANOS_HA_E2E_KUBE_CONTEXTS: "${pair}" is not <cluster>=<context> (e.g. observer=eks-observer,observee=eks-observee)`,
      );
    }
  });

  it('refuses a cluster named twice rather than letting the last one win', () => {
    expect(errorOf({ THANOS_HA_E2E_KUBE_CONTEXTS: 'observer=a,observee=b,observer=c' })).toBe(
      'THANOS_HA_E2E_KUBE_CONTEXTS names cluster "observer" twice: give each cluster one context',
    );
  });

  it('names the S3 variable missing when THANOS_HA_E2E_S3_ENDPOINT is set', () => {
    for (const missing of ['THANOS_HA_E2E_S3_BUCKET', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const) {
      const expected = `THANOS_HA_E2E_S3_ENDPOINT is set but ${missing} is not: set it too (or unset THANOS_HA_E2E_S3_ENDPOINT for the run's own S3)`;
      expect(errorOf({ ...S3, [missing]: undefined }), missing).toBe(expected);
      expect(errorOf({ ...S3, [missing]: '' }), `${missing} empty`).toBe(expected);
    }
    // With nothing but the endpoint, the first one missing is named.
    expect(errorOf({ THANOS_HA_E2E_KUBE_CONTEXTS: CONTEXTS, THANOS_HA_E2E_S3_ENDPOINT: 'minio:9000' })).toContain('but THANOS_HA_E2E_S3_BUCKET is not');
  });

  it('reads the contexts, trimmed, and no S3 without an endpoint', () => {
    expect(kubeSettings({ THANOS_HA_E2E_KUBE_CONTEXTS: CONTEXTS })).toEqual({ contexts: { observer: 'eks-observer', observee: 'eks-observee' } });
    expect(kubeSettings({ THANOS_HA_E2E_KUBE_CONTEXTS: ' observer = local , observee=local ' })).toEqual({ contexts: { observer: 'local', observee: 'local' } });
    // Bucket and keys without an endpoint: the run's own S3, the rest ignored.
    expect(kubeSettings({ ...S3, THANOS_HA_E2E_S3_ENDPOINT: '' })).toEqual({ contexts: { observer: 'eks-observer', observee: 'eks-observee' } });
  });

  it('reads an S3: scheme stripped, https unless told otherwise, region defaulting to us-east-1', () => {
    expect(kubeSettings(S3)).toEqual({
      contexts: { observer: 'eks-observer', observee: 'eks-observee' },
      s3: { endpoint: 's3.eu-west-1.amazonaws.com', bucket: 'thanos-ha', accessKey: 'AKIA123', secretKey: 'secret', region: 'us-east-1', insecure: false },
    });
    const s3 = (env: Record<string, string>) => kubeSettings({ ...S3, ...env }).s3!;
    expect(s3({ THANOS_HA_E2E_S3_ENDPOINT: 'https://s3.example:443', AWS_REGION: 'eu-west-1' })).toMatchObject({ endpoint: 's3.example:443', region: 'eu-west-1', insecure: false });
    expect(s3({ THANOS_HA_E2E_S3_ENDPOINT: 'http://minio.minio.svc:9000' })).toMatchObject({ endpoint: 'minio.minio.svc:9000', insecure: true });
    expect(s3({ THANOS_HA_E2E_S3_ENDPOINT: 'minio.minio.svc:9000', THANOS_HA_E2E_S3_INSECURE: '1' })).toMatchObject({ endpoint: 'minio.minio.svc:9000', insecure: true });
    expect(s3({ THANOS_HA_E2E_S3_ENDPOINT: 'minio.minio.svc:9000', THANOS_HA_E2E_S3_INSECURE: 'true' })).toMatchObject({ insecure: false }); // only "1" means yes
    expect(s3({ AWS_REGION: '' })).toMatchObject({ region: 'us-east-1' });
  });
});

describe('a bucket per topology (THANOS_HA_E2E_S3_CREATE_BUCKET=1)', () => {
  it('is off unless set to 1: the given bucket is used as it is', () => {
    expect(kubeSettings(S3).s3).not.toHaveProperty('createBucket');
    expect(kubeSettings({ ...S3, THANOS_HA_E2E_S3_CREATE_BUCKET: 'true' }).s3).not.toHaveProperty('createBucket');
    expect(s3ForTopology(kubeSettings(S3).s3!, 'abc123')).toEqual({ pods: kubeSettings(S3).s3, create: false });
  });

  it('gives each topology <bucket>-<run>, for the deploy path to create', () => {
    const settings = kubeSettings({ ...S3, THANOS_HA_E2E_S3_CREATE_BUCKET: '1' }).s3!;
    expect(settings.createBucket).toBe(true);
    const { pods, create } = s3ForTopology(settings, 'abc123');
    expect(create).toBe(true);
    expect(pods).toEqual({ endpoint: 's3.eu-west-1.amazonaws.com', bucket: 'thanos-ha-abc123', accessKey: 'AKIA123', secretKey: 'secret', region: 'us-east-1', insecure: false });
  });

  it('refuses, in one line, a base bucket too long for the suffix', () => {
    const long = 'b'.repeat(57);
    expect(errorOf({ ...S3, THANOS_HA_E2E_S3_BUCKET: long, THANOS_HA_E2E_S3_CREATE_BUCKET: '1' })).toBe(
      `THANOS_HA_E2E_S3_BUCKET "${long}" is 57 characters: with THANOS_HA_E2E_S3_CREATE_BUCKET=1 each topology's bucket is <bucket>-<6 hex>, so at most 56`,
    );
    expect(kubeSettings({ ...S3, THANOS_HA_E2E_S3_BUCKET: long }).s3!.bucket).toBe(long); // without it, S3 judges the name
  });
});

describe('a context that does not exist', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    vi.unstubAllEnvs();
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('is refused in one line naming it, its cluster, the kubeconfig and the contexts there are, before any API server is dialled', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'thanos-ha-e2e-kube-contexts-'));
    dirs.push(dir);
    const kubeconfig = join(dir, 'kubeconfig');
    const cluster = (name: string) => ({ name, cluster: { server: 'https://127.0.0.1:1' } });
    await writeFile(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [cluster('a'), cluster('b')],
        users: [{ name: 'u', user: { token: 't' } }],
        contexts: [{ name: 'kind-observer', context: { cluster: 'a', user: 'u' } }, { name: 'kind-observee', context: { cluster: 'b', user: 'u' } }],
        'current-context': 'kind-observer',
      }),
    );
    vi.stubEnv('KUBECONFIG', kubeconfig);
    // Named before the existing context's API server (127.0.0.1:1, refusing) is dialled.
    const missing = await connectContexts({ observer: 'kind-observer', observee: 'kind-nope' }, dir, { KUBECONFIG: kubeconfig }).then(
      () => undefined,
      (err: Error) => err.message,
    );
    expect(missing).toBe(`no kubeconfig context "kind-nope" (for observee) in ${kubeconfig}: have kind-observer, kind-observee`);
    expect(missing).not.toContain('\n');
  });
});


describe('a kind cluster given as a context', () => {
  it('is recognised by the name kind gives its contexts, for loading images with kind (the operator scenario needs its own)', () => {
    expect(kindClusterOfContext('kind-thanos-ha-e2e-abc123-observee')).toBe('thanos-ha-e2e-abc123-observee');
    expect(kindClusterOfContext('kind-kind')).toBe('kind');
    for (const other of ['eks-observee', 'kind-', 'thanos-ha-e2e-local', 'arn:aws:eks:eu-west-1:1:cluster/kind-x', 'kind-UPPER']) expect(kindClusterOfContext(other), other).toBeUndefined();
  });
});
