// Step 3 of provisioning: the official release archive from GitHub (for kind, the plain binary it
// publishes), verified against the release's published sha256 checksums. Where GitHub is unreachable
// this must fail within seconds, because the next step (a Go build) is the one that will actually work there.
import { createHash } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import type { BinaryName } from './names.ts';

export const GITHUB_BASE_URL = 'https://github.com';
export const HELM_BASE_URL = 'https://get.helm.sh';

/** The small checksums file is fetched first with this timeout: an unreachable host fails here, fast. */
const REACHABILITY_TIMEOUT_MS = 5_000;
/** The archive or binary itself (tens of MB) gets a generous bound. */
const ARCHIVE_TIMEOUT_MS = 10 * 60_000;

export interface ReleaseArchive {
  archiveUrl: string;
  checksumsUrl: string;
  /** The file name the checksums file lists. */
  archiveName: string;
  /** Path of the binary inside the archive; absent when the release file is the binary itself (kind). */
  memberPath?: string;
}

/** Where each project publishes its release archives (promtool ships in the Prometheus archive). */
export function releaseArchive(
  name: BinaryName,
  version: string,
  baseUrl: string = GITHUB_BASE_URL,
  platform: string = process.platform,
  arch: string = process.arch,
): ReleaseArchive {
  const goArch = ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[arch];
  if ((platform !== 'linux' && platform !== 'darwin') || goArch === undefined) {
    throw new Error(`no release archive for ${platform}-${arch}`);
  }
  const release = (repo: string, archiveStem: string, checksums: string, binary: string): ReleaseArchive => {
    const base = `${baseUrl}/${repo}/releases/download/v${version}`;
    const archiveName = `${archiveStem}.tar.gz`;
    return {
      archiveUrl: `${base}/${archiveName}`,
      checksumsUrl: `${base}/${checksums}`,
      archiveName,
      memberPath: `${archiveStem}/${binary}`,
    };
  };
  switch (name) {
    case 'thanos':
      return release('thanos-io/thanos', `thanos-${version}.${platform}-${goArch}`, 'sha256sums.txt', 'thanos');
    case 'prometheus':
    case 'promtool':
      return release('prometheus/prometheus', `prometheus-${version}.${platform}-${goArch}`, 'sha256sums.txt', name);
    case 'alertmanager':
      return release('prometheus/alertmanager', `alertmanager-${version}.${platform}-${goArch}`, 'sha256sums.txt', 'alertmanager');
    case 'helm': {
      // Helm publishes on get.helm.sh, one sha256sum file per archive; baseUrl replaces it only in tests.
      const base = baseUrl === GITHUB_BASE_URL ? HELM_BASE_URL : `${baseUrl}/helm`;
      const archiveName = `helm-v${version}-${platform}-${goArch}.tar.gz`;
      return {
        archiveUrl: `${base}/${archiveName}`,
        checksumsUrl: `${base}/${archiveName}.sha256sum`,
        archiveName,
        memberPath: `${platform}-${goArch}/helm`,
      };
    }
    case 'kind': {
      // Plain binaries, each with its own sha256sum file ("<hex>  kind-linux-amd64", hack/release/build/cross.sh).
      const base = `${baseUrl}/kubernetes-sigs/kind/releases/download/v${version}`;
      const archiveName = `kind-${platform}-${goArch}`;
      return { archiveUrl: `${base}/${archiveName}`, checksumsUrl: `${base}/${archiveName}.sha256sum`, archiveName };
    }
    case 'kubectl-validate':
      // Its release archives know Kubernetes up to 1.30 and would fetch newer schemas from GitHub.
      throw new Error('kubectl-validate is only built here, with the pinned Kubernetes release\'s schemas in it (kube-schemas.ts)');
    case 'versitygw': {
      // goreleaser naming: title-cased OS, uname-style arch.
      const os = platform === 'linux' ? 'Linux' : 'Darwin';
      const unameArch = goArch === 'amd64' ? 'x86_64' : goArch;
      return release('versity/versitygw', `versitygw_v${version}_${os}_${unameArch}`, 'checksums.txt', 'versitygw');
    }
  }
}

/**
 * Downloads the archive into workDir, checks its sha256, and extracts the binary (a plain binary is
 * used as it is). Returns the path of the executable binary (inside workDir).
 */
export async function downloadRelease(archive: ReleaseArchive, workDir: string): Promise<string> {
  const checksums = await httpGet(archive.checksumsUrl, REACHABILITY_TIMEOUT_MS);
  const expected = findChecksum(checksums.toString('utf8'), archive.archiveName);
  if (expected === undefined) throw new Error(`${archive.checksumsUrl} lists no checksum for ${archive.archiveName}`);

  const bytes = await httpGet(archive.archiveUrl, ARCHIVE_TIMEOUT_MS);
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== expected) {
    throw new Error(`sha256 mismatch for ${archive.archiveUrl}: got ${actual}, the release publishes ${expected}`);
  }

  await mkdir(workDir, { recursive: true });
  const archiveFile = join(workDir, archive.archiveName);
  await writeFile(archiveFile, bytes);
  if (archive.memberPath === undefined) {
    await chmod(archiveFile, 0o755);
    return archiveFile;
  }
  const tar = await execa('tar', ['-xzf', archiveFile, '-C', workDir, archive.memberPath], { reject: false, all: true });
  if (tar.exitCode !== 0) throw new Error(`cannot extract ${archive.memberPath} from ${archive.archiveName}: ${tar.all}`);
  const binary = join(workDir, archive.memberPath);
  await chmod(binary, 0o755);
  return binary;
}

/** A line of a sha256sum-style file is "<hex>  <file name>" (a "*" before the name marks binary mode). */
export function findChecksum(checksumsFile: string, fileName: string): string | undefined {
  for (const line of checksumsFile.split('\n')) {
    const match = /^([0-9a-f]{64})\s+\*?(\S+)\s*$/i.exec(line.trim());
    if (match?.[2] === fileName) return match[1]?.toLowerCase();
  }
  return undefined;
}

async function httpGet(url: string, timeoutMs: number): Promise<Buffer> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  } catch (error) {
    throw new Error(`GET ${url}: ${describeFetchError(error)}`);
  }
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  try {
    return Buffer.from(await response.arrayBuffer());
  } catch (error) {
    throw new Error(`GET ${url}: ${describeFetchError(error)}`);
  }
}

/** fetch() says only "fetch failed"; the reason (ENOTFOUND, ECONNREFUSED, timeout) is in its cause. */
function describeFetchError(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'timed out';
  const cause = error instanceof Error ? (error.cause as (NodeJS.ErrnoException & { hostname?: string }) | undefined) : undefined;
  if (cause?.code) return `${cause.code}${cause.hostname ? ` ${cause.hostname}` : ''}`;
  return cause?.message ?? (error instanceof Error ? error.message : String(error));
}
