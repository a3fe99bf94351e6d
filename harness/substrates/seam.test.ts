import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { arch1 } from '../presets/arch1.ts';
import { compactorOverlap } from '../presets/compactor-overlap.ts';
import { currentSubstrate, KILL_OUTRIGHT_REFUSAL } from './index.ts';
import { kubeProvider } from './kube/index.ts';
import { substrateRefusal } from './vitest-substrate-check.ts';

const contexts = (value: string) => ({ THANOS_HA_E2E_KUBE_CONTEXTS: value });

const lend = (env: Record<string, string>) => kubeProvider.lendCluster!('observee', { env, onProgress: () => {} });

describe('currentSubstrate: the one seam', () => {
  it('reads THANOS_HA_E2E_SUBSTRATE, default process, and refuses an unknown one in one line', () => {
    expect(currentSubstrate({})).toMatchObject({ name: 'process', local: true, unavailable: undefined, kubernetesCluster: undefined });
    expect(currentSubstrate({ THANOS_HA_E2E_SUBSTRATE: 'kube' })).toMatchObject({ name: 'kube', local: false });
    expect(() => currentSubstrate({ THANOS_HA_E2E_SUBSTRATE: 'nomad' })).toThrow('unknown substrate "nomad" in THANOS_HA_E2E_SUBSTRATE: choose one of process, kind, k3s, kube');
  });

  it('lends a Kubernetes cluster on kind and kube only', () => {
    expect(currentSubstrate({ THANOS_HA_E2E_SUBSTRATE: 'kind' }).kubernetesCluster).toBeTypeOf('function');
    expect(currentSubstrate({ THANOS_HA_E2E_SUBSTRATE: 'kube' }).kubernetesCluster).toBeTypeOf('function');
    expect(currentSubstrate({ THANOS_HA_E2E_SUBSTRATE: 'k3s' }).kubernetesCluster).toBeUndefined();
    expect(currentSubstrate({ THANOS_HA_E2E_SUBSTRATE: 'process' }).kubernetesCluster).toBeUndefined();
  });

  it("says why its substrate cannot run, as the project's global setup recorded it", () => {
    expect(currentSubstrate({ THANOS_HA_E2E_SUBSTRATE: 'kind' }).unavailable).toBeUndefined();
    expect(currentSubstrate({ THANOS_HA_E2E_SUBSTRATE: 'kind', THANOS_HA_E2E_UNAVAILABLE_KIND: 'no Docker engine answers' }).unavailable).toBe('no Docker engine answers');
    // Per substrate: another one's record does not count.
    expect(currentSubstrate({ THANOS_HA_E2E_SUBSTRATE: 'kube', THANOS_HA_E2E_UNAVAILABLE_KIND: 'no Docker engine answers' }).unavailable).toBeUndefined();
  });

  it('skips, in one line, a topology with a cluster kube has no context for (compactor-overlap on the two contexts)', () => {
    const kube = currentSubstrate({ THANOS_HA_E2E_SUBSTRATE: 'kube', THANOS_HA_E2E_KUBE_CONTEXTS: 'observer=kind-a-observer,observee=kind-a-observee' });
    const overlap = compactorOverlap();
    const missing = overlap.topology.clusters.map((c) => c.name).filter((n) => n !== 'observer' && n !== 'observee');
    expect(missing.length).toBeGreaterThan(0);
    const why = kube.cannotRun(overlap.topology)!;
    for (const m of missing) expect(why).toContain(`${m}=<context>`);
    expect(why).not.toContain('\n');
    // The note's two clusters are given: Arch 1 runs.
    expect(kube.cannotRun(arch1('side-by-side').topology)).toBeUndefined();
    // kind makes every cluster a topology names.
    expect(currentSubstrate({ THANOS_HA_E2E_SUBSTRATE: 'kind' }).cannotRun(overlap.topology)).toBeUndefined();
  });

  it('refuses, before bring-up and in one line, the faults kube cannot cause: a link cut always, an S3 outage of a foreign S3', () => {
    const kube = (env: Record<string, string> = {}) => currentSubstrate({ THANOS_HA_E2E_SUBSTRATE: 'kube', ...env });
    const link = kube().refuses(['cutLink']);
    expect(link).toBe('the kube substrate cannot cut a link: it runs on clusters whose network it does not own (this file runs on process, kind or k3s)');
    // The run's own S3 (no endpoint) can be stopped; a foreign one cannot.
    expect(kube().refuses(['stopS3'])).toBeUndefined();
    const s3 = kube({ THANOS_HA_E2E_S3_ENDPOINT: '172.18.0.1:7070' }).refuses(['stopS3']);
    expect(s3).toBe(
      "the kube substrate cannot stop S3: 172.18.0.1:7070 (THANOS_HA_E2E_S3_ENDPOINT) is not run by the harness; unset THANOS_HA_E2E_S3_ENDPOINT for the run's own S3 (both contexts one cluster)",
    );
    // The first refused is named; none asked for, none refused.
    expect(kube({ THANOS_HA_E2E_S3_ENDPOINT: 'x:1' }).refuses(['stopS3', 'cutLink'])).toBe(s3!.replace('172.18.0.1:7070', 'x:1'));
    expect(kube().refuses([])).toBeUndefined();
    for (const r of [link, s3]) expect(r).not.toContain('\n');
    // The other substrates cause both with versitygw; where LocalStack is known to be the S3 (asked
    // for, or k3s' default) the outage is refused before bring-up too (kind's LocalStack chosen only
    // at bring-up refuses it then).
    for (const name of ['process', 'kind', 'k3s']) expect(currentSubstrate({ THANOS_HA_E2E_SUBSTRATE: name, THANOS_HA_E2E_S3: 'versitygw', THANOS_HA_E2E_S3_ENDPOINT: 'x:1' }).refuses(['cutLink', 'stopS3']), name).toBeUndefined();
    for (const name of ['process', 'kind']) expect(currentSubstrate({ THANOS_HA_E2E_SUBSTRATE: name }).refuses(['cutLink', 'stopS3']), name).toBeUndefined();
    for (const name of ['process', 'kind', 'k3s']) {
      expect(currentSubstrate({ THANOS_HA_E2E_SUBSTRATE: name, THANOS_HA_E2E_S3: 'localstack' }).refuses(['cutLink', 'stopS3']), name).toMatch(new RegExp(`^the ${name} substrate cannot stop S3: LocalStack`));
    }
  });

  it('refuses a kill outright on every Kubernetes substrate, in one line, and causes it on the process substrate', () => {
    for (const name of ['kind', 'k3s', 'kube']) {
      const why = currentSubstrate({ THANOS_HA_E2E_SUBSTRATE: name, THANOS_HA_E2E_S3: 'versitygw' }).refuses(['killOutright']);
      expect(why, name).toBe(KILL_OUTRIGHT_REFUSAL);
      expect(why).not.toContain('\n');
    }
    expect(currentSubstrate({ THANOS_HA_E2E_SUBSTRATE: 'process' }).refuses(['killOutright', 'cutLink', 'stopS3'])).toBeUndefined();
  });

  it('fails a run that required its substrate (test:kube, test:kube-two-clusters) with the line that would have skipped it', () => {
    const reason = 'no kubeconfig context "kind-nope" (for observee) in /tmp/kubeconfig: have kind-a-observer, kind-a-observee';
    expect(substrateRefusal('kube', reason, { THANOS_HA_E2E_REQUIRE_SUBSTRATE: '1' })).toBe(`the kube substrate cannot run: ${reason}`);
    expect(substrateRefusal('kube', reason, {})).toBeUndefined(); // npm test: skipped, as before
    expect(substrateRefusal('kube', undefined, { THANOS_HA_E2E_REQUIRE_SUBSTRATE: '1' })).toBeUndefined();
  });

  it("takes the kube role's context from THANOS_HA_E2E_KUBE_CONTEXTS and names what is wrong in one line", async () => {
    await expect(lend(contexts('observer=ctxA'))).rejects.toThrow('THANOS_HA_E2E_KUBE_CONTEXTS has no context for "observee": add observee=<context>');
    // The kube substrate's own parse errors.
    await expect(lend(contexts('observer'))).rejects.toThrow('THANOS_HA_E2E_KUBE_CONTEXTS: "observer" is not <cluster>=<context>');
    await expect(lend({})).rejects.toThrow(/needs THANOS_HA_E2E_KUBE_CONTEXTS/);
  });
});

describe('the kube substrate lends a cluster connected as it connects its contexts', () => {
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
    await expect(lend({ ...contexts('observer=x,observee=missing'), KUBECONFIG: kubeconfig })).rejects.toThrow(
      `no kubeconfig context "missing" (for observee) in ${kubeconfig}: have reachable-not`,
    );
    expect(await readdir(tmp)).toEqual([]);
  });

  it('fails in one line when the API server cannot be reached, and leaves no kubeconfig copy behind', async () => {
    const { tmp } = await setup();
    const failure = lend(contexts('observer=reachable-not,observee=reachable-not'));
    await expect(failure).rejects.toThrow(/^cannot reach the API server of context "reachable-not" \(https:\/\/127\.0\.0\.1:1\): [^\n]+$/);
    expect(await readdir(tmp)).toEqual([]);
  });
});
