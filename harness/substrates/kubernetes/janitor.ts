// Namespaces of kube runs whose Node process died without tearing down (kill -9, OOM, a lost
// machine): every namespace a run creates carries OWNER_LABEL "<host>.<pid>", and the next run on the
// same host (or `node harness/cli.ts clean`) deletes those whose pid is no longer alive. Only
// namespaces with that label and this host's name are ever considered: a pid says nothing about a
// process of another machine.
import { hostname } from 'node:os';
import type { V1Namespace } from '@kubernetes/client-node';
import { apiMessage, OWNER_LABEL, type KubeCluster } from './cluster.ts';

/**
 * This machine as the owner label names it. os.hostname(), not $HOSTNAME: bash sets HOSTNAME without
 * exporting it, so Node usually does not see it, and a fallback shared by every machine would make
 * one machine's janitor judge another machine's pids.
 */
export function ownerHost(name: string = hostname()): string {
  // A label value: [A-Za-z0-9._-], starting with an alphanumeric, at most 63 characters with ".<pid>".
  const host = name.replace(/[^A-Za-z0-9.-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 50);
  return host || 'host';
}

/** Which host and process own a namespace, as a label value: "<host>.<pid>". */
export function ownerLabel(): string {
  return `${ownerHost()}.${process.pid}`;
}

export interface Owner {
  host: string;
  pid: number;
}

/** "<host>.<pid>" (the host may contain dots), or undefined for anything else. */
export function parseOwner(value: string | undefined): Owner | undefined {
  const match = /^(.+)\.([1-9]\d{0,9})$/.exec(value ?? '');
  if (!match) return undefined;
  const pid = Number(match[2]);
  return Number.isSafeInteger(pid) ? { host: match[1]!, pid } : undefined;
}

/** Whether a process of this machine exists; only ESRCH says it does not (EPERM: it exists, not ours). */
export function pidAlive(pid: number, kill: (pid: number, signal: 0) => unknown = (p, s) => process.kill(p, s)): boolean {
  try {
    kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * The namespaces to delete: labelled with an owner on `host` whose pid is not alive, and not already
 * being deleted. Unlabelled, malformed, other hosts' and live owners' namespaces are never chosen.
 */
export function abandonedNamespaces(namespaces: readonly Pick<V1Namespace, 'metadata'>[], host: string, alive: (pid: number) => boolean): { name: string; owner: string }[] {
  const chosen: { name: string; owner: string }[] = [];
  for (const ns of namespaces) {
    const name = ns.metadata?.name;
    const value = ns.metadata?.labels?.[OWNER_LABEL];
    const owner = parseOwner(value);
    if (!name || !owner || owner.host !== host || ns.metadata?.deletionTimestamp) continue;
    if (alive(owner.pid)) continue;
    chosen.push({ name, owner: value! });
  }
  return chosen;
}

/**
 * Deletes this host's abandoned namespaces in one Kubernetes cluster (without waiting for them to be
 * gone: a new run's namespaces have other names); returns their names. A namespace that cannot be
 * deleted is reported and left.
 */
export async function cleanAbandonedNamespaces(cluster: KubeCluster, onProgress: (line: string) => void): Promise<string[]> {
  let list: V1Namespace[];
  try {
    list = (await cluster.core.listNamespace({ labelSelector: OWNER_LABEL })).items;
  } catch (err) {
    throw new Error(`cannot list namespaces in context ${cluster.context} to clean up abandoned runs: ${apiMessage(err)}`);
  }
  const deleted: string[] = [];
  for (const { name, owner } of abandonedNamespaces(list, ownerHost(), (pid) => pidAlive(pid))) {
    try {
      await cluster.core.deleteNamespace({ name });
    } catch (err) {
      if ((err as { code?: number }).code === 404) continue; // deleted in the meantime
      onProgress(`cannot delete abandoned namespace ${name} in context ${cluster.context}: ${apiMessage(err)}`);
      continue;
    }
    onProgress(`cleaned up abandoned namespace ${name} in context ${cluster.context} (owner ${owner} is gone)`);
    deleted.push(name);
  }
  return deleted;
}
