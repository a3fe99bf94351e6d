import { describe, expect, it } from 'vitest';
import { localstackPin } from '../binaries/localstack.ts';
import { builtLocalstackImage, IMAGE_ENV, LOCALSTACK_IMAGE_PACKAGES, LOCALSTACK_IMAGE_SUITE, localstackImageChanges, recipeHash } from './localstack.ts';

describe('the LocalStack image built here', () => {
  const pin = localstackPin();

  it('is tagged with the pinned runtime, apart from the upstream image', () => {
    expect(builtLocalstackImage(pin)).toBe('thanos-ha-e2e/localstack:2026.3.0');
    expect(pin.image).toBe('localstack/localstack:4.14.0');
  });

  it('is Debian trixie, whose python3 is the 3.13 the pin needs', () => {
    expect(LOCALSTACK_IMAGE_SUITE).toBe('trixie');
    expect(LOCALSTACK_IMAGE_PACKAGES).toEqual(['python3', 'python3-venv', 'ca-certificates']);
  });

  it('runs the runtime from its venv with S3 alone, listening on 4566, nothing reaching out, and prints "Ready." as testcontainers waits for', () => {
    const changes = localstackImageChanges('abc');
    expect(changes[0]).toBe('ENTRYPOINT ["/opt/localstack/bin/python","-m","localstack.runtime.main"]');
    expect(changes).toContain('EXPOSE 4566');
    expect(changes).toContain('ENV SERVICES=s3');
    expect(changes).toContain('ENV GATEWAY_LISTEN=0.0.0.0:4566');
    expect(changes).toContain('ENV DNS_ADDRESS=0');
    expect(changes.at(-1)).toBe('LABEL org.thanos-ha-e2e.content="abc"');
    expect(IMAGE_ENV).not.toHaveProperty('LOCALSTACK_AUTH_TOKEN');
  });

  it('is rebuilt when the recipe changes (pin, mirror), not otherwise', () => {
    const a = recipeHash(pin, {});
    expect(recipeHash(pin, {})).toBe(a);
    expect(recipeHash({ ...pin, version: '2026.4.0' }, {})).not.toBe(a);
    expect(recipeHash(pin, { THANOS_HA_E2E_DEBIAN_MIRROR: 'http://mirror.example/debian' })).not.toBe(a);
  });
});
