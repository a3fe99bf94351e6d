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
    case 'k3s':
    case 'kube':
      throw new Error(`substrate "${name}" is not available yet in this version; use THANOS_HA_E2E_SUBSTRATE=process`);
    default:
      throw new Error(`unknown substrate "${name}" in THANOS_HA_E2E_SUBSTRATE: choose one of ${SUBSTRATES.join(', ')}`);
  }
}
