// vitest globalSetup of the scenario projects: checks once whether the project's substrate can run
// here (Docker and images for k3s, pulled where a registry serves them; reachable contexts for kube).
// If not, it prints one line saying what is missing and the scenario files skip their tests
// (harness/scenario.ts, through currentSubstrate().unavailable) instead of failing.
import type { TestProject } from 'vitest/node';
import { currentSubstrate, recordUnavailable, substrateUnavailable } from './index.ts';

export default async function setup(project: TestProject): Promise<void> {
  // The project's own environment names its substrate (vitest.config.ts), over this process's.
  const { name } = currentSubstrate({ ...process.env, ...project.config.env });
  const reason = await substrateUnavailable(name, process.env, { onProgress: (line) => process.stderr.write(`[${project.name}] ${line}\n`) });
  // Per substrate, because every project's workers inherit this process's environment.
  recordUnavailable(name, reason);
  if (reason) process.stderr.write(`[${project.name}] skipping the scenarios on the ${name} substrate: ${reason}\n`);
}
