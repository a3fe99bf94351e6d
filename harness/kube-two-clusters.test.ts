// The two-context command without Docker or clusters: its command line, the one kubeconfig it writes
// from the kind clusters' own, and the environment it gives the vitest run.
import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { kubeSettings } from './substrates/kube/index.ts';
import { contextsVariable, kubeTwoClustersEnv, parseTwoClustersArgs, twoContextKubeconfig, vitestArgv } from './kube-two-clusters.ts';

/** A kubeconfig as `kind create cluster --kubeconfig` writes it: cluster, user and context kind-<name>. */
function kindKubeconfig(name: string, port: number): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: `kind-${name}`, server: `https://127.0.0.1:${port}`, caData: `ca-${name}`, skipTLSVerify: false }],
    users: [{ name: `kind-${name}`, certData: `cert-${name}`, keyData: `key-${name}` }],
    contexts: [{ name: `kind-${name}`, cluster: `kind-${name}`, user: `kind-${name}` }],
    currentContext: `kind-${name}`,
  });
  return kc;
}

const errorOf = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('no error');
};

describe('the command line', () => {
  it('passes everything but its own options to vitest, in order', () => {
    expect(parseTwoClustersArgs([], {})).toEqual({ s3: 'versitygw', vitest: [], help: false });
    expect(parseTwoClustersArgs(['--', 'scenarios/arch1-sidecar.e2e.ts', '-t', 'fixed'], {})).toEqual({ s3: 'versitygw', vitest: ['scenarios/arch1-sidecar.e2e.ts', '-t', 'fixed'], help: false });
    expect(parseTwoClustersArgs(['arch1', '--s3', 'localstack', '--bail=1'], {})).toEqual({ s3: 'localstack', vitest: ['arch1', '--bail=1'], help: false });
    expect(parseTwoClustersArgs(['--s3=versitygw', '-h'], {})).toMatchObject({ s3: 'versitygw', help: true });
    expect(vitestArgv(['arch1'])).toEqual(['run', '--project', 'e2e', 'arch1']);
  });

  it('takes the S3 from THANOS_HA_E2E_S3 unless --s3 says otherwise', () => {
    expect(parseTwoClustersArgs([], { THANOS_HA_E2E_S3: 'localstack' }).s3).toBe('localstack');
    expect(parseTwoClustersArgs(['--s3', 'versitygw'], { THANOS_HA_E2E_S3: 'localstack' }).s3).toBe('versitygw');
  });

  it('refuses, in one line, an S3 it does not know, and a project', () => {
    expect(errorOf(() => parseTwoClustersArgs(['--s3', 'minio'], {}))).toBe('--s3 minio: use --s3 versitygw or --s3 localstack');
    expect(errorOf(() => parseTwoClustersArgs(['--s3'], {}))).toBe('--s3 (nothing): use --s3 versitygw or --s3 localstack');
    expect(errorOf(() => parseTwoClustersArgs([], { THANOS_HA_E2E_S3: 'minio' }))).toBe('THANOS_HA_E2E_S3="minio" is not an S3 of this command: use versitygw or localstack');
    expect(errorOf(() => parseTwoClustersArgs(['--project', 'kind'], {}))).toBe('--project: the command runs the e2e project on the kube substrate; give file filters or -t instead');
  });
});

