// Choosing a substrate: THANOS_HA_E2E_SUBSTRATE (or the CLI's --substrate) is the only switch.
import { kubeSubstrate } from './kube/index.ts';
import { processSubstrate } from './process/index.ts';
import type { Substrate, SubstrateName } from './types.ts';

export type { RunningTopology, Substrate, SubstrateName, UpOptions } from './types.ts';

export const SUBSTRATES: SubstrateName[] = ['process', 'k3s', 'kube'];

export function substrateFromEnv(env: NodeJS.ProcessEnv = process.env): Substrate {
  const name = env.THANOS_HA_E2E_SUBSTRATE ?? 'process';
  switch (name) {
    case 'process':
      return processSubstrate;
    case 'kube':
      return kubeSubstrate;
    case 'k3s':
      throw new Error(`substrate "${name}" is not available yet in this version; use THANOS_HA_E2E_SUBSTRATE=process`);
    default:
      throw new Error(`unknown substrate "${name}" in THANOS_HA_E2E_SUBSTRATE: choose one of ${SUBSTRATES.join(', ')}`);
  }
}
