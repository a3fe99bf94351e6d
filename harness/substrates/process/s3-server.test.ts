import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from './ports.ts';
import { startS3Server } from './s3-server.ts';

const dir = mkdtempSync(join(tmpdir(), 's3-server-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A venv whose python behaves like a LocalStack that wants a token: says so, exits 55. */
function tokenAskingVenv(): string {
  const venv = join(dir, 'venv');
  mkdirSync(join(venv, 'bin'), { recursive: true });
  const python = join(venv, 'bin', 'python');
  writeFileSync(
    python,
    `#!/bin/sh
echo "LocalStack version: 2026.12.0"
echo "==============================================="
echo "License activation failed! Reason: No credentials were found in the environment. Please set the LOCALSTACK_AUTH_TOKEN variable."
exit 55
`,
  );
  chmodSync(python, 0o755);
  return venv;
}

describe('LocalStack as S3 on the process substrate', () => {
  it('a LocalStack that asks for a token fails the start at once, in one line naming LOCALSTACK_AUTH_TOKEN', async () => {
    const runDir = mkdtempSync(join(dir, 'run-'));
    const started = Date.now();
    const error = await startS3Server({
      backend: 'localstack',
      localstack: { version: '2026.12.0', venv: tokenAskingVenv(), python: '', source: 'env' },
      runDir,
      port: await freePort(),
      bucket: 'thanos',
    }).catch((e: Error) => e.message);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(error).toMatch(/LocalStack \(.*localstack\.log\) asks for an auth token \(LOCALSTACK_AUTH_TOKEN\): "License activation failed!/);
    expect(error).not.toContain('\n');
  });
});
