// Component images: one provisioned binary each, FROM scratch in effect (no base image, no shell).
//
// The binaries are the ones the process substrate runs (harness/binaries: env override, cache, build),
// so both substrates test the same files. They are meant to be static (CGO_ENABLED=0); a dynamically
// linked one still works: its loader and the libraries `ldd` names are copied in beside it.
import { access, constants } from 'node:fs/promises';
import { execa } from 'execa';
import type { Env } from '../binaries/cache.ts';
import { resolveBinary } from '../binaries/provision.ts';
import type { BinaryName } from '../binaries/names.ts';
import { buildImage, type BuiltImage, type ImageSpec } from './image.ts';

/** The binaries that run in a pod (promtool only runs on the test side). */
export const COMPONENT_IMAGES = ['thanos', 'prometheus', 'alertmanager', 'versitygw'] as const satisfies readonly BinaryName[];
export type ComponentImageName = (typeof COMPONENT_IMAGES)[number];

export const IMAGE_REPOSITORY = 'thanos-ha-e2e';

export function componentImageTag(name: ComponentImageName, version: string): string {
  return `${IMAGE_REPOSITORY}/${name}:${version}`;
}

export interface ComponentImage extends BuiltImage {
  name: ComponentImageName;
  binary: string;
  /** Libraries copied in because the binary is dynamically linked; empty for a static binary. */
  libraries: string[];
}

const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

// Numeric users are enough for a scratch image, but some code looks names up; nobody is 65534 as usual.
const PASSWD = 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n';
const GROUP = 'root:x:0:\nnobody:x:65534:\n';

export async function buildComponentImage(
  name: ComponentImageName,
  opts: { env?: Env; onProgress?: (line: string) => void } = {},
): Promise<ComponentImage> {
  const env = opts.env ?? process.env;
  const binary = await resolveBinary(name, { env, onProgress: opts.onProgress });
  const libraries = await sharedLibraries(binary.path);
  if (libraries.length > 0) {
    opts.onProgress?.(`  ${name} is dynamically linked: copying ${libraries.length} libraries from this machine into its image`);
  }
  const files: Record<string, string> = { [`/bin/${name}`]: binary.path };
  for (const library of libraries) files[library] = library;
  if (await readable(CA_BUNDLE)) files[CA_BUNDLE] = CA_BUNDLE; // for S3 over https outside the cluster

  const spec: ImageSpec = {
    tag: componentImageTag(name, binary.version),
    files,
    texts: { '/etc/passwd': PASSWD, '/etc/group': GROUP },
    entrypoint: [`/bin/${name}`],
    labels: { 'org.opencontainers.image.version': binary.version, 'org.opencontainers.image.title': name },
  };
  const built = await buildImage(spec, opts);
  return { ...built, name, binary: binary.path, libraries };
}

/**
 * The absolute paths `ldd` lists for a binary (its loader included), or [] for a static one.
 * ldd says "not a dynamic executable" (exit 1) or "statically linked" for static binaries.
 */
export async function sharedLibraries(binary: string): Promise<string[]> {
  const result = await execa('ldd', [binary], { reject: false, all: true, stdin: 'ignore', env: { ...process.env, LC_ALL: 'C' } });
  const output = result.all ?? '';
  if (/not a dynamic executable|statically linked/.test(output)) return [];
  if (result.exitCode !== 0) throw new Error(`ldd ${binary} failed (exit ${result.exitCode}): ${output.trim().split('\n')[0]}`);
  return parseLdd(output);
}

/** "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)" -> the paths. */
export function parseLdd(output: string): string[] {
  const paths = new Set<string>();
  for (const line of output.split('\n')) {
    const arrow = /=>\s*(\/\S+)/.exec(line);
    const bare = /^\s*(\/\S+)\s+\(0x/.exec(line);
    if (/=>\s*not found/.test(line)) throw new Error(`ldd: a library is missing on this machine: ${line.trim()}`);
    const path = arrow?.[1] ?? bare?.[1];
    if (path) paths.add(path);
  }
  return [...paths].sort();
}

async function readable(path: string): Promise<boolean> {
  return access(path, constants.R_OK).then(() => true, () => false);
}
