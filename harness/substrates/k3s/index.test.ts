// k3sUnavailable against a fake `docker` on PATH: what is looked for, what is pulled (the k3s and
// LocalStack images only, and only once the images built here are there), and the one-line reason.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_K3S_IMAGE } from '../../images/k3s.ts';
import { DEFAULT_LOCALSTACK_IMAGE, k3sUnavailable, requiredImages } from './index.ts';

// version: answers unless ./down exists; image inspect: ./present lists the local images;
// pull: recorded in ./pulled, then as ./pull-mode says (ok, fail, hang).
const FAKE_DOCKER = `#!/bin/sh
dir="$FAKE_DOCKER_DIR"
for tag; do :; done
case "$1" in
  version) [ -f "$dir/down" ] && { echo 'Cannot connect to the Docker daemon' >&2; exit 1; }; echo 20.10.24 ;;
  image) grep -qxF "$tag" "$dir/present" 2>/dev/null && { echo sha256:0; exit 0; }; echo "Error: No such image: $tag" >&2; exit 1 ;;
  pull)
    echo "$tag" >> "$dir/pulled"
    case "$(cat "$dir/pull-mode")" in
      ok) echo "$tag" >> "$dir/present"; echo "docker.io/$tag" ;;
      hang) exec sleep 30 ;;
      *) echo 'Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host' >&2; exit 1 ;;
    esac ;;
  *) exit 2 ;;
esac
`;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function fakeDocker(opts: { present: string[]; pull?: 'ok' | 'fail' | 'hang'; down?: boolean; env?: Record<string, string> }) {
  const dir = mkdtempSync(join(tmpdir(), 'thanos-ha-e2e-fake-docker-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'docker'), FAKE_DOCKER);
  chmodSync(join(dir, 'docker'), 0o755);
  writeFileSync(join(dir, 'present'), opts.present.map((i) => `${i}\n`).join(''));
  writeFileSync(join(dir, 'pull-mode'), opts.pull ?? 'fail');
  if (opts.down) writeFileSync(join(dir, 'down'), '');
  const env = { ...process.env, PATH: `${dir}:${process.env.PATH}`, FAKE_DOCKER_DIR: dir, THANOS_HA_E2E_S3: 'localstack', THANOS_HA_E2E_K3S_IMAGE: '', THANOS_HA_E2E_LOCALSTACK_IMAGE: '', THANOS_HA_E2E_PULL_TIMEOUT: '', ...opts.env };
  const pulled = () => (existsSync(join(dir, 'pulled')) ? readFileSync(join(dir, 'pulled'), 'utf8').trim().split('\n') : []);
  return { env, pulled };
}

const upstream = [DEFAULT_K3S_IMAGE, DEFAULT_LOCALSTACK_IMAGE];
const built = () => requiredImages({ THANOS_HA_E2E_S3: 'localstack' }).filter((i) => !upstream.includes(i));

describe('k3sUnavailable', () => {
  it('says in one line that no Docker engine answers, and looks no further', async () => {
    const docker = fakeDocker({ present: [], down: true });
    expect(await k3sUnavailable(docker.env)).toBe('no Docker engine answers (start dockerd, or set DOCKER_HOST)');
    expect(docker.pulled()).toEqual([]);
  });

  it('is available when every image is local, and pulls nothing', async () => {
    const docker = fakeDocker({ present: [...upstream, ...built()] });
    expect(await k3sUnavailable(docker.env)).toBeUndefined();
    expect(docker.pulled()).toEqual([]);
  });

  it('names the images built here that are missing, and pulls nothing while they are', async () => {
    const [missing, ...rest] = built();
    const docker = fakeDocker({ present: rest, pull: 'ok' });
    const reason = await k3sUnavailable(docker.env);
    expect(reason).toBe(`image(s) not in the local Docker engine: ${missing} (node harness/cli.ts images builds them; ${upstream.join(', ')} will be pulled)`);
    expect(docker.pulled()).toEqual([]);
  });

  it('pulls the k3s and LocalStack images where they are missing', async () => {
    const docker = fakeDocker({ present: built(), pull: 'ok' });
    expect(await k3sUnavailable(docker.env)).toBeUndefined();
    expect(docker.pulled().sort()).toEqual([...upstream].sort());
  });

  it('names each image that can be neither found nor pulled, with the pull error, in one line', async () => {
    const docker = fakeDocker({ present: [DEFAULT_LOCALSTACK_IMAGE, ...built()], pull: 'fail' });
    const reason = await k3sUnavailable(docker.env);
    expect(reason).toBe(
      `image(s) neither in the local Docker engine nor pullable: ${DEFAULT_K3S_IMAGE} (docker pull failed: Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host) ` +
        '(docker pull or docker load them, or set THANOS_HA_E2E_K3S_IMAGE / THANOS_HA_E2E_LOCALSTACK_IMAGE to images you have)',
    );
    expect(reason).not.toContain('\n');
    expect(docker.pulled()).toEqual([DEFAULT_K3S_IMAGE]);
  });

  it('gives up on a pull that does not finish within THANOS_HA_E2E_PULL_TIMEOUT', async () => {
    const docker = fakeDocker({ present: built(), pull: 'hang', env: { THANOS_HA_E2E_PULL_TIMEOUT: '1' } });
    const started = Date.now();
    const reason = await k3sUnavailable(docker.env);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(reason).toContain(`${DEFAULT_K3S_IMAGE} (docker pull did not finish within 1s)`);
    expect(reason).toContain(`${DEFAULT_LOCALSTACK_IMAGE} (docker pull did not finish within 1s)`);
  });

  it('only looks when asked not to pull (doctor)', async () => {
    const docker = fakeDocker({ present: built(), pull: 'ok' });
    expect(await k3sUnavailable(docker.env, { pull: false })).toBe(
      `image(s) not in the local Docker engine: ${upstream.join(', ')} (not pulled by this check; a k3s run pulls them)`,
    );
    expect(docker.pulled()).toEqual([]);
  });

  it('needs no LocalStack image with versitygw as S3', async () => {
    const docker = fakeDocker({ present: built(), pull: 'ok', env: { THANOS_HA_E2E_S3: 'versitygw' } });
    expect(await k3sUnavailable(docker.env)).toBeUndefined();
    expect(docker.pulled()).toEqual([DEFAULT_K3S_IMAGE]);
  });
});
