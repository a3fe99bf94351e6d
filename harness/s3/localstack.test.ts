import { describe, expect, it } from 'vitest';
import { LOCALSTACK_NO_OUTAGE, localstackEnv, localstackOutageRefusal, processS3Backend, s3Healthy, tokenDemand, tokenDemandMessage } from './localstack.ts';

describe('THANOS_HA_E2E_S3 on the process substrate', () => {
  it('is versitygw by default, localstack when asked', () => {
    expect(processS3Backend({})).toBe('versitygw');
    expect(processS3Backend({ THANOS_HA_E2E_S3: '' })).toBe('versitygw');
    expect(processS3Backend({ THANOS_HA_E2E_S3: 'localstack' })).toBe('localstack');
    expect(processS3Backend({ THANOS_HA_E2E_S3: 'versitygw' })).toBe('versitygw');
  });

  it('refuses anything else in one line naming both', () => {
    expect(() => processS3Backend({ THANOS_HA_E2E_S3: 'minio' })).toThrow(/^THANOS_HA_E2E_S3="minio" is not an S3 backend of the process substrate: use versitygw \(default\) or localstack$/);
  });
});

describe("LocalStack's environment", () => {
  it('S3 alone, on the given address, nothing reaching out, files under the run directory', () => {
    const env = localstackEnv({ listen: '127.0.0.1:4321', hostDirs: '/run/s3/localstack' });
    expect(env).toMatchObject({
      SERVICES: 's3',
      GATEWAY_LISTEN: '127.0.0.1:4321',
      DNS_ADDRESS: '0',
      SKIP_SSL_CERT_DOWNLOAD: '1',
      DISABLE_EVENTS: '1',
      OVERRIDE_IN_DOCKER: '0',
      FILESYSTEM_ROOT: '/run/s3/localstack',
    });
    expect(env).not.toHaveProperty('LOCALSTACK_AUTH_TOKEN');
    expect(env).not.toHaveProperty('PERSISTENCE');
  });

  it('passes a token through only when there is one', () => {
    expect(localstackEnv({ listen: ':4566', authToken: 'ls-abc' }).LOCALSTACK_AUTH_TOKEN).toBe('ls-abc');
    expect(localstackEnv({ listen: ':4566' })).not.toHaveProperty('OVERRIDE_IN_DOCKER');
  });
});

describe('a LocalStack that asks for a token', () => {
  const log = [
    'LocalStack version: 2026.12.0',
    '===============================================',
    'License activation failed! 🔑❌',
    'Reason: No credentials were found in the environment. Please make sure to set the LOCALSTACK_AUTH_TOKEN variable to a valid auth token.',
  ].join('\n');

  it('is found in its log', () => {
    expect(tokenDemand(log)).toBe('License activation failed! 🔑❌');
    expect(tokenDemand('LocalStack version: 2026.3.0\nReady.')).toBeUndefined();
  });

  it('is one line naming LOCALSTACK_AUTH_TOKEN and the pin that needs none', () => {
    const line = tokenDemandMessage('LocalStack (s3/localstack.log)', tokenDemand(log)!);
    expect(line).not.toContain('\n');
    expect(line).toMatch(/^LocalStack \(s3\/localstack\.log\) asks for an auth token \(LOCALSTACK_AUTH_TOKEN\): "License activation failed!/);
    expect(line).toContain('fixtures/versions.json "localstack"');
  });
});

describe('LocalStack and the S3 outage', () => {
  it('is refused in one line that names versitygw', () => {
    expect(LOCALSTACK_NO_OUTAGE).not.toContain('\n');
    expect(LOCALSTACK_NO_OUTAGE).toContain('PERSISTENCE=1');
    expect(LOCALSTACK_NO_OUTAGE).toMatch(/THANOS_HA_E2E_S3=versitygw$/);
  });

  it('health: S3 available or running', () => {
    expect(s3Healthy({ services: { s3: 'running' } })).toBe(true);
    expect(s3Healthy({ services: { s3: 'available' } })).toBe(true);
    expect(s3Healthy({ services: { s3: 'disabled' } })).toBe(false);
    expect(s3Healthy(undefined)).toBe(false);
  });
});

describe('localstackOutageRefusal', () => {
  it('refuses the S3 outage before bring-up where LocalStack is known to be the S3, and nowhere else', () => {
    expect(localstackOutageRefusal('process', { THANOS_HA_E2E_S3: 'localstack' })).toMatch(/^the process substrate cannot stop S3: LocalStack keeps S3 in memory.*THANOS_HA_E2E_S3=versitygw$/);
    expect(localstackOutageRefusal('kind', { THANOS_HA_E2E_S3: 'localstack' })).toMatch(/^the kind substrate cannot stop S3/);
    expect(localstackOutageRefusal('k3s', {})).toMatch(/^the k3s substrate cannot stop S3/);
    expect(localstackOutageRefusal('process', {})).toBeUndefined();
    expect(localstackOutageRefusal('kind', {})).toBeUndefined();
    expect(localstackOutageRefusal('k3s', { THANOS_HA_E2E_S3: 'versitygw' })).toBeUndefined();
  });
});
