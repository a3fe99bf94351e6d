import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './testdata/temp-dir.ts';
import { writeFakeBinary } from './testdata/fake-binaries.ts';
import { cachePaths } from './cache.ts';
import { ldflags } from './go-build.ts';
import { checkVersionOverrides, classifyGoListFailure, effectiveVersions, goModuleVersionOf, loadVersions, nearestVersions, parseVersionOverrides, pinnedVersion, releaseOfGoModuleVersion, type ModuleLookup } from './versions.ts';
import { BINARY_NAMES } from './names.ts';

async function versionsFile(content: unknown): Promise<string> {
  const file = join(await tempDir('versions'), 'versions.json');
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

const validPin = { version: '1.2.3', goModule: 'example.com/x', buildPackage: './cmd/x', versionVariable: 'main.Version' };
const allValid = Object.fromEntries(BINARY_NAMES.map((name) => [name, validPin]));

describe('pinned versions', () => {
  it('reads the committed fixtures/versions.json', () => {
    const thanos = pinnedVersion('thanos');
    expect(thanos.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(thanos.goModuleVersion).toBe(`v${thanos.version}`); // the default
    expect(pinnedVersion('prometheus').goModuleVersion).toMatch(/^v0\.\d+\.\d+$/); // Prometheus 3.x is v0.3xx as a module
    expect(pinnedVersion('promtool').version).toBe(pinnedVersion('prometheus').version);
  });

  it('rejects an unknown binary by name', () => {
    expect(() => pinnedVersion('grafana')).toThrow(/^unknown binary "grafana" \(known: thanos, prometheus/);
  });

  it('names the malformed field in a one-line error', async () => {
    const file = await versionsFile({ ...allValid, thanos: { ...validPin, version: 'v1.2.3' } });
    expect(() => loadVersions(file)).toThrow(`${file}: thanos.version: expected a version like 1.2.3 (no leading v)`);
  });

  it('names a missing binary', async () => {
    const { versitygw: _, ...withoutVersitygw } = allValid;
    const file = await versionsFile(withoutVersitygw);
    expect(() => loadVersions(file)).toThrow(/: versitygw: /);
  });

  it('requires a way to stamp the version', async () => {
    const { versionVariable: _, ...unstamped } = validPin;
    const file = await versionsFile({ ...allValid, alertmanager: unstamped });
    expect(() => loadVersions(file)).toThrow(
      /: alertmanager: needs versionPackage or versionVariable/,
    );
  });

  it('accepts a version that is in the source instead of stamped, and a reason for the pin', async () => {
    const { versionVariable: _, ...unstamped } = validPin;
    const file = await versionsFile({ ...allValid, kind: { ...unstamped, versionInSource: true, versionArgs: ['version'], why: 'newest on the proxy' } });
    expect(loadVersions(file).kind).toMatchObject({ versionInSource: true, versionArgs: ['version'], why: 'newest on the proxy' });
    const empty = await versionsFile({ ...allValid, kind: { ...validPin, why: '' } });
    expect(() => loadVersions(empty)).toThrow(/: kind\.why: /);
  });

  it('pins kind, whose version is a constant in its source: a Go build stamps nothing, `kind version` reports it', () => {
    const kind = pinnedVersion('kind');
    expect(kind).toMatchObject({ goModule: 'sigs.k8s.io/kind', goModuleVersion: `v${kind.version}`, buildPackage: '.', versionInSource: true, versionArgs: ['version'] });
    expect(kind.versionPackage ?? kind.versionVariable).toBeUndefined();
    expect(kind.why).toMatch(/Go module proxy/);
    expect(ldflags(kind)).toBe('-s -w');
  });

  it('reports invalid JSON on one line', async () => {
    const file = await versionsFile('{ "thanos": ');
    expect(() => loadVersions(file)).toThrow(new RegExp(`^${file}: cannot read pinned versions: [^\\n]+$`));
  });
});

// What the proxy answered on this machine (go 1.26.8, proxy.golang.org): its /@v/list of Thanos omits
// v0.41.0 and v0.39.2, which it serves nonetheless; v0.41.1 is "403 Forbidden: This module version is not available".
const THANOS_LISTED = ['v0.36.0', 'v0.40.1', 'v0.42.0', 'v0.42.1', 'v0.42.2', 'v0.42.3', 'v0.42.4', 'v0.42.5'];
const PROMETHEUS_LISTED = ['v0.53.0', 'v0.55.1', 'v0.300.0', 'v0.304.2', 'v0.305.0', 'v0.305.1', 'v0.306.0', 'v0.309.1'];

/** A proxy that serves exactly `served` and lists `listed`; records what it was asked. */
function fakeProxy(served: Record<string, string[]>, listed: Record<string, string[]> = served) {
  const asked: string[] = [];
  const lookup: ModuleLookup = {
    has(module, version) {
      asked.push(`${module}@${version}`);
      return (served[module] ?? []).includes(version)
        ? { answer: 'yes', detail: '' }
        : { answer: 'no', detail: '403 Forbidden: This module version is not available' };
    },
    list: (module) => listed[module] ?? [],
  };
  return { lookup, asked };
}

const pins = loadVersions();
const thanosModule = pins.thanos.goModule;
const prometheusModule = pins.prometheus.goModule;

describe('version overrides: parsing (no network)', () => {
  it('maps Prometheus 3.x releases to its v0.3xx module versions, and back', () => {
    expect(goModuleVersionOf('prometheus', '3.9.1')).toBe('v0.309.1');
    expect(goModuleVersionOf('promtool', '3.5.0')).toBe('v0.305.0');
    expect(goModuleVersionOf('prometheus', '3.10.0-rc.0')).toBe('v0.310.0-rc.0');
    expect(goModuleVersionOf('thanos', '0.41.0')).toBe('v0.41.0');
    expect(goModuleVersionOf('prometheus', '2.48.0')).toBe('v0.48.0');
    expect(() => goModuleVersionOf('prometheus', '1.8.2')).toThrow(/only 2\.x and 3\.x releases are supported/);
    expect(releaseOfGoModuleVersion('prometheus', 'v0.305.1')).toBe('3.5.1');
    expect(releaseOfGoModuleVersion('prometheus', 'v0.53.0')).toBe('2.53.0');
    expect(releaseOfGoModuleVersion('prometheus', 'v0.150.0')).toBeUndefined();
    expect(releaseOfGoModuleVersion('thanos', 'v0.42.4')).toBe('0.42.4');
    // The committed pin agrees with the rule.
    expect(goModuleVersionOf('prometheus', pins.prometheus.version)).toBe(pins.prometheus.goModuleVersion);
  });

  it('reads each variable; Prometheus also moves promtool; empty or equal to the pin is no override', () => {
    const overrides = parseVersionOverrides(
      {
        THANOS_HA_E2E_THANOS_VERSION: 'v0.41.0',
        THANOS_HA_E2E_PROMETHEUS_VERSION: ' 3.5.0 ',
        THANOS_HA_E2E_ALERTMANAGER_VERSION: '',
      },
      pins,
    );
    expect(overrides).toEqual([
      { variable: 'THANOS_HA_E2E_THANOS_VERSION', binaries: ['thanos'], version: '0.41.0', pinned: pins.thanos.version, goModule: thanosModule, goModuleVersion: 'v0.41.0' },
      { variable: 'THANOS_HA_E2E_PROMETHEUS_VERSION', binaries: ['prometheus', 'promtool'], version: '3.5.0', pinned: pins.prometheus.version, goModule: prometheusModule, goModuleVersion: 'v0.305.0' },
    ]);
    expect(parseVersionOverrides({ THANOS_HA_E2E_PROMETHEUS_VERSION: '2.47.2' }, pins)[0]).toMatchObject({ version: '2.47.2', goModuleVersion: 'v0.47.2' }); // the note's
    expect(parseVersionOverrides({ THANOS_HA_E2E_THANOS_VERSION: pins.thanos.version }, pins)).toEqual([]);
    expect(parseVersionOverrides({}, pins)).toEqual([]);
  });

  it.each([
    ['THANOS_HA_E2E_THANOS_VERSION', 'latest', /^THANOS_HA_E2E_THANOS_VERSION="latest" is not a release version: set it like \d+\.\d+\.\d+ .*, or unset it to use \S+ from fixtures\/versions\.json$/],
    ['THANOS_HA_E2E_THANOS_VERSION', '0.41', /^THANOS_HA_E2E_THANOS_VERSION="0\.41" is not a release version/],
    ['THANOS_HA_E2E_ALERTMANAGER_VERSION', '0.31.1\n0.30.0', /^THANOS_HA_E2E_ALERTMANAGER_VERSION="0\.31\.1\\n0\.30\.0" is not a release version/],
    ['THANOS_HA_E2E_PROMETHEUS_VERSION', '1.8.2', /^THANOS_HA_E2E_PROMETHEUS_VERSION=1\.8\.2: Prometheus 1\.8\.2: only 2\.x and 3\.x releases are supported .*; or unset it/],
    ['THANOS_HA_E2E_PROMETHEUS_VERSION', '0.309.1', /that looks like the Go module version; give the release, e.g\. 3\.\d+\.\d+ for v0\.3\d+\.\d+/],
  ])('rejects %s=%j in one line naming the variable', (variable, value, message) => {
    expect(() => parseVersionOverrides({ [variable]: value }, pins)).toThrow(message);
    expect(() => parseVersionOverrides({ [variable]: value }, pins)).toThrow(/^[^\n]+$/);
  });

  it('changes only the version: module, package, build tags and stamping stay the pin\'s', () => {
    const { lookup } = fakeProxy({ [thanosModule]: ['v0.41.0'], [prometheusModule]: ['v0.305.0'] });
    const env = { THANOS_HA_E2E_THANOS_VERSION: '0.41.0', THANOS_HA_E2E_PROMETHEUS_VERSION: '3.5.0', THANOS_HA_E2E_CACHE: '/nonexistent' };
    const versions = effectiveVersions({ env, lookup });
    expect(versions.thanos).toEqual({ ...pins.thanos, version: '0.41.0', goModuleVersion: 'v0.41.0' });
    expect(versions.thanos.buildTags).toEqual(['netgo', 'slicelabels']);
    expect(versions.prometheus).toEqual({ ...pins.prometheus, version: '3.5.0', goModuleVersion: 'v0.305.0' });
    expect(versions.promtool).toEqual({ ...pins.promtool, version: '3.5.0', goModuleVersion: 'v0.305.0' });
    expect(versions.alertmanager).toEqual(pins.alertmanager);
    expect(pinnedVersion('thanos', versions).version).toBe('0.41.0');
  });

  it('asks nothing when no override is set', () => {
    const { lookup, asked } = fakeProxy({});
    expect(effectiveVersions({ env: {}, lookup })).toEqual(pins);
    expect(asked).toEqual([]);
  });
});

describe('version overrides: availability on the proxy (fake proxy)', () => {
  it('accepts a version the proxy serves although its list omits it', () => {
    const { lookup, asked } = fakeProxy({ [thanosModule]: [...THANOS_LISTED, 'v0.41.0'] }, { [thanosModule]: THANOS_LISTED });
    const env = { THANOS_HA_E2E_THANOS_VERSION: '0.41.0', THANOS_HA_E2E_CACHE: '/nonexistent' };
    expect(effectiveVersions({ env, lookup }).thanos.version).toBe('0.41.0');
    expect(asked).toEqual([`${thanosModule}@v0.41.0`]);
  });

  it('names the variable, the module version and the nearest listed releases when the proxy lacks it', () => {
    const { lookup } = fakeProxy({ [thanosModule]: THANOS_LISTED });
    const env = { THANOS_HA_E2E_THANOS_VERSION: '0.41.1', THANOS_HA_E2E_CACHE: '/nonexistent' };
    expect(() => effectiveVersions({ env, lookup })).toThrow(
      `THANOS_HA_E2E_THANOS_VERSION=0.41.1: the Go module proxy has no ${thanosModule}@v0.41.1 ` +
        '(403 Forbidden: This module version is not available); nearest it lists: 0.36.0, 0.40.1, 0.42.0, 0.42.1 (newest 0.42.5); ' +
        `set one of those (\`go list -m -versions ${thanosModule}\`), or unset it to use ${pins.thanos.version} from fixtures/versions.json`,
    );
  });

  it('lists Prometheus in releases, not module versions', () => {
    const { lookup } = fakeProxy({ [prometheusModule]: PROMETHEUS_LISTED });
    const env = { THANOS_HA_E2E_PROMETHEUS_VERSION: '3.5.2', THANOS_HA_E2E_CACHE: '/nonexistent' };
    expect(() => effectiveVersions({ env, lookup })).toThrow(
      new RegExp(
        `^THANOS_HA_E2E_PROMETHEUS_VERSION=3\\.5\\.2: the Go module proxy has no ${prometheusModule}@v0\\.305\\.2 \\(the module version of 3\\.5\\.2\\) ` +
          '\\(403 Forbidden[^)]*\\); nearest it lists: 3\\.5\\.0, 3\\.5\\.1, 3\\.6\\.0, 3\\.9\\.1; set one of those',
      ),
    );
  });

  it('skips the proxy for an override already provisioned in the cache', async () => {
    const cache = await tempDir('cache');
    await writeFakeBinary(cachePaths('thanos', '0.41.0', { THANOS_HA_E2E_CACHE: cache }).binary, 'thanos, version 0.41.0');
    const { lookup, asked } = fakeProxy({});
    const versions = effectiveVersions({ env: { THANOS_HA_E2E_THANOS_VERSION: '0.41.0', THANOS_HA_E2E_CACHE: cache }, lookup });
    expect(versions.thanos.version).toBe('0.41.0');
    expect(asked).toEqual([]);
    // prometheus and promtool share the variable: both must be cached for the skip.
    await writeFakeBinary(cachePaths('prometheus', '3.5.0', { THANOS_HA_E2E_CACHE: cache }).binary, 'prometheus, version 3.5.0');
    expect(() => effectiveVersions({ env: { THANOS_HA_E2E_PROMETHEUS_VERSION: '3.5.0', THANOS_HA_E2E_CACHE: cache }, lookup })).toThrow(
      /^THANOS_HA_E2E_PROMETHEUS_VERSION=3\.5\.0: the Go module proxy has no/,
    );
  });

  it('does not block when the proxy cannot be asked (no Go, no network): provisioning reports that itself', () => {
    const unreachable: ModuleLookup = { has: () => ({ answer: 'unknown', detail: 'dial tcp: lookup proxy.golang.org: no such host' }), list: () => [] };
    checkVersionOverrides(parseVersionOverrides({ THANOS_HA_E2E_THANOS_VERSION: '0.41.0' }, pins), unreachable);
  });

  it('tells a missing version from an unreachable proxy in what go prints', () => {
    expect(
      classifyGoListFailure(
        'go: github.com/thanos-io/thanos@v0.41.1: reading https://proxy.golang.org/github.com/thanos-io/thanos/@v/v0.41.1.info: 403 Forbidden\n\tserver response: This module version is not available.\n',
      ),
    ).toEqual({ answer: 'no', detail: '403 Forbidden: This module version is not available.' });
    expect(classifyGoListFailure('go: example.com/x@v9.9.9: invalid version: unknown revision v9.9.9\n')).toEqual({
      answer: 'no',
      detail: 'invalid version: unknown revision v9.9.9',
    });
    expect(
      classifyGoListFailure('go: github.com/thanos-io/thanos@v0.41.0: Get "https://proxy.golang.org/...": dial tcp: lookup proxy.golang.org: no such host\n'),
    ).toMatchObject({ answer: 'unknown' });
  });

  it('picks the nearest releases on both sides, leaving out pre-releases', () => {
    const listed = ['0.36.0', '0.40.1', '0.42.0', '0.42.1', '0.43.0-rc.0', '0.42.5'];
    expect(nearestVersions('0.41.1', listed)).toEqual(['0.36.0', '0.40.1', '0.42.0', '0.42.1']);
    expect(nearestVersions('0.50.0', listed)).toEqual(['0.42.1', '0.42.5']);
    expect(nearestVersions('0.1.0', listed)).toEqual(['0.36.0', '0.40.1']);
    expect(nearestVersions('0.42.1', listed)).toEqual(['0.40.1', '0.42.0', '0.42.5']); // not itself
  });
});
