import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { kubeCluster, kubeSkipReason, roleContext } from './cluster.ts';

const contexts = (value: string) => ({ THANOS_HA_E2E_KUBE_CONTEXTS: value });

describe('kube scenario environment', () => {
  it("takes a role's context from the kube substrate's THANOS_HA_E2E_KUBE_CONTEXTS", () => {
    expect(roleContext('observee', contexts('observer=ctxA, observee=ctxB'))).toBe('ctxB');
    expect(roleContext('observer', contexts('observee=one,observer=one'))).toBe('one');
  });

  it('names what is wrong in a one-line error', () => {
    expect(() => roleContext('observee', contexts('observer=ctxA'))).toThrow(
      'THANOS_HA_E2E_KUBE_CONTEXTS has no context for "observee", which the operator scenario runs on: add observee=<context>',
    );
    // The kube substrate's own parse errors.
    expect(() => roleContext('observee', contexts('observer'))).toThrow('THANOS_HA_E2E_KUBE_CONTEXTS: "observer" is not <cluster>=<context>');
    expect(() => roleContext('observee', {})).toThrow(/needs THANOS_HA_E2E_KUBE_CONTEXTS/);
  });

  it('runs on the kube substrate with contexts, and on kind unless its project found it unavailable', () => {
    expect(kubeSkipReason({})).toMatch(/^needs THANOS_HA_E2E_SUBSTRATE=kube \(is process\)/);
    expect(kubeSkipReason({ THANOS_HA_E2E_SUBSTRATE: 'kube' })).toMatch(/needs THANOS_HA_E2E_KUBE_CONTEXTS/);
    expect(kubeSkipReason({ THANOS_HA_E2E_SUBSTRATE: 'kube', THANOS_HA_E2E_KUBE_CONTEXTS: 'observer=a,observee=b' })).toBeUndefined();
    expect(kubeSkipReason({ THANOS_HA_E2E_SUBSTRATE: 'kind' })).toBeUndefined();
    expect(kubeSkipReason({ THANOS_HA_E2E_SUBSTRATE: 'kind', THANOS_HA_E2E_UNAVAILABLE_KIND: 'no Docker engine answers' })).toBe('kind substrate unavailable: no Docker engine answers');
  });
});

describe('kubeCluster: connected like the kube substrate connects its contexts', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    vi.unstubAllEnvs();
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  /** A kubeconfig with one context "reachable-not" whose API server refuses connections, and an empty TMPDIR. */
  async function setup(): Promise<{ kubeconfig: string; tmp: string }> {
    const dir = await mkdtemp(join(tmpdir(), 'thanos-ha-e2e-operator-cluster-'));
    dirs.push(dir);
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{ name: c, cluster: { server: "https://127.0.0.1:1" } }]',
        'users: [{ name: u, user: { token: t } }]',
        'contexts: [{ name: reachable-not, context: { cluster: c, user: u } }]',
        'current-context: reachable-not',
      ].join('\n'),
    );
    const tmp = join(dir, 'tmp');
    await mkdir(tmp);
    vi.stubEnv('KUBECONFIG', kubeconfig);
    vi.stubEnv('TMPDIR', tmp); // where connectContexts' kubeconfig copy goes: must be empty afterwards
    return { kubeconfig, tmp };
  }

  it('says which contexts the kubeconfig has when the role names another', async () => {
    const { kubeconfig, tmp } = await setup();
    await expect(kubeCluster('observee', { ...contexts('observer=x,observee=missing'), KUBECONFIG: kubeconfig })).rejects.toThrow(
      `no kubeconfig context "missing" (for observee) in ${kubeconfig}: have reachable-not`,
    );
    expect(await readdir(tmp)).toEqual([]);
  });

  it('fails in one line when the API server cannot be reached, and leaves no kubeconfig copy behind', async () => {
    const { tmp } = await setup();
    const failure = kubeCluster('observee', contexts('observer=reachable-not,observee=reachable-not'));
    await expect(failure).rejects.toThrow(/^cannot reach the API server of context "reachable-not" \(https:\/\/127\.0\.0\.1:1\): [^\n]+$/);
    expect(await readdir(tmp)).toEqual([]);
  });
});
