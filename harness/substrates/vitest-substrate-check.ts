// vitest globalSetup of the scenario projects: checks once whether the project's substrate can run
// here (Docker and images for k3s, pulled where a registry serves them; reachable contexts for kube).
// If not, it prints one line saying what is missing and the scenario files skip their tests
// (harness/scenario.ts, through currentSubstrate().unavailable) instead of failing. A run that
// asked for its substrate by name (THANOS_HA_E2E_REQUIRE_SUBSTRATE=1: npm run test:kube and
// test:kube-two-clusters) fails instead, with the same line: there, a context that does not exist is
// bad input, and a run whose every test was skipped must not pass.
import type { TestProject } from 'vitest/node';
import { currentSubstrate, recordUnavailable, substrateUnavailable } from './index.ts';

export default async function setup(project: TestProject): Promise<void> {
  // The project's own environment names its substrate (vitest.config.ts), over this process's.
  const { name } = currentSubstrate({ ...process.env, ...project.config.env });
  const reason = await substrateUnavailable(name, process.env, { onProgress: (line) => process.stderr.write(`[${project.name}] ${line}\n`) });
  // Per substrate, because every project's workers inherit this process's environment.
  recordUnavailable(name, reason);
  const refusal = substrateRefusal(name, reason, process.env);
  if (refusal) {
    const error = new Error(refusal);
    error.stack = refusal; // one line, not a stack trace of this file
    throw error;
  }
  if (reason) process.stderr.write(`[${project.name}] skipping the scenarios on the ${name} substrate: ${reason}\n`);
}

/** The one-line error that fails a run which required its substrate; undefined when it can run or was not required. */
export function substrateRefusal(name: string, reason: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  return reason && env.THANOS_HA_E2E_REQUIRE_SUBSTRATE === '1' ? `the ${name} substrate cannot run: ${reason}` : undefined;
}
