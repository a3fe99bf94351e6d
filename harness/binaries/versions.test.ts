import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './testdata/temp-dir.ts';
import { BINARY_NAMES, loadVersions, pinnedVersion } from './versions.ts';

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

  it('reports invalid JSON on one line', async () => {
    const file = await versionsFile('{ "thanos": ');
    expect(() => loadVersions(file)).toThrow(new RegExp(`^${file}: cannot read pinned versions: [^\\n]+$`));
  });
});
