// Which node image the kind clusters run: the pinned kindest/node where the local engine has it or a
// registry serves it, else the one built here from upstream parts (harness/images/kind-node).
//
//   THANOS_HA_E2E_KIND_NODE_IMAGE   a node image of your own (local or pullable); Kubernetes <= 1.34
//                                   on cgroup v1 hosts
import type { Env } from '../../binaries/cache.ts';
import { imageExists, pullImage, pullTimeoutMs } from '../../images/image.ts';
import { KIND_NODE_IMAGE } from '../../images/kind-node/index.ts';

/** kind v0.33.0's release notes: the v1.34 image built for that release, by tag and digest. */
export const KINDEST_NODE_IMAGE = 'kindest/node:v1.34.11@sha256:44e222ee2132dab25ff87301682f89eb82c7880ea3a1bf543bfe9708fd08d67d';

export type NodeImageChoice = { image: string; how: string; why?: undefined } | { image?: undefined; why: string };

/**
 * The node image, in this order: THANOS_HA_E2E_KIND_NODE_IMAGE; the pinned kindest/node if present;
 * the built one if present; the pinned kindest/node pulled (unless pull is false). Otherwise a
 * one-line reason with what builds or pulls one.
 */
export async function chooseNodeImage(env: Env, opts: { pull: boolean; onProgress?: (line: string) => void }): Promise<NodeImageChoice> {
  const pull = async (image: string): Promise<string | undefined> => {
    opts.onProgress?.(`pulling ${image} (at most ${Math.round(pullTimeoutMs(env) / 1000)}s)`);
    return pullImage(image, { env, timeoutMs: pullTimeoutMs(env) });
  };
  const own = env.THANOS_HA_E2E_KIND_NODE_IMAGE;
  if (own) {
    if (await imageExists(own, env)) return { image: own, how: 'THANOS_HA_E2E_KIND_NODE_IMAGE' };
    if (!opts.pull) return { why: `THANOS_HA_E2E_KIND_NODE_IMAGE=${own} is not in the local Docker engine (not pulled by this check)` };
    const failed = await pull(own);
    return failed ? { why: `THANOS_HA_E2E_KIND_NODE_IMAGE=${own} is neither in the local Docker engine nor pullable: ${failed}` } : { image: own, how: 'THANOS_HA_E2E_KIND_NODE_IMAGE, pulled' };
  }
  if (await imageExists(KINDEST_NODE_IMAGE, env)) return { image: KINDEST_NODE_IMAGE, how: 'pinned kindest/node' };
  if (await imageExists(KIND_NODE_IMAGE, env)) return { image: KIND_NODE_IMAGE, how: 'built here from upstream parts' };
  const build = `node harness/cli.ts images kind builds ${KIND_NODE_IMAGE} from upstream parts (root, about 25 min cold)`;
  if (!opts.pull) return { why: `no kind node image in the local Docker engine (${KINDEST_NODE_IMAGE} not pulled by this check): ${build}` };
  const failed = await pull(KINDEST_NODE_IMAGE);
  return failed ? { why: `no kind node image: ${KINDEST_NODE_IMAGE} cannot be pulled (${failed}) and ${build}` } : { image: KINDEST_NODE_IMAGE, how: 'pinned kindest/node, pulled' };
}
