// Which Go toolchain builds a module: the machine's, or, when the module's go.mod needs a newer Go,
// the newer one pinned in fixtures/versions.json ("goToolchain"), which the go command fetches from
// the Go module proxy (golang.org/toolchain) when GOTOOLCHAIN names it. Machines here run
// GOTOOLCHAIN=local, under which go refuses such a module outright.
import { readFileSync } from 'node:fs';
import { VERSIONS_FILE } from './versions.ts';

/** [major, minor, patch] of "go1.26.8", "1.26.10" or "1.26" (patch 0). */
export function parseGoVersion(version: string): [number, number, number] {
  const match = /^(?:go)?(\d+)\.(\d+)(?:\.(\d+))?/.exec(version.trim());
  if (!match) throw new Error(`"${version}" is not a Go version like go1.26.8`);
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

const compare = (a: [number, number, number], b: [number, number, number]) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** The minimum Go a go.mod asks for (its `go` line), or undefined when it has none. */
export function requiredGo(goMod: string): string | undefined {
  return /^go\s+(\d+\.\d+(?:\.\d+)?)\s*$/m.exec(goMod)?.[1];
}

/** The pinned newer toolchain ("go1.27.3"): THANOS_HA_E2E_GO_TOOLCHAIN, else versions.json's goToolchain. */
export function pinnedNewerToolchain(env: NodeJS.ProcessEnv = process.env, file = VERSIONS_FILE): string {
  const override = env.THANOS_HA_E2E_GO_TOOLCHAIN;
  const version = override ?? (JSON.parse(readFileSync(file, 'utf8')) as { goToolchain?: { version?: string } }).goToolchain?.version;
  if (!version) throw new Error(`${file} pins no goToolchain.version, the Go for modules that need a newer one than the machine's`);
  return `go${parseGoVersion(version).join('.')}`;
}

/**
 * The GOTOOLCHAIN a build needs: undefined when the machine's Go (localGo, "go1.26.8") is new
 * enough for the module, else the pinned newer toolchain. A module that needs more than that one
 * too gets a one-line error saying how to move the pin.
 */
export function toolchainFor(what: string, goMod: string, localGo: string, newer: string): string | undefined {
  const required = requiredGo(goMod);
  if (!required || compare(parseGoVersion(localGo), parseGoVersion(required)) >= 0) return undefined;
  if (compare(parseGoVersion(newer), parseGoVersion(required)) < 0)
    throw new Error(`${what} needs Go >= ${required}; this machine has ${localGo} and the pinned newer toolchain is ${newer}: set THANOS_HA_E2E_GO_TOOLCHAIN (or goToolchain in fixtures/versions.json) to a Go the module proxy serves that is at least ${required}`);
  return newer;
}

/** A module path as the module proxy protocol spells it: each upper-case letter as "!" + lower case. */
export const escapeModulePath = (path: string) => path.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`);

/**
 * A module version's go.mod from the first HTTP proxy of GOPROXY, before anything is downloaded:
 * `go mod download` itself refuses a module that needs a newer Go. undefined when GOPROXY has no
 * HTTP proxy or it does not answer (the go command then says what is wrong itself).
 */
export async function fetchGoMod(goModule: string, version: string, goProxy: string): Promise<string | undefined> {
  const proxy = goProxy.split(/[,|]/).find((p) => /^https?:\/\//.test(p));
  if (!proxy) return undefined;
  try {
    const res = await fetch(`${proxy.replace(/\/$/, '')}/${escapeModulePath(goModule)}/@v/${version}.mod`, { signal: AbortSignal.timeout(30_000) });
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
}
