// The k3s image. Unlike the component images it is not built here: this machine's Go module proxy
// refuses github.com/k3s-io/k3s ("403 This module version is not available", for the version list,
// tags and branches alike) and the Kubernetes fork its go.mod replaces k8s.io/* with
// (github.com/k3s-io/kubernetes), so there is no source to build from. So `images` only looks for a
// k3s image already in the local engine (`docker load` of one saved where a registry is reachable)
// and, when there is none, says what to do in one line. The k3s substrate pulls it where a registry
// answers (substrates/k3s).
//
// Kubernetes 1.33 or 1.34: from 1.35 the kubelet refuses cgroup v1, which some CI machines still use.
import type { Env } from '../binaries/cache.ts';
import { imageExists } from './image.ts';

export const DEFAULT_K3S_IMAGE = 'rancher/k3s:v1.33.5-k3s1';

export function k3sImage(env: Env = process.env): string {
  return env.THANOS_HA_E2E_K3S_IMAGE || DEFAULT_K3S_IMAGE;
}

export type K3sImageStatus = { image: string; present: true } | { image: string; present: false; reason: string };

export async function k3sImageStatus(env: Env = process.env): Promise<K3sImageStatus> {
  const image = k3sImage(env);
  if (await imageExists(image, env)) return { image, present: true };
  return {
    image,
    present: false,
    reason:
      `k3s image ${image} is not in the local Docker engine and cannot be built here (the Go module proxy does not ` +
      `serve github.com/k3s-io/k3s): on a machine with registry access run \`docker pull ${image} && docker save -o k3s.tar ${image}\`, ` +
      `then \`docker load -i k3s.tar\` here, or set THANOS_HA_E2E_K3S_IMAGE to a k3s 1.33/1.34 image you have`,
  };
}
