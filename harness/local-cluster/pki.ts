// The cluster's certificates, made with openssl and kept across up/down (pki/ under the cluster dir):
// one CA; the API server's serving certificate; client certificates for each component and the admin;
// the service-account key pair. A missing file is made; an existing one is kept.
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';

export interface ClientCert {
  cert: string;
  key: string;
}

export interface Pki {
  dir: string;
  ca: ClientCert;
  apiserver: ClientCert;
  /** The API server's client certificate towards kubelets (system:masters). */
  apiserverKubeletClient: ClientCert;
  admin: ClientCert;
  controllerManager: ClientCert;
  scheduler: ClientCert;
  kubelet: ClientCert;
  kubeProxy: ClientCert;
  serviceAccount: { key: string; pub: string };
}

export interface PkiOptions {
  dir: string;
  nodeName: string;
  /** IP addresses the API server is reached at (127.0.0.1, the node IP, the kubernetes Service IP). */
  apiserverIps: string[];
}

const DAYS = '3650';

export async function ensurePki({ dir, nodeName, apiserverIps }: PkiOptions): Promise<Pki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const at = (name: string): ClientCert => ({ cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) });
  const ca = at('ca');
  if (!(await exists(ca.cert))) {
    await openssl(['genrsa', '-out', ca.key, '2048']);
    await openssl(['req', '-x509', '-new', '-nodes', '-key', ca.key, '-sha256', '-days', DAYS, '-subj', '/CN=thanos-ha-e2e-local-cluster-ca', '-out', ca.cert]);
  }
  const dns = ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];
  const pki: Pki = {
    dir,
    ca,
    apiserver: await signed(dir, ca, 'apiserver', '/CN=kube-apiserver', 'serverAuth', [...dns.map((d) => `DNS:${d}`), ...apiserverIps.map((ip) => `IP:${ip}`)]),
    apiserverKubeletClient: await signed(dir, ca, 'apiserver-kubelet-client', '/O=system:masters/CN=kube-apiserver-kubelet-client', 'clientAuth'),
    admin: await signed(dir, ca, 'admin', '/O=system:masters/CN=thanos-ha-e2e-admin', 'clientAuth'),
    controllerManager: await signed(dir, ca, 'controller-manager', '/CN=system:kube-controller-manager', 'clientAuth'),
    scheduler: await signed(dir, ca, 'scheduler', '/CN=system:kube-scheduler', 'clientAuth'),
    kubelet: await signed(dir, ca, 'kubelet', `/O=system:nodes/CN=system:node:${nodeName}`, 'clientAuth'),
    kubeProxy: await signed(dir, ca, 'kube-proxy', '/CN=system:kube-proxy', 'clientAuth'),
    serviceAccount: { key: join(dir, 'sa.key'), pub: join(dir, 'sa.pub') },
  };
  if (!(await exists(pki.serviceAccount.pub))) {
    await openssl(['genrsa', '-out', pki.serviceAccount.key, '2048']);
    await openssl(['rsa', '-in', pki.serviceAccount.key, '-pubout', '-out', pki.serviceAccount.pub]);
  }
  return pki;
}

/**
 * A key and a certificate signed by the CA. The serving certificate is remade when its SANs change
 * (they are kept in a companion .san file).
 */
async function signed(dir: string, ca: ClientCert, name: string, subject: string, usage: 'serverAuth' | 'clientAuth', sans: string[] = []): Promise<ClientCert> {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const sanFile = join(dir, `${name}.san`);
  const sanText = sans.join(',');
  const current = await readFile(sanFile, 'utf8').catch(() => '');
  if ((await exists(cert)) && current === sanText) return { cert, key };

  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  await openssl(['genrsa', '-out', key, '2048']);
  await openssl(['req', '-new', '-key', key, '-subj', subject, '-out', csr]);
  const lines = ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', `extendedKeyUsage=${usage}`];
  if (sans.length) lines.push(`subjectAltName=${sanText}`);
  await writeFile(ext, `${lines.join('\n')}\n`);
  await openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-days', DAYS, '-sha256', '-extfile', ext, '-out', cert]);
  await writeFile(sanFile, sanText);
  return { cert, key };
}

async function openssl(args: string[]): Promise<void> {
  const result = await execa('openssl', args, { reject: false, all: true, stdin: 'ignore' });
  if (result.exitCode !== 0) {
    throw new Error(`openssl ${args[0]} failed (exit ${result.exitCode}): ${(result.all ?? '').trim().split('\n').at(-1)}`);
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}
