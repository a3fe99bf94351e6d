import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { OWNER_LABEL, RUN_LABEL } from './cluster.ts';
import { abandonedNamespaces, ownerHost, ownerLabel, parseOwner, pidAlive } from './janitor.ts';

const ns = (name: string, labels?: Record<string, string>, deleting = false) => ({
  metadata: { name, ...(labels ? { labels } : {}), ...(deleting ? { deletionTimestamp: new Date() } : {}) },
});
const owned = (name: string, owner: string, deleting = false) => ns(name, { [RUN_LABEL]: 'thanos-ha-e2e-abc123', [OWNER_LABEL]: owner }, deleting);
const errno = (code: string) => Object.assign(new Error(code), { code });

describe('owner label', () => {
  it('is "<this host>.<pid>", a valid label value', () => {
    expect(ownerLabel()).toBe(`${ownerHost()}.${process.pid}`);
    expect(ownerHost()).toBe(ownerHost(hostname()));
    expect(ownerLabel()).toMatch(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/);
    expect(parseOwner(ownerLabel())).toEqual({ host: ownerHost(), pid: process.pid });
  });

  it('turns any host name into the start of a label value', () => {
    expect(ownerHost('ip-10-0-1-2.eu-west-1.compute.internal')).toBe('ip-10-0-1-2.eu-west-1.compute.internal');
    expect(ownerHost('my_host')).toBe('my-host');
    expect(ownerHost('(none)')).toBe('none-');
    expect(ownerHost('-.x')).toBe('x');
    expect(ownerHost('')).toBe('host');
    expect(ownerHost('a'.repeat(80))).toHaveLength(50);
  });

  it('is parsed as host and pid, the host possibly with dots, anything else refused', () => {
    expect(parseOwner('vm.123')).toEqual({ host: 'vm', pid: 123 });
    expect(parseOwner('ip-10-0-1-2.ec2.internal.4194304')).toEqual({ host: 'ip-10-0-1-2.ec2.internal', pid: 4194304 });
    for (const bad of [undefined, '', 'vm', 'vm.', '.123', 'vm.0', 'vm.-1', 'vm.0123', 'vm.12a', 'vm.1e3', '123', 'vm.12345678901']) {
      expect(parseOwner(bad), String(bad)).toBeUndefined();
    }
  });
});

describe('pid liveness', () => {
  it('counts only ESRCH as dead', () => {
    expect(pidAlive(42, () => true)).toBe(true);
    expect(pidAlive(42, () => { throw errno('ESRCH'); })).toBe(false);
    expect(pidAlive(42, () => { throw errno('EPERM'); })).toBe(true); // exists, another user's
    expect(pidAlive(42, () => { throw new TypeError('bad pid'); })).toBe(true); // in doubt: alive, never deleted
  });

  it('tells this process from one that has exited', () => {
    expect(pidAlive(process.pid)).toBe(true);
    const child = spawnSync(process.execPath, ['-e', '0']);
    expect(child.pid).toBeGreaterThan(0);
    expect(pidAlive(child.pid!)).toBe(false);
  });
});

describe('abandoned namespaces', () => {
  const dead = new Set([111, 333]);
  const alive = (pid: number) => !dead.has(pid);

  it('are those of this host whose owner pid is gone, and only those', () => {
    const namespaces = [
      owned('mine-dead', 'vm.111'),
      owned('mine-alive', 'vm.222'),
      owned('other-host-dead', 'other.111'),
      owned('prefix-host-dead', 'vm2.111'),
      owned('legacy-host-dead', 'host.111'), // written by the former $HOSTNAME formula: not provably ours
      owned('mine-dead-deleting', 'vm.333', true),
      owned('malformed', 'vm'),
      owned('bad-pid', 'vm.abc'),
      ns('unlabelled'),
      ns('run-label-only', { [RUN_LABEL]: 'thanos-ha-e2e-abc123' }),
      ns('other-label', { 'example.com/owner': 'vm.111' }),
      { metadata: { labels: { [OWNER_LABEL]: 'vm.111' } } }, // no name
      {},
    ];
    expect(abandonedNamespaces(namespaces, 'vm', alive)).toEqual([{ name: 'mine-dead', owner: 'vm.111' }]);
  });

  it('compares the whole host, dots included', () => {
    const namespaces = [owned('a', 'ip-10-0-1-2.ec2.internal.111'), owned('b', 'ec2.internal.111'), owned('c', 'ip-10-0-1-2.111')];
    expect(abandonedNamespaces(namespaces, 'ip-10-0-1-2.ec2.internal', alive).map((n) => n.name)).toEqual(['a']);
  });

  it('asks about the pid of this host only', () => {
    const asked: number[] = [];
    abandonedNamespaces([owned('a', 'vm.1'), owned('b', 'elsewhere.2'), ns('c'), owned('d', 'vm.3')], 'vm', (pid) => (asked.push(pid), true));
    expect(asked).toEqual([1, 3]);
  });

  it('never chooses a live owner, whatever else holds', () => {
    expect(abandonedNamespaces([owned('a', 'vm.111'), owned('b', 'vm.333')], 'vm', () => true)).toEqual([]);
  });
});
