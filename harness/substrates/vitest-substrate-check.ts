// vitest globalSetup of the scenario projects: checks once whether the project's substrate can run
// here (Docker and images for k3s, pulled where a registry serves them; reachable contexts for kube).
// If not, it prints one line saying what is missing and the scenario files skip their tests
// (harness/scenario.ts) instead of failing.
import type { TestProject } from 'vitest/node';
import { substrateUnavailable, unavailableVariable } from './index.ts';

export default async function setup(project: TestProject): Promise<void> {
  const substrate = project.config.env?.THANOS_HA_E2E_SUBSTRATE ?? process.env.THANOS_HA_E2E_SUBSTRATE ?? 'process';
  const reason = await substrateUnavailable(substrate, process.env, { onProgress: (line) => process.stderr.write(`[${project.name}] ${line}\n`) });
  // Per substrate, because every project's workers inherit this process's environment.
  if (reason) {
    process.env[unavailableVariable(substrate)] = reason;
    process.stderr.write(`[${project.name}] skipping the scenarios on the ${substrate} substrate: ${reason}\n`);
  } else {
    delete process.env[unavailableVariable(substrate)];
  }
}
