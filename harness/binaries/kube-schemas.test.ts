import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { releaseArchive } from './download.ts';
import { builtinPath, embedKubernetesSchemas, kubernetesMinor } from './kube-schemas.ts';
import { envVarName } from './provision.ts';
import { tempDir } from './testdata/temp-dir.ts';
import { buildId, pinnedVersion } from './versions.ts';

describe('Kubernetes schemas built into kubectl-validate', () => {
  it('maps api/openapi-spec/v3 files onto its builtins layout, skipping what it does not read', () => {
    expect(builtinPath('api__v1_openapi.json')).toBe('api/v1.json');
    expect(builtinPath('apis__apps__v1_openapi.json')).toBe('apis/apps/v1.json');
    expect(builtinPath('apis__networking.k8s.io__v1beta1_openapi.json')).toBe('apis/networking.k8s.io/v1beta1.json');
    for (const skipped of ['api_openapi.json', 'apis_openapi.json', 'apis__apps_openapi.json', 'version_openapi.json', 'openid__v1__jwks_openapi.json', 'README.md']) {
      expect(builtinPath(skipped), skipped).toBeUndefined();
    }
    expect(kubernetesMinor('1.33.5')).toBe('1.33');
  });

  it('replaces the minor directory with the pinned release documents', async () => {
    const k8s = await tempDir('k8s');
    const spec = join(k8s, 'api', 'openapi-spec', 'v3');
    await mkdir(spec, { recursive: true });
    for (const f of ['api__v1_openapi.json', 'apis__apps__v1_openapi.json', 'apis__apps_openapi.json']) await writeFile(join(spec, f), '{}');
    const source = await tempDir('kubectl-validate');
    await mkdir(join(source, 'pkg', 'openapiclient', 'builtins', '1.33', 'apis', 'stale'), { recursive: true });

    expect(await embedKubernetesSchemas(k8s, '1.33.5', source)).toBe(2);
    const target = join(source, 'pkg', 'openapiclient', 'builtins', '1.33');
    expect((await readdir(target, { recursive: true })).sort()).toEqual(['api', 'api/v1.json', 'apis', 'apis/apps', 'apis/apps/v1.json']);
    await expect(embedKubernetesSchemas(k8s, '1.33.5', await tempDir('elsewhere'))).rejects.toThrow(/its layout changed/);
  });

  it('caches the binary under its version and the schemas in it', () => {
    const pin = pinnedVersion('kubectl-validate');
    expect(buildId(pin)).toBe(`${pin.version}+k8s${pin.kubernetesSchemas}`);
    expect(buildId(pinnedVersion('helm'))).toBe(pinnedVersion('helm').version);
    expect(envVarName('kubectl-validate')).toBe('KUBECTL_VALIDATE_BIN');
  });

  it('downloads helm from get.helm.sh and never downloads kubectl-validate', () => {
    expect(releaseArchive('helm', '3.22.0', undefined, 'linux', 'x64')).toEqual({
      archiveUrl: 'https://get.helm.sh/helm-v3.22.0-linux-amd64.tar.gz',
      checksumsUrl: 'https://get.helm.sh/helm-v3.22.0-linux-amd64.tar.gz.sha256sum',
      archiveName: 'helm-v3.22.0-linux-amd64.tar.gz',
      memberPath: 'linux-amd64/helm',
    });
    expect(() => releaseArchive('kubectl-validate', '0.0.4')).toThrow(/only built here/);
  });
});
