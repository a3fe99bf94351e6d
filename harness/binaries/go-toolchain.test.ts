import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseGoVersion, pinnedNewerToolchain, requiredGo, toolchainFor } from './go-toolchain.ts';

const goMod = (go: string) => `module github.com/thanos-io/thanos\n\ngo ${go}\n\ntoolchain go1.26.10\n\nrequire (\n)\n`;

describe('the Go toolchain of a build', () => {
  it('reads go.mod\'s go line, not its toolchain line', () => {
    expect(requiredGo(goMod('1.26.10'))).toBe('1.26.10');
    expect(requiredGo('module x\n')).toBeUndefined();
    expect(parseGoVersion('1.26')).toEqual([1, 26, 0]);
    expect(parseGoVersion('go1.26.8')).toEqual([1, 26, 8]);
    expect(() => parseGoVersion('devel')).toThrow(/not a Go version/);
  });

  it("keeps the machine's Go when it is new enough, and picks the pinned newer one when not", () => {
    expect(toolchainFor('thanos 0.42.4', goMod('1.25.0'), 'go1.26.8', 'go1.27.3')).toBeUndefined();
    expect(toolchainFor('thanos 0.42.4', goMod('1.26.8'), 'go1.26.8', 'go1.27.3')).toBeUndefined();
    // 1.26.10 is newer than 1.26.8: compared as numbers, not as text.
    expect(toolchainFor('thanos 0.42.5', goMod('1.26.10'), 'go1.26.8', 'go1.27.3')).toBe('go1.27.3');
  });

  it('says in one line how to move the pin when the module needs more than it', () => {
    expect(() => toolchainFor('thanos 9.0.0', goMod('1.28.1'), 'go1.26.8', 'go1.27.3')).toThrow(
      /^thanos 9\.0\.0 needs Go >= 1\.28\.1; this machine has go1\.26\.8 and the pinned newer toolchain is go1\.27\.3: set THANOS_HA_E2E_GO_TOOLCHAIN/,
    );
  });

  it('takes the pin from the versions file, or the environment', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'go-toolchain-')), 'versions.json');
    writeFileSync(file, JSON.stringify({ goToolchain: { version: '1.27.3' } }));
    expect(pinnedNewerToolchain({}, file)).toBe('go1.27.3');
    expect(pinnedNewerToolchain({ THANOS_HA_E2E_GO_TOOLCHAIN: 'go1.27.4' }, file)).toBe('go1.27.4');
    writeFileSync(file, '{}');
    expect(() => pinnedNewerToolchain({}, file)).toThrow(/pins no goToolchain.version/);
  });
});

describe('the go.mod of a module version, from the proxy', () => {
  it('spells upper-case letters of a module path as the proxy protocol does', async () => {
    const { escapeModulePath } = await import('./go-toolchain.ts');
    expect(escapeModulePath('github.com/BurntSushi/toml')).toBe('github.com/!burnt!sushi/toml');
  });

  it('asks nothing when GOPROXY has no HTTP proxy', async () => {
    const { fetchGoMod } = await import('./go-toolchain.ts');
    expect(await fetchGoMod('github.com/thanos-io/thanos', 'v0.42.5', 'off')).toBeUndefined();
    expect(await fetchGoMod('github.com/thanos-io/thanos', 'v0.42.5', 'direct')).toBeUndefined();
  });
});
