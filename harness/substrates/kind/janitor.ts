// kind runs whose Node process died without tearing down and whose reaper did not finish either (the
// machine rebooted, the reaper was killed too): the next kind run, and `node harness/cli.ts clean`,
// remove them. A run is found by its network (run-resources.ts), labelled "<host>.<pid>" like the
// Kubernetes namespaces (kubernetes/janitor.ts); only this host's runs with a dead pid are touched.
import { execa } from 'execa';
import type { Env } from '../../binaries/cache.ts';
import { ownerHost, parseOwner, pidAlive } from '../kubernetes/janitor.ts';
import { removeRun, RUN_OWNER_LABEL } from './run-resources.ts';

/** Lines of `docker network ls --format '{{.Name}} {{.Label ...}}'`: the networks to remove. */
export function abandonedRunNetworks(lines: readonly string[], host: string, alive: (pid: number) => boolean): string[] {
  const chosen: string[] = [];
  for (const line of lines) {
    const [name, value] = line.trim().split(/\s+/);
    const owner = parseOwner(value);
    if (!name || !owner || owner.host !== host || alive(owner.pid)) continue;
    chosen.push(name);
  }
  return chosen;
}

/** Removes this host's abandoned kind runs (their clusters, S3 and network); returns their networks. */
export async function cleanAbandonedKindRuns(env: Env, onProgress: (line: string) => void): Promise<string[]> {
  const listed = await execa('docker', ['network', 'ls', '--filter', `label=${RUN_OWNER_LABEL}`, '--format', `{{.Name}} {{.Label ${JSON.stringify(RUN_OWNER_LABEL)}}}`], {
    env,
    reject: false,
    stdin: 'ignore',
    timeout: 30_000,
  });
  if (listed.exitCode !== 0) return [];
  const networks = abandonedRunNetworks(listed.stdout.split('\n').filter(Boolean), ownerHost(), (pid) => pidAlive(pid));
  for (const network of networks) {
    await removeRun(network, env);
    onProgress(`cleaned up abandoned kind run ${network} (its clusters, S3 and network: the process that made it is gone)`);
  }
  return networks;
}
