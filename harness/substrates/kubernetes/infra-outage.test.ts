// The run's own S3 on Kubernetes (the infra release's versitygw) as an outage: its data volume and
// what stopS3/startS3 ask of the cluster. No cluster is contacted: a recording stand-in takes the calls.
import { describe, expect, it } from 'vitest';
import type { KubeCluster } from './cluster.ts';
import { infraS3Outage, infraValues, RELAY_NAME, S3_NAME } from './infra.ts';
import type { Storage } from './values.ts';

const claim: Storage = { type: 'persistentVolumeClaim', size: '1Gi' };
const base = { topology: 's3-outage', cluster: 'observer', namespace: 'thanos-ha-e2e-abc123-observer', relayImage: 'relay:1', imagePullPolicy: 'Never' as const };

function recordingCluster(): { cluster: KubeCluster; calls: string[] } {
  const calls: string[] = [];
  const cluster = {
    context: 'kind-x',
    scale: async (ns: string, name: string, replicas: number) => void calls.push(`scale ${ns}/${name} ${replicas}`),
    waitPodGone: async (ns: string, name: string) => void calls.push(`gone ${ns}/${name}`),
    waitPodReady: async (ns: string, name: string) => void calls.push(`ready ${ns}/${name}`),
  } as unknown as KubeCluster;
  return { cluster, calls };
}

describe('infraValues: the S3 data volume', () => {
  it('puts the S3 pod on the cluster\'s claim and keeps the relay on an emptyDir', () => {
    const values = infraValues({ ...base, s3Image: 'versitygw:1', s3Storage: claim });
    expect(values.storage).toEqual(claim);
    expect(Object.fromEntries(values.pods.map((p) => [p.name, p.dataVolume]))).toEqual({ [RELAY_NAME]: 'emptyDir', [S3_NAME]: 'persistentVolumeClaim' });
  });

  it('stays on emptyDir without a claim, and without S3 whatever the storage', () => {
    expect(infraValues({ ...base, s3Image: 'versitygw:1' }).storage).toEqual({ type: 'emptyDir' });
    const relayOnly = infraValues({ ...base, s3Storage: claim });
    expect(relayOnly.storage).toEqual({ type: 'emptyDir' });
    expect(relayOnly.pods.map((p) => [p.name, p.dataVolume])).toEqual([[RELAY_NAME, 'emptyDir']]);
  });
});

describe('infraS3Outage', () => {
  it('scales the S3 StatefulSet to 0 until its pod is gone, and to 1 until it is ready', async () => {
    const { cluster, calls } = recordingCluster();
    const outage = infraS3Outage(cluster, base.namespace, claim, () => undefined);
    if (typeof outage === 'string') throw new Error(outage);
    await outage.stop();
    expect(calls).toEqual([`scale ${base.namespace}/${S3_NAME} 0`, `gone ${base.namespace}/${S3_NAME}-0`]);
    await outage.start();
    expect(calls.slice(2)).toEqual([`scale ${base.namespace}/${S3_NAME} 1`, `ready ${base.namespace}/${S3_NAME}-0`]);
  });

  it('refuses, in one line naming the fix, when the bucket is on an emptyDir', () => {
    const { cluster, calls } = recordingCluster();
    const outage = infraS3Outage(cluster, base.namespace, { type: 'emptyDir' }, () => undefined);
    expect(outage).toBe(`the run's S3 in kind-x/${base.namespace} keeps its bucket on an emptyDir (no StorageClass): stopping it would lose every block; set THANOS_HA_E2E_STORAGE_CLASS to a StorageClass of kind-x`);
    expect(calls).toEqual([]);
  });
});
