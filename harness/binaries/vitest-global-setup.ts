// vitest globalSetup of the e2e project: provisions every binary once, before any scenario starts
// (a first Go build takes minutes, which no single test's timeout should absorb), then hands the
// paths to the test workers as THANOS_BIN, PROMETHEUS_BIN, ..., so that their own resolveBinary()
// takes the environment-override path at once. Workers are started after this and inherit process.env.
import { envVarName, resolveAll } from './provision.ts';
import { LOCALSTACK_VENV_VARIABLE, localstackWanted, resolveLocalstack } from './localstack.ts';

export default async function setup(): Promise<void> {
  const binaries = await resolveAll({ onProgress: (line) => process.stderr.write(`[binaries] ${line}\n`) });
  for (const binary of binaries) {
    process.env[envVarName(binary.name)] = binary.path;
    process.stderr.write(`[binaries] ${binary.name} ${binary.reportedVersion ?? '(unstamped)'} from ${binary.source}: ${binary.path}\n`);
  }
  // LocalStack only where THANOS_HA_E2E_S3=localstack asks for it (a pip install, not a Go build).
  if (localstackWanted()) {
    const ls = await resolveLocalstack({ onProgress: (line) => process.stderr.write(`[localstack] ${line}\n`) });
    process.env[LOCALSTACK_VENV_VARIABLE] = ls.venv;
    process.stderr.write(`[localstack] localstack-core ${ls.version} from ${ls.source}: ${ls.venv}\n`);
  }
}
