// The images pods run, for every provider: built by `node harness/cli.ts images` (harness/images) and
// loaded into the nodes, or pushed where the nodes pull from under THANOS_HA_E2E_IMAGE_PREFIX.
import type { Env } from '../../binaries/cache.ts';
import { pinnedVersion } from '../../binaries/versions.ts';
import type { ImageName } from './provider.ts';

export const IMAGE_PREFIX = 'thanos-ha-e2e';

/** The images pods run: built by `node harness/cli.ts images` and loaded, or pushed under THANOS_HA_E2E_IMAGE_PREFIX. */
export function componentImages(env: Env = process.env): Partial<Record<ImageName, string>> {
  const prefix = env.THANOS_HA_E2E_IMAGE_PREFIX || IMAGE_PREFIX;
  const versioned = (name: 'thanos' | 'prometheus' | 'alertmanager' | 'versitygw') => `${prefix}/${name}:${pinnedVersion(name).version}`;
  return {
    thanos: versioned('thanos'),
    prometheus: versioned('prometheus'),
    alertmanager: versioned('alertmanager'),
    versitygw: versioned('versitygw'),
    'workload-relay': `${prefix}/workload-relay:1`,
  };
}
