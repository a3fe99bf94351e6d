// S3 on the process substrate, on 127.0.0.1 at a port chosen at run time: versitygw with its POSIX
// backend (default), or LocalStack (THANOS_HA_E2E_S3=localstack), the pinned localstack-core run from
// its virtual environment with S3 alone. Either is a supervised process of the run, its files in the
// run directory, stopped and removed with the run however it ends. On 127.0.0.1, or opts.host: the
// two-context command (kube-two-clusters.ts) serves its kind clusters on its own Docker network's gateway.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { venvPython, type ResolvedLocalstack } from '../../binaries/localstack.ts';
import { Bucket, type S3Endpoint } from '../../s3/bucket.ts';
import { localstackEnv, s3Healthy, tokenDemand, tokenDemandMessage, type S3Backend } from '../../s3/localstack.ts';
import { S3_CREDENTIALS, versitygwArgs } from '../../s3/versitygw.ts';
import { waitFor } from '../../wait.ts';
import { SupervisedProcess, type UnexpectedExitHandler } from './supervised-process.ts';

export interface StartedS3 {
  process: SupervisedProcess;
  endpoint: S3Endpoint;
  bucket: Bucket;
  backend: S3Backend;
  /** Milliseconds from start to answering requests (the docs compare the two backends with it). */
  startMs: number;
}

export async function startS3Server(opts: {
  backend?: S3Backend;
  /** versitygw's binary. */
  binaryPath?: string;
  /** LocalStack's virtual environment. */
  localstack?: ResolvedLocalstack;
  runDir: string;
  /** The address to listen on: 127.0.0.1 unless the run owns another (a Docker network's gateway of its own). */
  host?: string;
  port: number;
  bucket: string;
  /** Called once if S3 exits without being stopped. */
  onUnexpectedExit?: UnexpectedExitHandler;
}): Promise<StartedS3> {
  const backend = opts.backend ?? 'versitygw';
  const dir = join(opts.runDir, 's3');
  mkdirSync(dir, { recursive: true });
  const listen = `${opts.host ?? '127.0.0.1'}:${opts.port}`;
  let proc: SupervisedProcess;
  if (backend === 'localstack') {
    if (!opts.localstack) throw new Error('startS3Server: LocalStack asked for without its virtual environment');
    const hostDirs = join(dir, 'localstack');
    mkdirSync(join(hostDirs, 'tmp'), { recursive: true });
    proc = new SupervisedProcess(
      {
        id: 's3',
        binaryPath: venvPython(opts.localstack.venv),
        args: ['-m', 'localstack.runtime.main'],
        cwd: dir,
        logFile: join(dir, 'localstack.log'),
        runDir: opts.runDir,
        env: { ...localstackEnv({ listen, hostDirs, authToken: process.env.LOCALSTACK_AUTH_TOKEN }), PYTHONNOUSERSITE: '1', PYTHONUNBUFFERED: '1' },
      },
      opts.onUnexpectedExit,
    );
  } else {
    if (!opts.binaryPath) throw new Error('startS3Server: versitygw asked for without its binary');
    const dataDir = join(dir, 'data');
    const metaDir = join(dir, 'meta');
    mkdirSync(dataDir, { recursive: true });
    mkdirSync(metaDir, { recursive: true });
    proc = new SupervisedProcess(
      { id: 's3', binaryPath: opts.binaryPath, args: versitygwArgs(listen, dataDir, metaDir), cwd: dir, logFile: join(dir, 'versitygw.log'), runDir: opts.runDir },
      opts.onUnexpectedExit,
    );
  }
  const started = Date.now();
  proc.start();
  const endpoint: S3Endpoint = { url: `http://${listen}`, bucket: opts.bucket, ...S3_CREDENTIALS };
  const bucket = new Bucket(endpoint);
  await waitS3Accepting(backend, endpoint.url, proc);
  const startMs = Date.now() - started;
  await bucket.create();
  return { process: proc, endpoint, bucket, backend, startMs };
}

/**
 * Starts a stopped versitygw again on its port, with its data directories as they were (an outage
 * that ends); returns once it accepts requests.
 */
export async function restartS3Server(proc: SupervisedProcess, url: string): Promise<void> {
  proc.start();
  await waitS3Accepting('versitygw', url, proc);
}

/** Why S3 is not up: its exit, or a LocalStack that asks for a token (said at once, in one line). */
export function s3NotStarting(backend: S3Backend, proc: SupervisedProcess): string | undefined {
  if (backend === 'localstack') {
    const demand = tokenDemand(proc.tail(200));
    if (demand) return tokenDemandMessage(`LocalStack (${proc.spec.logFile})`, demand);
  }
  return proc.exitReason();
}

async function waitS3Accepting(backend: S3Backend, url: string, proc: SupervisedProcess): Promise<void> {
  await waitFor(
    `S3 (${backend}) to accept requests`,
    async (note) => {
      if (backend === 'versitygw') {
        await fetch(url, { signal: AbortSignal.timeout(2_000) }); // any HTTP answer means it is up
        return true;
      }
      const health: unknown = await (await fetch(`${url}/_localstack/health`, { signal: AbortSignal.timeout(2_000) })).json();
      note(`s3 is ${(health as { services?: Record<string, string> }).services?.s3 ?? 'not listed'}`);
      return s3Healthy(health) ? true : undefined;
    },
    { timeoutMs: backend === 'localstack' ? 90_000 : 30_000, intervalMs: 100, abort: () => s3NotStarting(backend, proc) },
  );
}
