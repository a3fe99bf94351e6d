// Guaranteed teardown, checked from outside: the CLI brings a topology up, gets a signal, and
// afterwards no process of the run and no run directory may remain.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../harness/wait.ts';

const runsBase = mkdtempSync(join(tmpdir(), 'teardown-runs-'));
afterAll(() => rmSync(runsBase, { recursive: true, force: true }));
const env = { THANOS_HA_E2E_RUNS: runsBase };

/** Processes whose environment carries a run marker under runsBase (what the harness starts). */
function processesOfRuns(): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/environ`, 'latin1').includes(`THANOS_HA_E2E_RUN=${runsBase}/`);
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function upUntilReady() {
  const cli = execa('node', ['harness/cli.ts', 'up', 'arch1-store-only'], { env, reject: false, all: true });
  let output = '';
  let exited = false;
  cli.all.on('data', (d: Buffer) => (output += d.toString()));
  void cli.then(() => (exited = true));
  await waitFor('the topology to be up', async () => (output.includes('Ctrl-C tears everything down') ? true : undefined), {
    timeoutMs: 120_000,
    abort: () => (exited ? `the CLI exited: ${output}` : undefined),
  });
  return { cli }; // wrapped: returning the subprocess itself from an async function would await it
}

// What it counts (processes, run directories) exists on the process substrate only; the Kubernetes
// substrates' teardown waits until their namespaces are gone (kube/deploy.ts).
const substrate = process.env.THANOS_HA_E2E_SUBSTRATE ?? 'process';

describe.skipIf(substrate !== 'process')(`teardown (process substrate${substrate === 'process' ? '' : `; skipped on ${substrate}`})`, () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`leaves no process and no run directory after ${signal}`, async () => {
      const { cli } = await upUntilReady();
      expect(processesOfRuns().length).toBe(9); // 8 components + versitygw
      cli.kill(signal);
      const result = await cli;
      expect(result.exitCode).toBe(signal === 'SIGINT' ? 130 : 143);
      expect(processesOfRuns()).toEqual([]);
      expect(readdirSync(runsBase)).toEqual([]);
    });
  }

  it('cleans up after a Node process killed outright (SIGKILL), at the next start or with `clean`', async () => {
    const { cli } = await upUntilReady();
    cli.kill('SIGKILL');
    await cli;
    expect(processesOfRuns().length).toBeGreaterThan(0); // nothing can run inside a SIGKILLed process
    const clean = await execa('node', ['harness/cli.ts', 'clean'], { env });
    expect(clean.stderr).toMatch(/^cleaned 1 abandoned run\(s\): /);
    expect(processesOfRuns()).toEqual([]);
    expect(readdirSync(runsBase)).toEqual([]);
  });
});
