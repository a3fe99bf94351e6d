// The images the operator scenario runs, none of which may be pulled (no registry is reachable here):
//
//   thanos-ha-e2e/prometheus-operator:<v>          FROM scratch, /bin/operator (its upstream entrypoint)
//   thanos-ha-e2e/prometheus-config-reloader:<v>   FROM scratch, /bin/prometheus-config-reloader (the
//                                                  operator sets that command on the containers it adds)
//   thanos-ha-e2e/{prometheus,thanos,versitygw}:<pinned>   the component images (`node harness/cli.ts images`)
//
// What a node already has is read from the Node objects (status.images). On the local cluster the
// missing ones are built (operator images) or taken from <cache>/images (component images) and
// imported into its containerd; on any other cluster a missing image is a one-line error naming the tars.
import { join } from 'node:path';
import { cacheRoot, type Env } from '../binaries/cache.ts';
import { pinnedVersion } from '../binaries/versions.ts';
import { componentImageTag, IMAGE_REPOSITORY } from '../images/components.ts';
import { ensureDocker } from '../images/docker.ts';
import { buildImage, savedImageTar } from '../images/image.ts';
import type { OperatorBuild } from './build.ts';
import type { OperatorCluster } from './cluster.ts';
import { PROMETHEUS_OPERATOR } from './versions.ts';

export const OPERATOR_IMAGES = {
  operator: `${IMAGE_REPOSITORY}/prometheus-operator:${PROMETHEUS_OPERATOR.version}`,
  configReloader: `${IMAGE_REPOSITORY}/prometheus-config-reloader:${PROMETHEUS_OPERATOR.version}`,
  prometheus: componentImageTag('prometheus', pinnedVersion('prometheus').version),
  thanos: componentImageTag('thanos', pinnedVersion('thanos').version),
  versitygw: componentImageTag('versitygw', pinnedVersion('versitygw').version),
} as const;

/** Makes every image of OPERATOR_IMAGES present on the cluster's nodes, or says which are missing. */
export async function ensureOperatorImages(
  cluster: OperatorCluster,
  build: OperatorBuild,
  opts: { env?: Env; onProgress?: (line: string) => void } = {},
): Promise<{ loaded: string[] }> {
  const env = opts.env ?? process.env;
  const progress = opts.onProgress ?? (() => {});
  const missing = await missingOnNodes(cluster, Object.values(OPERATOR_IMAGES));
  if (missing.length === 0) return { loaded: [] };
  if (!cluster.loadImages) {
    throw new Error(
      `images missing on the nodes of context ${cluster.context} (nothing may be pulled): ${missing.join(', ')}; ` +
        `load them there (tars: ${join(cacheRoot(env), 'images')}, operator images: run this scenario once against the local cluster)`,
    );
  }
  const tars: string[] = [];
  const operatorSpecs = [
    { tag: OPERATOR_IMAGES.operator, binary: build.operator, path: '/bin/operator', title: 'prometheus-operator' },
    { tag: OPERATOR_IMAGES.configReloader, binary: build.configReloader, path: '/bin/prometheus-config-reloader', title: 'prometheus-config-reloader' },
  ].filter((spec) => missing.includes(spec.tag));
  if (operatorSpecs.length > 0) {
    await ensureDocker({ env, onProgress: progress });
    for (const spec of operatorSpecs) {
      const image = await buildImage(
        {
          tag: spec.tag,
          files: { [spec.path]: spec.binary },
          entrypoint: [spec.path],
          labels: { 'org.opencontainers.image.title': spec.title, 'org.opencontainers.image.version': build.version },
        },
        { env, onProgress: progress },
      );
      progress(`  ${spec.tag} ${image.rebuilt ? 'built' : 'up to date'}: ${image.tarFile}`);
      tars.push(image.tarFile);
    }
  }
  for (const tag of missing.filter((t) => !operatorSpecs.some((s) => s.tag === t))) tars.push(await savedImageTar(tag, env));
  progress(`  importing ${tars.length} image(s) into the nodes of ${cluster.context}: ${missing.join(', ')}`);
  await cluster.loadImages(tars, progress);
  return { loaded: missing };
}

/** The tags no node lists in status.images (containerd reports them as docker.io/<tag>). */
async function missingOnNodes(cluster: OperatorCluster, tags: string[]): Promise<string[]> {
  const nodes = await cluster.core.listNode();
  const names = new Set(nodes.items.flatMap((n) => (n.status?.images ?? []).flatMap((i) => i.names ?? [])));
  return tags.filter((tag) => !names.has(tag) && !names.has(`docker.io/${tag}`));
}
