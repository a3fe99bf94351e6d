import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../wait.ts';
import { SupervisedProcess } from './supervised-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'supervised-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function runToExit(id: string, script: string): Promise<SupervisedProcess> {
  const p = new SupervisedProcess({ id, binaryPath: '/bin/sh', args: ['-c', script], cwd: dir, logFile: join(dir, `${id.replace('/', '_')}.log`), runDir: dir });
  p.start();
  await waitFor(`${id} to exit`, async () => p.exitReason(), { timeoutMs: 5_000, intervalMs: 20 });
  return p;
}

describe('SupervisedProcess.exitReason', () => {
  it('names the process, its exit code and the log line that says why, on one line', async () => {
    const p = await runToExit('observer/query', 'echo "level=info msg=starting"; echo "level=error msg=\\"no such file\\""; echo "level=info msg=bye"; exit 3');
    const reason = p.exitReason()!;
    expect(reason).toBe(`observer/query exited with code 3: level=error msg="no such file" (log: ${join(dir, 'observer_query.log')})`);
    expect(reason).not.toContain('\n');
  });

  it('names the frame a Go panic came from, not only its message', async () => {
    // The shape Go 1.26 prints for a nil dereference in a method (GOTRACEBACK=single).
    const trace = [
      'level=info msg="starting receive"',
      'panic: runtime error: invalid memory address or nil pointer dereference',
      '[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x47a750]',
      '',
      'goroutine 42 [running]:',
      'panic({0x1e2c3a0?, 0x3c1f5e0?})',
      '\t/usr/local/go/src/runtime/panic.go:783 +0x132',
      'github.com/thanos-io/thanos/pkg/receive.(*Handler).fanoutForward(0xc000123450, {0x2a1b2c0, 0xc000abc000})',
      '\t/go/pkg/mod/github.com/thanos-io/thanos@v0.42.5/pkg/receive/handler.go:812 +0x3a',
      'created by github.com/thanos-io/thanos/pkg/receive.(*Handler).forward in goroutine 40',
    ];
    const p = await runToExit('observer/receive-0', `printf '%s\\n' ${trace.map((l) => `'${l}'`).join(' ')}; exit 2`);
    expect(p.exitReason()).toBe(
      'observer/receive-0 exited with code 2: panic: runtime error: invalid memory address or nil pointer dereference ' +
        `at github.com/thanos-io/thanos/pkg/receive.(*Handler).fanoutForward (receive/handler.go:812) (log: ${join(dir, 'observer_receive-0.log')})`,
    );
    expect(p.panicTrace()!.split('\n')).toEqual(trace.slice(1));
  });

  it('says what to do when a port was taken', async () => {
    const p = await runToExit('s3', 'echo "listen tcp 127.0.0.1:40000: bind: address already in use" >&2; exit 1');
    expect(p.exitReason()).toMatch(/^s3 exited with code 1: a port it needs is already in use \(another program took it between port selection and start: run again\)/);
  });
});

describe('SupervisedProcess.stop', () => {
  it('is no unexpected exit, and start() runs it again (an S3 outage on the process substrate)', async () => {
    const p = new SupervisedProcess({ id: 's3', binaryPath: '/bin/sh', args: ['-c', 'exec sleep 30'], cwd: dir, logFile: join(dir, 's3.log'), runDir: dir }, (reason) => {
      throw new Error(`reported as unexpected: ${reason}`);
    });
    p.start();
    expect(p.running).toBe(true);
    await p.stop();
    expect(p.running).toBe(false);
    expect(p.exitReason()).toMatch(/^s3 was killed by SIGTERM/);
    expect(p.unexpectedExit()).toBeUndefined();
    p.start();
    expect(p.running).toBe(true);
    expect(p.exitReason()).toBeUndefined();
    await p.kill();
  });

  it("waits the grace it is given, not execa's 5 s, for a process that takes longer to exit on SIGTERM (Receive cutting its head)", async () => {
    // Exits by itself 5.5 s after SIGTERM (the trap runs once the current 0.1 s sleep ends; no
    // child outlives the shell, which would keep its output pipe open).
    const script = "trap 'sleep 5.5; exit 7' TERM; while :; do sleep 0.1; done";
    const p = new SupervisedProcess({ id: 'observer/receive', binaryPath: '/bin/sh', args: ['-c', script], cwd: dir, logFile: join(dir, 'slow-stop.log'), runDir: dir });
    p.start();
    await new Promise((r) => setTimeout(r, 200)); // the trap set
    await p.stop(8_000);
    expect(p.exitReason()).toMatch(/^observer\/receive exited with code 7/);
  }, 10_000);
});