describe('the kubeconfig with two contexts', () => {
  const byRole = { observer: kindKubeconfig('thanos-ha-e2e-abc123-observer', 40001), observee: kindKubeconfig('thanos-ha-e2e-abc123-observee', 40002) };

  it("holds each kind cluster's cluster, user and context, each context reaching its own API server with its own credentials", () => {
    const { kubeConfig, contexts } = twoContextKubeconfig(byRole);
    expect(contexts).toEqual({ observer: 'kind-thanos-ha-e2e-abc123-observer', observee: 'kind-thanos-ha-e2e-abc123-observee' });
    // Written and read back, as the vitest run reads KUBECONFIG.
    const read = new KubeConfig();
    read.loadFromString(kubeConfig.exportConfig());
    expect(read.getContexts().map((c) => c.name)).toEqual(['kind-thanos-ha-e2e-abc123-observer', 'kind-thanos-ha-e2e-abc123-observee']);
    for (const [role, port] of [['observer', 40001], ['observee', 40002]] as const) {
      read.setCurrentContext(contexts[role]!);
      expect(read.getCurrentCluster()).toMatchObject({ server: `https://127.0.0.1:${port}`, caData: `ca-thanos-ha-e2e-abc123-${role}` });
      expect(read.getCurrentUser()).toMatchObject({ certData: `cert-thanos-ha-e2e-abc123-${role}`, keyData: `key-thanos-ha-e2e-abc123-${role}` });
    }
  });

  it('refuses, in one line, two roles whose kubeconfigs use one name (they would overwrite each other)', () => {
    expect(errorOf(() => twoContextKubeconfig({ observer: kindKubeconfig('same', 1), observee: kindKubeconfig('same', 2) }))).toBe(
      'the kubeconfigs of the roles share the context name "kind-same": cannot merge them into one file',
    );
    const broken = new KubeConfig();
    broken.loadFromOptions({ clusters: [], users: [], contexts: [{ name: 'x', cluster: 'missing', user: 'u' }], currentContext: 'x' });
    expect(errorOf(() => twoContextKubeconfig({ observer: broken }))).toBe('the kubeconfig of observer has no complete current context (context "x", its cluster and user)');
  });
});

describe('the environment of the vitest run', () => {
  const run = { kubeconfig: '/tmp/thanos-ha-e2e-kind-x/kubeconfig', contexts: { observer: 'kind-a-observer', observee: 'kind-a-observee' }, s3Endpoint: '172.18.0.1:41234' };

  it('is what the kube substrate reads: two contexts and the S3 on the gateway, plain http, a fresh bucket per topology', () => {
    const env = kubeTwoClustersEnv({ PATH: '/usr/bin', HOME: '/root' }, run);
    expect(env).toMatchObject({ PATH: '/usr/bin', HOME: '/root', THANOS_HA_E2E_SUBSTRATE: 'kube', THANOS_HA_E2E_REQUIRE_SUBSTRATE: '1', KUBECONFIG: run.kubeconfig });
    expect(contextsVariable(run.contexts)).toBe('observer=kind-a-observer,observee=kind-a-observee');
    // Read by the kube substrate's own parser: no error, the contexts and the S3 as meant.
    expect(kubeSettings(env)).toEqual({
      contexts: run.contexts,
      s3: { endpoint: '172.18.0.1:41234', bucket: 'thanos-ha-e2e', accessKey: 'thanos-ha-e2e', secretKey: 'thanos-ha-e2e-secret', region: 'us-east-1', insecure: true, createBucket: true },
    });
  });

  it("drops the caller's variables that would send the run elsewhere, and replaces their kube configuration", () => {
    const env = kubeTwoClustersEnv(
      {
        KUBECONFIG: '/root/.kube/config',
        THANOS_HA_E2E_KUBE_CONTEXTS: 'observer=eks-a,observee=eks-b',
        THANOS_HA_E2E_SUBSTRATE: 'kind',
        THANOS_HA_E2E_KUBE_NODE_OBSERVEE: '10.0.0.1',
        THANOS_HA_E2E_KUBE_PROXY_METRICS: 'http://10.0.0.1:10249/metrics',
        THANOS_HA_E2E_STORAGE_CLASS: 'gp3',
        THANOS_HA_E2E_UNAVAILABLE_KUBE: 'stale',
        AWS_PROFILE: 'prod',
        AWS_SESSION_TOKEN: 'token',
        THANOS_HA_E2E_KEEP: '1',
      },
      run,
    );
    expect(env.KUBECONFIG).toBe(run.kubeconfig);
    expect(env.THANOS_HA_E2E_KUBE_CONTEXTS).toBe('observer=kind-a-observer,observee=kind-a-observee');
    expect(env.THANOS_HA_E2E_SUBSTRATE).toBe('kube');
    for (const gone of ['THANOS_HA_E2E_KUBE_NODE_OBSERVEE', 'THANOS_HA_E2E_KUBE_PROXY_METRICS', 'THANOS_HA_E2E_STORAGE_CLASS', 'THANOS_HA_E2E_UNAVAILABLE_KUBE', 'AWS_PROFILE', 'AWS_SESSION_TOKEN']) {
      expect(env, gone).not.toHaveProperty(gone);
    }
    expect(env.THANOS_HA_E2E_KEEP).toBe('1'); // the rest passes through
  });
});
