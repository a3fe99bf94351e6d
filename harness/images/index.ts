// `node harness/cli.ts images` (npm run images): every image the Kubernetes substrates load into their
// clusters, built locally because there is no registry here. Not part of the default test run. The
// cluster providers (substrates/kube, substrates/k3s), the local cluster and the prometheus-operator
// fixture all take their images from here; nothing here imports a substrate.
//
//   Docker engine      the running one, or dockerd started as root (docker.ts)
//   pause image        thanos-ha-e2e/pause:3.10, a static Go binary (pause.ts)
//   component images   thanos-ha-e2e/<name>:<pinned version> from the provisioned binaries (components.ts)
//   workload relay     thanos-ha-e2e/workload-relay:1 (workload-relay.ts; source in substrates/kubernetes/workload-relay)
//   k3s image          looked for, not built (k3s.ts says why)
//
// Each image's `docker save` tar lands in <cache>/images/, ready for `ctr -n k8s.io images import` or
// k3s's airgap directory /var/lib/rancher/k3s/agent/images/.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheRoot, type Env } from '../binaries/cache.ts';
import { formatElapsed } from '../binaries/go-build.ts';
import { withFileLock } from '../binaries/lock.ts';
import { COMPONENT_IMAGES, buildComponentImage } from './components.ts';
import { ensureDocker, type DockerEngine } from './docker.ts';
import type { BuiltImage } from './image.ts';
import { k3sImageStatus, type K3sImageStatus } from './k3s.ts';
import { buildPauseImage } from './pause.ts';
import { WORKLOAD_RELAY } from './workload-relay.ts';
import { buildGoToolImage } from './go-tool.ts';

export { COMPONENT_IMAGES, componentImageTag } from './components.ts';
export { PAUSE_IMAGE } from './pause.ts';
export { k3sImage, k3sImageStatus } from './k3s.ts';

export interface ImagesResult {
  docker: DockerEngine;
  images: BuiltImage[];
  k3s: K3sImageStatus;
}

export async function buildImages(opts: { env?: Env; onProgress?: (line: string) => void } = {}): Promise<ImagesResult> {
  const env = opts.env ?? process.env;
  const progress = opts.onProgress ?? (() => {});
  const docker = await ensureDocker({ env, onProgress: progress });
  progress(`Docker engine ${docker.serverVersion} (${docker.how})`);

  await mkdir(join(cacheRoot(env), 'images'), { recursive: true });
  // One builder at a time: two would import the same tags and save the same tars twice.
  const images = await withFileLock(
    join(cacheRoot(env), 'images', 'build.lock'),
    async () => {
      const built: BuiltImage[] = [];
      const report = (image: BuiltImage) => {
        built.push(image);
        progress(`  ${image.tag.padEnd(36)} ${image.rebuilt ? 'built' : 'up to date'} in ${formatElapsed(image.ms)}  ${image.tarFile}`);
      };
      report(await buildPauseImage({ env, onProgress: progress }));
      for (const name of COMPONENT_IMAGES) report(await buildComponentImage(name, { env, onProgress: progress }));
      report(await buildGoToolImage(WORKLOAD_RELAY, { env, onProgress: progress }));
      return built;
    },
    { onWait: (pid) => progress(`waiting for another process (pid ${pid}) that is building the images`) },
  );

  const k3s = await k3sImageStatus(env);
  return { docker, images, k3s };
}
