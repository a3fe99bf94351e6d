import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BINARY_NAMES, loadVersions, pinnedVersion } from './versions.ts';

function versionsFile(content: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'versions-')), 'versions.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
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

  it('names the malformed field in a one-line error', () => {
    const file = versionsFile({ ...allValid, thanos: { ...validPin, version: 'v1.2.3' } });
    expect(() => loadVersions(file)).toThrow(`${file}: thanos.version: expected a version like 1.2.3 (no leading v)`);
  });

  it('names a missing binary', () => {
    const { versitygw: _, ...withoutVersitygw } = allValid;
    expect(() => loadVersions(versionsFile(withoutVersitygw))).toThrow(/: versitygw: /);
  });

  it('requires a way to stamp the version', () => {
    const { versionVariable: _, ...unstamped } = validPin;
    expect(() => loadVersions(versionsFile({ ...allValid, alertmanager: unstamped }))).toThrow(
      /: alertmanager: needs versionPackage or versionVariable/,
    );
  });

  it('reports invalid JSON on one line', () => {
    const file = versionsFile('{ "thanos": ');
    expect(() => loadVersions(file)).toThrow(new RegExp(`^${file}: cannot read pinned versions: [^\\n]+$`));
  });
});
