// The Compactor on the chart path: its pod runs the thanos image, serves HTTP only on Thanos'
// conventional port, and keeps its data dir on the pod's volume (a claim with persistent storage).
import { describe, expect, it } from 'vitest';
import { compactorDownsampling } from '../../presets/compactor-downsampling.ts';
import { compactorOverlap } from '../../presets/compactor-overlap.ts';
import { containerPort } from './addressing.ts';
import { componentImages } from './component-images.ts';
import { IMAGES, kubePlan } from './fixture.ts';
import { chartValues, usesDataDir, type Storage } from './values.ts';

const claims: Storage = { type: 'persistentVolumeClaim', size: '1Gi' };
const flag = (args: string[], name: string) => args.filter((a) => a.startsWith(`--${name}=`)).map((a) => a.slice(name.length + 3));

describe('a Compactor in the chart values', () => {
  const { plan, addressing } = kubePlan(compactorOverlap().topology);

  it('is one pod per observee running `thanos compact` from the thanos image, with one HTTP port and its readiness probe on it', () => {
    for (const cluster of ['same-labels', 'replica-labels']) {
      const values = chartValues(plan, cluster, { addressing, images: IMAGES, storage: claims });
      const pod = values.pods.find((p) => p.name === 'compactor')!;
      expect(pod.containers).toHaveLength(1);
      const [c] = pod.containers;
      expect(c).toMatchObject({ name: 'compactor', instance: `${cluster}/compactor`, image: IMAGES.thanos, ports: [{ name: 'http', containerPort: 10902 }], readinessProbe: { path: '/-/ready', port: 10902 } });
      expect(c!.args[0]).toBe('compact');
      expect(flag(c!.args, 'http-address')).toEqual(['0.0.0.0:10902']);
      expect(flag(c!.args, 'grpc-address')).toEqual([]);
      expect(flag(c!.args, 'data-dir')).toEqual(['/data']);
      expect(c!.configMap).toBe('compactor-config');
      expect(values.configMaps.find((m) => m.name === 'compactor-config')!.data['objstore.yml']).toContain(`prefix: ${cluster}`);
      // Its data dir is a cache of downloaded blocks: on the pod's claim with persistent storage.
      expect(pod.dataVolume).toBe('persistentVolumeClaim');
      expect(chartValues(plan, cluster, { addressing, images: IMAGES }).pods.find((p) => p.name === 'compactor')!.dataVolume).toBe('emptyDir');
      const service = values.services.find((s) => s.name === 'compactor')!;
      expect(service).toMatchObject({ role: 'instance', headless: true, ports: [{ name: 'http', port: 10902, targetPort: 10902 }] });
    }
    expect(containerPort('compactor', 'http')).toBe(10902);
  });

  it('tells from its flags that it keeps data in the pod volume', () => {
    const compactor = plan.processes.find((p) => p.kind === 'compactor')!;
    expect(usesDataDir(compactor)).toBe(true);
  });

  it('is exposed to no other cluster (nothing dials it) and needs only the thanos image', () => {
    expect(addressing.exposures().filter((e) => e.target.endsWith('/compactor'))).toEqual([]);
    const d = kubePlan(compactorDownsampling().topology);
    const values = chartValues(d.plan, 'observer', { addressing: d.addressing, images: { thanos: IMAGES.thanos! } });
    expect(values.pods.map((p) => p.name).sort()).toEqual(['compactor', 'query', 'store']);
    expect(componentImages({}).thanos).toMatch(/^thanos-ha-e2e\/thanos:\d+\.\d+\.\d+/);
    expect(new Set(d.plan.processes.map((p) => p.binary))).toEqual(new Set(['thanos']));
  });
});
