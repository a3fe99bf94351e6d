// versitygw as every substrate runs it: the credentials the harness gives it and its arguments. The
// process substrate runs it as a process (substrates/process/s3-server.ts), the Kubernetes substrates
// as a pod (substrates/kubernetes/infra.ts) or a container (k3s), the operator fixture as a pod.
export const S3_CREDENTIALS = { accessKey: 'thanos-ha-e2e', secretKey: 'thanos-ha-e2e-secret', region: 'us-east-1' };

/**
 * versitygw's arguments on every substrate: the POSIX backend at root, object metadata in a sidecar
 * directory (no reliance on xattr support of the filesystem) or, without one, in xattrs.
 */
export function versitygwArgs(listen: string, root: string, sidecarDir?: string): string[] {
  return ['--access', S3_CREDENTIALS.accessKey, '--secret', S3_CREDENTIALS.secretKey, '--port', listen, '--quiet', 'posix', ...(sidecarDir ? ['--sidecar', sidecarDir] : []), root];
}
