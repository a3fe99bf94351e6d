// The S3 containers of a kind run: what `docker run` is asked for. versitygw must keep its address,
// its published port and its bucket across a stop and a start (an S3 outage); LocalStack cannot.
import { describe, expect, it } from 'vitest';
import { LOCALSTACK_NO_OUTAGE } from '../kubernetes/provider.ts';
import { RUN_NETWORK_LABEL, RUN_OWNER_LABEL, removeRunCommand, s3ContainerArgs, s3HolderName } from './run-resources.ts';

const opts = {
  name: 'thanos-ha-e2e-abc123-s3',
  network: 'thanos-ha-e2e-abc123',
  owner: 'laptop.42',
  versitygwImage: 'thanos-ha-e2e/versitygw:1.8.0',
  localstackImage: 'localstack/localstack:4.14.0',
  pauseImage: 'thanos-ha-e2e/pause:3.10',
  env: {},
};

/** The value after a flag, for each occurrence. */
const valuesOf = (args: string[], flag: string) => args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));

describe('s3ContainerArgs', () => {
  it('runs versitygw in the network namespace of a pause container that holds the address and the published port', () => {
    const { holder, s3 } = s3ContainerArgs('versitygw', opts);
    expect(holder).toEqual(['run', '-d', '--name', s3HolderName(opts.name), '--network', opts.network, '--label', `${RUN_OWNER_LABEL}=${opts.owner}`, '-p', '127.0.0.1::7070', opts.pauseImage]);
    expect(valuesOf(s3, '--network')).toEqual([`container:${s3HolderName(opts.name)}`]);
    // Ports belong to the holder; a container in another's namespace cannot publish any.
    expect(s3).not.toContain('-p');
    // Not on the run's network itself: its label is how the run's removal finds it.
    expect(valuesOf(s3, '--label')).toEqual([`${RUN_OWNER_LABEL}=${opts.owner}`, `${RUN_NETWORK_LABEL}=${opts.network}`]);
    // Volumes, not tmpfs: a stopped container keeps them, `docker rm -v` removes them.
    expect(valuesOf(s3, '-v')).toEqual(['/data', '/meta']);
    expect(s3).not.toContain('--tmpfs');
    expect(s3.slice(s3.indexOf(opts.versitygwImage) + 1)).toEqual(['--access', 'thanos-ha-e2e', '--secret', 'thanos-ha-e2e-secret', '--port', ':7070', '--quiet', 'posix', '--sidecar', '/meta', '/data']);
  });

  it('runs LocalStack on the run network, as before, and says why it cannot have an outage', () => {
    const { holder, s3 } = s3ContainerArgs('localstack', { ...opts, env: { LOCALSTACK_AUTH_TOKEN: 't' } });
    expect(holder).toBeUndefined();
    expect(valuesOf(s3, '--network')).toEqual([opts.network]);
    expect(valuesOf(s3, '-p')).toEqual(['127.0.0.1::4566']);
    expect(valuesOf(s3, '-e')).toEqual(['SERVICES=s3', 'DNS_ADDRESS=0', 'SKIP_SSL_CERT_DOWNLOAD=1', 'DISABLE_EVENTS=1', 'AWS_ACCESS_KEY_ID=thanos-ha-e2e', 'AWS_SECRET_ACCESS_KEY=thanos-ha-e2e-secret', 'LOCALSTACK_AUTH_TOKEN']);
    expect(s3.at(-1)).toBe(opts.localstackImage);
    expect(LOCALSTACK_NO_OUTAGE).toMatch(/THANOS_HA_E2E_S3=versitygw$/);
    expect(LOCALSTACK_NO_OUTAGE).not.toContain('\n');
  });
});

describe('removeRunCommand', () => {
  it('removes the containers in another one\'s network namespace before those on the network', () => {
    const command = removeRunCommand(opts.network);
    const labelled = command.indexOf(`--filter 'label=${RUN_NETWORK_LABEL}=${opts.network}'`);
    const onNetwork = command.indexOf(`--filter network='${opts.network}'`);
    expect(labelled).toBeGreaterThanOrEqual(0);
    expect(onNetwork).toBeGreaterThan(labelled);
    expect(command.indexOf(`docker network rm '${opts.network}'`)).toBeGreaterThan(onNetwork);
  });
});
