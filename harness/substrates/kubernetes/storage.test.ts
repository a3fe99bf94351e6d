import type { V1StorageClass } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { chooseStorage, VOLUME_SIZE } from './storage.ts';

const storageClass = (name: string, annotations: Record<string, string> = {}, reclaimPolicy?: string): V1StorageClass => ({
  metadata: { name, annotations },
  provisioner: name === 'local-path' ? 'rancher.io/local-path' : 'ebs.csi.aws.com',
  ...(reclaimPolicy ? { reclaimPolicy } : {}),
});
const DEFAULT = { 'storageclass.kubernetes.io/is-default-class': 'true' };
const localPath = storageClass('local-path', DEFAULT, 'Delete');

describe('where a cluster keeps its pods\' data', () => {
  it('on claims of the default StorageClass, naming no class, where the cluster has one', () => {
    const choice = chooseStorage([storageClass('gp3'), localPath], 'kind-observer');
    expect(choice.storage).toEqual({ type: 'persistentVolumeClaim', size: VOLUME_SIZE });
    expect(choice.line).toBe('data on a 1Gi PersistentVolumeClaim per pod with data in kind-observer, default StorageClass local-path (rancher.io/local-path, reclaim Delete)');
  });

  it('counts the beta annotation, which the admission plugin still honours, and names every default', () => {
    const beta = storageClass('gp2', { 'storageclass.beta.kubernetes.io/is-default-class': 'true' });
    expect(chooseStorage([beta], 'eks').storage.type).toBe('persistentVolumeClaim');
    expect(chooseStorage([beta, localPath], 'eks').line).toContain('default StorageClass gp2 (ebs.csi.aws.com, reclaim Delete), local-path');
    expect(chooseStorage([storageClass('gp2', { 'storageclass.kubernetes.io/is-default-class': 'false' })], 'eks').storage.type).toBe('emptyDir');
  });

  it('on emptyDir, saying so and what that means, where there is no default class or the classes cannot be read', () => {
    expect(chooseStorage([], 'thanos-ha-e2e-local')).toEqual({
      storage: { type: 'emptyDir' },
      line: 'data on emptyDir in thanos-ha-e2e-local: no default StorageClass; a killed or stopped instance restarts empty',
    });
    expect(chooseStorage([storageClass('gp3')], 'eks').line).toBe(
      'data on emptyDir in eks: no default StorageClass (it has gp3: set THANOS_HA_E2E_STORAGE_CLASS to use one); a killed or stopped instance restarts empty',
    );
    expect(chooseStorage({ error: 'HTTP 403: storageclasses.storage.k8s.io is forbidden' }, 'eks')).toEqual({
      storage: { type: 'emptyDir' },
      line: 'data on emptyDir in eks: its StorageClasses cannot be read (HTTP 403: storageclasses.storage.k8s.io is forbidden); a killed or stopped instance restarts empty',
    });
  });

  it('as THANOS_HA_E2E_STORAGE_CLASS says: emptyDir, or a class the cluster has, else one line', () => {
    expect(chooseStorage([localPath], 'kind', 'emptyDir').storage).toEqual({ type: 'emptyDir' });
    expect(chooseStorage({ error: 'forbidden' }, 'kind', 'emptyDir').storage).toEqual({ type: 'emptyDir' });
    expect(chooseStorage([localPath, storageClass('gp3')], 'eks', 'gp3')).toEqual({
      storage: { type: 'persistentVolumeClaim', size: VOLUME_SIZE, storageClassName: 'gp3' },
      line: 'data on a 1Gi PersistentVolumeClaim per pod with data in eks, StorageClass gp3 (ebs.csi.aws.com, reclaim Delete) (THANOS_HA_E2E_STORAGE_CLASS)',
    });
    expect(() => chooseStorage([localPath], 'eks', 'gp3')).toThrow(/^THANOS_HA_E2E_STORAGE_CLASS=gp3: eks has no such StorageClass \(it has: local-path; or set emptyDir\)$/);
    expect(() => chooseStorage({ error: 'HTTP 403: forbidden' }, 'eks', 'gp3')).toThrow(/^THANOS_HA_E2E_STORAGE_CLASS=gp3, but the StorageClasses of eks cannot be read: HTTP 403: forbidden$/);
  });
});
