// Choosing a substrate: THANOS_HA_E2E_SUBSTRATE (or the CLI's --substrate) is the only switch.
import { processSubstrate } from './process/index.ts';
import type { Substrate, SubstrateName } from './types.ts';

export type { RunningTopology, Substrate, SubstrateName, UpOptions } from './types.ts';

export const SUBSTRATES: SubstrateName[] = ['process', 'k3s', 'kube'];

export function substrateFromEnv(env: NodeJS.ProcessEnv = process.env): Substrate {
  const name = env.THANOS_HA_E2E_SUBSTRATE ?? 'process';
  switch (name) {
    case 'process':
      return processSubstrate;
    // Loaded when chosen: a process run needs neither testcontainers nor the Kubernetes client.
    case 'kube':
      return { name, up: async (topology, opts) => (await import('./kube/index.ts')).kubeSubstrate.up(topology, opts) };
    case 'k3s':
      return { name, up: async (topology, opts) => (await import('./k3s/index.ts')).k3sSubstrate.up(topology, opts) };
    default:
      throw new Error(`unknown substrate "${name}" in THANOS_HA_E2E_SUBSTRATE: choose one of ${SUBSTRATES.join(', ')}`);
  }
}

/** Why a substrate cannot run on this machine, in one line; undefined when it can. */
export async function substrateUnavailable(name: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  try {
    switch (name) {
      case 'process':
        return undefined;
      case 'k3s':
        return await (await import('./k3s/index.ts')).k3sUnavailable(env);
      case 'kube': {
        const kube = await import('./kube/index.ts');
        const { mkdtemp, rm } = await import('node:fs/promises');
        const { tmpdir } = await import('node:os');
        const { join } = await import('node:path');
        const dir = await mkdtemp(join(tmpdir(), 'thanos-ha-e2e-check-'));
        try {
          await kube.connectContexts(kube.kubeSettings(env).contexts, dir, env);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
        return undefined;
      }
      default:
        return `unknown substrate "${name}": choose one of ${SUBSTRATES.join(', ')}`;
    }
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** The variable through which vitest's global setup tells scenario workers that a substrate is unavailable. */
export const unavailableVariable = (name: string) => `THANOS_HA_E2E_UNAVAILABLE_${name.toUpperCase()}`;
