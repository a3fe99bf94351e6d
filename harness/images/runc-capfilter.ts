// The OCI runtime the harness registers when it starts dockerd itself, on machines whose capability
// bounding set lacks a capability (this VM: CAP_SYS_RESOURCE). Docker before 23 (Debian's docker.io
// is 20.10) gives a --privileged container every capability it knows, and runc then fails with
// `unable to apply caps: operation not permitted`: no kind node and no K3sContainer can start.
// runc-capfilter/main.go drops the missing ones from the container's config and execs the real
// runc. On users' machines (their own dockerd) nothing changes.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Env } from '../binaries/cache.ts';
import { buildGoToolBinary, type GoTool } from './go-tool.ts';

export const CAPFILTER_RUNTIME = 'thanos-ha-e2e-runc';

export const RUNC_CAPFILTER: GoTool = {
  name: 'runc-capfilter',
  source: fileURLToPath(new URL('./runc-capfilter/main.go', import.meta.url)),
};

/** Capability numbers (0..cap_last_cap) this process's bounding set lacks; [] where unknown. */
export async function missingBoundingCapabilities(): Promise<number[]> {
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  const last = Number.parseInt(await readFile('/proc/sys/kernel/cap_last_cap', 'utf8').catch(() => ''), 10);
  const bounding = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  if (!bounding || !Number.isInteger(last)) return [];
  const mask = BigInt(`0x${bounding}`);
  const missing: number[] = [];
  for (let cap = 0; cap <= last; cap++) if ((mask & (1n << BigInt(cap))) === 0n) missing.push(cap);
  return missing;
}

/**
 * dockerd arguments that make runc-capfilter the default runtime, or [] where the bounding set is
 * complete (then Docker's own runc is fine). Builds the wrapper (a few seconds, cached) when needed.
 */
export async function capFilterDockerdArgs(env: Env, progress: (line: string) => void): Promise<string[]> {
  const missing = await missingBoundingCapabilities();
  if (missing.length === 0) return [];
  const binary = await buildGoToolBinary(RUNC_CAPFILTER, env, progress);
  progress(`capability bounding set lacks ${missing.map((c) => `cap ${c}`).join(', ')}: dockerd gets runtime ${CAPFILTER_RUNTIME} (${binary}), which drops them from containers' capabilities`);
  return [`--add-runtime=${CAPFILTER_RUNTIME}=${binary}`, `--default-runtime=${CAPFILTER_RUNTIME}`];
}
