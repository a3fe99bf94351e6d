// The deploy path's teardown against a stand-in for the API: namespaces, then the volumes of their claims.
import { describe, expect, it } from 'vitest';
import type { KubeCluster } from './cluster.ts';
import { deleteNamespaces, judgeRestarts } from './deploy.ts';

type Volume = { name: string; claim: string; reclaimPolicy: string; phase: string };

/** A cluster whose namespaces vanish on deletion and whose volumes vanish after `pollsLeft` lists (reclaim Delete). */
function fakeCluster(namespaces: string[], volumes: Volume[], opts: { pollsLeft?: number; listError?: Error } = {}) {
  const existing = new Set(namespaces);
  let polls = 0;
  const cluster = {
    context: 'kind-observer',
    created: [...namespaces],
    core: { readNamespace: async ({ name }: { name: string }) => (existing.has(name) ? { metadata: { name } } : Promise.reject(new Error('404'))) },
    async deleteNamespaces() {
      for (const ns of this.created) existing.delete(ns);
      this.created.length = 0;
    },
    async volumesClaimedIn(ns: string[]) {
      if (opts.listError) throw opts.listError;
      polls++;
      const gone = polls > (opts.pollsLeft ?? 0);
      return volumes.filter((v) => ns.includes(v.claim.split('/')[0]!) && !(gone && v.reclaimPolicy === 'Delete'));
    },
    get polls() {
      return polls;
    },
  };
  return cluster;
}

const asCluster = (c: ReturnType<typeof fakeCluster>) => c as unknown as KubeCluster;

describe('teardown of a run with claims', () => {
  it('waits until the provisioner has deleted the volumes of the claims, and names those a Retain class keeps', async () => {
    const c = fakeCluster(
      ['run-observer'],
      [
        { name: 'pvc-1', claim: 'run-observer/data-receive-0-0', reclaimPolicy: 'Delete', phase: 'Released' },
        { name: 'pvc-2', claim: 'run-observer/data-receive-1-0', reclaimPolicy: 'Retain', phase: 'Released' },
        { name: 'pvc-3', claim: 'other-run/data-x-0', reclaimPolicy: 'Retain', phase: 'Bound' },
      ],
      { pollsLeft: 2 },
    );
    const lines: string[] = [];
    await deleteNamespaces([asCluster(c)], new Set([asCluster(c)]), (l) => lines.push(l));
    expect(c.polls).toBeGreaterThan(2); // it waited for pvc-1
    expect(lines).toEqual(['kept by reclaim policy Retain, not deleted by the harness: PersistentVolumes pvc-2 (run-observer/data-receive-1-0) in kind-observer']);
  });

  it('does not ask about volumes where the run had no claims', async () => {
    const c = fakeCluster(['run-observer'], [], { listError: new Error('must not be called') });
    const lines: string[] = [];
    await deleteNamespaces([asCluster(c)], new Set(), (l) => lines.push(l));
    expect(lines).toEqual([]);
  });

  it('says in one line when the volumes cannot be listed', async () => {
    const c = fakeCluster(['run-observer'], [], { listError: new Error('persistentvolumes is forbidden') });
    const lines: string[] = [];
    await deleteNamespaces([asCluster(c)], new Set([asCluster(c)]), (l) => lines.push(l));
    expect(lines).toEqual([
      "the PersistentVolumes of run-observer in kind-observer cannot be listed (persistentvolumes is forbidden): their StorageClass's reclaim policy decides whether they go",
    ]);
  });
});

describe('judgeRestarts', () => {
  const startError = (restartCount: number) => ({ name: 'query', restartCount, lastState: { terminated: { reason: 'StartError', exitCode: 128 } } });

  it('fails on a container that exited on its own', () => {
    const judged = judgeRestarts([{ name: 'query', restartCount: 1, lastState: { terminated: { reason: 'Error', exitCode: 1 } } }], new Map(), 'ns/query-0');
    expect(judged.failure).toBe('container query restarted (Error, exit code 1)');
  });

  it('tolerates the runtime failing to start a container twice, reporting each, and fails on the third', () => {
    const seen = new Map<string, number>();
    const first = judgeRestarts([startError(1)], seen, 'ns/query-0');
    expect(first.failure).toBeUndefined();
    expect(first.tolerated).toEqual([expect.stringContaining('(StartError, exit code 128); the kubelet started it again (1 of at most 2 tolerated)')]);
    expect(judgeRestarts([startError(1)], seen, 'ns/query-0')).toEqual({ tolerated: [] }); // the same restart, seen again
    expect(judgeRestarts([startError(2)], seen, 'ns/query-0').failure).toBeUndefined();
    expect(judgeRestarts([startError(3)], seen, 'ns/query-0').failure).toBe('container query restarted (StartError, exit code 128)');
  });

  it('fails on a crash after a tolerated start error', () => {
    const seen = new Map<string, number>();
    judgeRestarts([startError(1)], seen, 'ns/query-0');
    expect(judgeRestarts([{ name: 'query', restartCount: 2, lastState: { terminated: { reason: 'OOMKilled', exitCode: 137 } } }], seen, 'ns/query-0').failure).toBe('container query restarted (OOMKilled, exit code 137)');
  });
});
