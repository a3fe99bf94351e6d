// S3 on the process substrate: versitygw with its POSIX backend, on 127.0.0.1 (or opts.host: the
// two-context command, kube-two-clusters.ts, serves its kind clusters on its own Docker network's gateway).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Bucket, type S3Endpoint } from '../../s3/bucket.ts';
import { S3_CREDENTIALS, versitygwArgs } from '../../s3/versitygw.ts';
import { waitFor } from '../../wait.ts';
import { SupervisedProcess, type UnexpectedExitHandler } from './supervised-process.ts';

export async function startS3Server(opts: {
  binaryPath: string;
  runDir: string;
  /** The address to listen on: 127.0.0.1 unless the run owns another (a Docker network's gateway of its own). */
  host?: string;
  port: number;
  bucket: string;
  /** Called once if versitygw exits without being stopped. */
  onUnexpectedExit?: UnexpectedExitHandler;
}): Promise<{ process: SupervisedProcess; endpoint: S3Endpoint; bucket: Bucket }> {
  const dir = join(opts.runDir, 's3');
  const listen = `${opts.host ?? '127.0.0.1'}:${opts.port}`;
  const dataDir = join(dir, 'data');
  const metaDir = join(dir, 'meta');
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(metaDir, { recursive: true });
  const proc = new SupervisedProcess({
    id: 's3',
    binaryPath: opts.binaryPath,
    args: versitygwArgs(`${listen}`, dataDir, metaDir),
    cwd: dir,
    logFile: join(dir, 'versitygw.log'),
    runDir: opts.runDir,
  }, opts.onUnexpectedExit);
  proc.start();
  const endpoint: S3Endpoint = { url: `http://${listen}`, bucket: opts.bucket, ...S3_CREDENTIALS };
  const bucket = new Bucket(endpoint);
  await waitS3Accepting(endpoint.url, proc);
  await bucket.create();
  return { process: proc, endpoint, bucket };
}

/**
 * Starts a stopped versitygw again on its port, with its data directories as they were (an outage
 * that ends); returns once it accepts requests.
 */
export async function restartS3Server(proc: SupervisedProcess, url: string): Promise<void> {
  proc.start();
  await waitS3Accepting(url, proc);
}

async function waitS3Accepting(url: string, proc: SupervisedProcess): Promise<void> {
  await waitFor(
    'S3 (versitygw) to accept requests',
    async () => {
      await fetch(url, { signal: AbortSignal.timeout(2_000) }); // any HTTP answer means it is up
      return true;
    },
    { timeoutMs: 30_000, abort: () => proc.exitReason() },
  );
}
