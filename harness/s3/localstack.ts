// LocalStack as every substrate runs it: S3 only, nothing reaching out of the machine, and what its
// log says when it will not start without an auth token. The process substrate runs the pinned
// localstack-core as a process (substrates/process/s3-server.ts); kind and k3s run an image
// (localstack/localstack:<tag>, or the one built here from the same runtime: images/localstack.ts).
import { S3_CREDENTIALS } from './versitygw.ts';

/** The S3 backends a run may ask for with THANOS_HA_E2E_S3. */
export type S3Backend = 'localstack' | 'versitygw';

/**
 * THANOS_HA_E2E_S3 on the process substrate: versitygw (default) or localstack; anything else is a
 * one-line error naming both.
 */
export function processS3Backend(env: Record<string, string | undefined> = process.env): S3Backend {
  const value = env.THANOS_HA_E2E_S3;
  if (value === undefined || value === '') return 'versitygw';
  if (value !== 'localstack' && value !== 'versitygw') throw new Error(`THANOS_HA_E2E_S3="${value}" is not an S3 backend of the process substrate: use versitygw (default) or localstack`);
  return value;
}

/** Why no substrate can stop and restart a LocalStack S3 with its bucket (the S3 outage scenario). */
export const LOCALSTACK_NO_OUTAGE =
  'LocalStack keeps S3 in memory and loses the bucket when it stops (PERSISTENCE=1 too: measured with localstack-core 2026.3.0, persistence is a LocalStack Pro feature): run with THANOS_HA_E2E_S3=versitygw';

/**
 * Why `substrate` cannot stop S3 with this environment, known before bring-up: LocalStack asked for
 * by name (THANOS_HA_E2E_S3=localstack), or k3s, whose default it is. Where LocalStack is chosen only
 * at bring-up (kind with THANOS_HA_E2E_S3 unset and the upstream image present), the outage refuses then.
 */
export function localstackOutageRefusal(substrate: string, env: Record<string, string | undefined>): string | undefined {
  const asked = env.THANOS_HA_E2E_S3;
  const localstack = asked === 'localstack' || (substrate === 'k3s' && !asked);
  return localstack ? `the ${substrate} substrate cannot stop S3: ${LOCALSTACK_NO_OUTAGE}` : undefined;
}

/**
 * The environment LocalStack runs with: S3 alone, listening where asked; no DNS server (it would
 * bind port 53), no certificate download and no analytics (nothing leaves the machine). In
 * `hostDirs`, a process on this host: its files under that directory, not /var/lib/localstack.
 */
export function localstackEnv(opts: { listen: string; hostDirs?: string; authToken?: string }): Record<string, string> {
  return {
    SERVICES: 's3',
    GATEWAY_LISTEN: opts.listen,
    EAGER_SERVICE_LOADING: '1',
    DNS_ADDRESS: '0',
    SKIP_SSL_CERT_DOWNLOAD: '1',
    DISABLE_EVENTS: '1',
    AWS_ACCESS_KEY_ID: S3_CREDENTIALS.accessKey,
    AWS_SECRET_ACCESS_KEY: S3_CREDENTIALS.secretKey,
    AWS_DEFAULT_REGION: S3_CREDENTIALS.region,
    ...(opts.hostDirs ? { OVERRIDE_IN_DOCKER: '0', FILESYSTEM_ROOT: opts.hostDirs, TMPDIR: `${opts.hostDirs}/tmp` } : {}),
    ...(opts.authToken ? { LOCALSTACK_AUTH_TOKEN: opts.authToken } : {}),
  };
}

/**
 * The line of a LocalStack log that asks for an auth token (tags of the image after 4.14.0 stop with
 * a license activation failure naming LOCALSTACK_AUTH_TOKEN), or undefined.
 */
export function tokenDemand(log: string): string | undefined {
  return log
    .split('\n')
    .map((l) => l.trim())
    .find((l) => /LOCALSTACK_AUTH_TOKEN|license activation failed|auth(entication)? token/i.test(l));
}

/** The one-line error for a LocalStack that wants a token. */
export function tokenDemandMessage(what: string, line: string): string {
  return `${what} asks for an auth token (LOCALSTACK_AUTH_TOKEN): "${line.slice(0, 200)}"; set LOCALSTACK_AUTH_TOKEN, or use the pinned localstack-core (fixtures/versions.json "localstack"), which starts without one`;
}

/** Whether LocalStack's health answer says S3 serves. */
export function s3Healthy(health: unknown): boolean {
  const s3 = (health as { services?: Record<string, string> } | undefined)?.services?.s3;
  return s3 === 'available' || s3 === 'running';
}
