import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { compactorDownsampling } from '../presets/compactor-downsampling.ts';
import { compactorOverlap } from '../presets/compactor-overlap.ts';
import { validateTopology } from '../topology/model.ts';
import { fakeAddressing as addressing, flag } from './fake-addressing.ts';
import { planTopology } from './index.ts';

describe('plan of a Compactor', () => {
  const plan = planTopology(compactorOverlap().topology, addressing);
  const byId = (id: string) => plan.processes.find((p) => p.id === id)!;

  it('runs `thanos compact` as a service on its own data dir and prefix, with only an HTTP port', () => {
    const c = byId('replica-labels/compactor');
    expect(c).toMatchObject({ binary: 'thanos', kind: 'compactor', ports: ['http'], ready: { port: 'http', path: '/-/ready' }, after: [] });
    expect(c.args[0]).toBe('compact');
    expect(flag(c.args, 'http-address')).toEqual(['listen/replica-labels/compactor/http']);
    expect(flag(c.args, 'grpc-address')).toEqual([]);
    expect(flag(c.args, 'data-dir')).toEqual(['/data/replica-labels/compactor']);
    expect(flag(c.args, 'objstore.config-file')).toEqual(['/cfg/replica-labels/compactor/objstore.yml']);
    expect(parse(c.files['objstore.yml']!)).toMatchObject({ type: 'S3', prefix: 'replica-labels', config: { bucket: 'thanos' } });
    // --wait: it keeps running, so a halt is a metric (thanos_compact_halted) rather than an exit.
    expect(c.args).toContain('--wait');
    expect(flag(c.args, 'wait-interval')).toEqual(['5m']);
    const names = c.args.slice(1).map((a) => a.split('=')[0]);
    expect(new Set(names.filter((n) => n !== '--deduplication.replica-label')).size).toBe(names.filter((n) => n !== '--deduplication.replica-label').length);
  });

  it('declares the replica label for deduplication only where the preset says, and shortens only the named delays', () => {
    const [halting, deduplicating] = ['same-labels/compactor', 'replica-labels/compactor'].map((id) => byId(id).args);
    expect(flag(halting!, 'deduplication.replica-label')).toEqual([]);
    expect(flag(deduplicating!, 'deduplication.replica-label')).toEqual(['prometheus_replica']);
    for (const args of [halting!, deduplicating!]) {
      expect(flag(args, 'consistency-delay')).toEqual(['0s']);
      expect(flag(args, 'delete-delay')).toEqual(['0s']);
      expect(args).not.toContain('--downsampling.disable');
      expect(args).not.toContain('--compact.enable-vertical-compaction');
    }
  });

  it('enables vertical compaction only where the model asks', () => {
    const t = validateTopology({
      name: 'v',
      description: 'a Compactor that merges overlapping blocks',
      clusters: [{ name: 'observer', role: 'observer' }],
      components: [{ kind: 'compactor', name: 'compactor', cluster: 'observer', bucketPrefix: 'observee', verticalCompaction: true }],
    });
    expect(planTopology(t, addressing).processes[0]!.args.filter((a) => a === '--compact.enable-vertical-compaction')).toHaveLength(1);
  });

  it("keeps Thanos' defaults when the model does (30m consistency, 48h delete delay, downsampling on)", () => {
    const t = validateTopology({
      name: 'defaults',
      description: 'a compactor with no options',
      clusters: [{ name: 'observer', role: 'observer' }],
      components: [{ kind: 'compactor', name: 'compactor', cluster: 'observer', bucketPrefix: 'observee' }],
    });
    const args = planTopology(t, addressing).processes[0]!.args;
    expect(flag(args, 'consistency-delay')).toEqual(['30m']);
    expect(flag(args, 'delete-delay')).toEqual(['48h']);
    expect(flag(args, 'wait-interval')).toEqual(['5m']);
    expect(args).not.toContain('--downsampling.disable');
    const off = validateTopology({ ...t, components: [{ ...t.components[0]!, downsampling: false }] });
    expect(planTopology(off, addressing).processes[0]!.args).toContain('--downsampling.disable');
  });

  it("gives the same-labels pair identical external labels and the replica-labels pair one prometheus_replica each; sidecars ship them as such", () => {
    const labels = (id: string) => parse(byId(id).files['prometheus.yml']!).global.external_labels;
    const same = { cluster: 'same-labels', cluster_name: 'same-labels', origin_prometheus: 'same-labels' };
    expect(labels('same-labels/prometheus-0')).toEqual(same);
    expect(labels('same-labels/prometheus-1')).toEqual(same);
    expect(byId('same-labels/sidecar-1').externalLabels).toEqual(same);
    expect(labels('replica-labels/prometheus-0')).toMatchObject({ cluster: 'replica-labels', prometheus_replica: 'prometheus-0' });
    expect(labels('replica-labels/prometheus-1')).toMatchObject({ cluster: 'replica-labels', prometheus_replica: 'prometheus-1' });
  });

  it('reads the replica-labels prefix through Store and Query only', () => {
    expect(parse(byId('observer/store').files['objstore.yml']!).prefix).toBe('replica-labels');
    expect(parse(byId('observer/query').files['endpoints.yml']!).endpoints.map((e: { address: string }) => e.address)).toEqual(['observer/store:grpc']);
  });

  it('plans the downsampling topology: a Compactor, Store and Query on one prefix, downsampling on', () => {
    const d = planTopology(compactorDownsampling().topology, addressing);
    expect(d.processes.map((p) => p.id).sort()).toEqual(['observer/compactor', 'observer/query', 'observer/store']);
    const c = d.processes.find((p) => p.kind === 'compactor')!;
    expect(parse(c.files['objstore.yml']!).prefix).toBe('observee');
    expect(c.args).not.toContain('--downsampling.disable');
    expect(flag(c.args, 'delete-delay')).toEqual(['48h']);
  });
});
