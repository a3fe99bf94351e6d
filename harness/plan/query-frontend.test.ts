import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { arch1 } from '../presets/arch1.ts';
import { receiveJitter } from '../presets/receive-jitter.ts';
import { scaleSweep } from '../presets/scale.ts';
import { FRONTEND_CACHE_FRESHNESS, queryFrontendCache } from '../presets/query-frontend-cache.ts';
import { fakeAddressing as addressing, flag } from './fake-addressing.ts';
import { planTopology } from './index.ts';

const preset = queryFrontendCache();
const plan = planTopology(preset.topology, addressing);
const frontend = (name: string) => plan.processes.find((p) => p.id === `observer/${name}`)!;

describe('Query Frontend results cache (flags as in thanos query-frontend --help, v0.42.4)', () => {
  it('gives range and labels caches one in-memory config file, with no expiry of its own', () => {
    const qf = frontend(preset.frontends.fixed.name);
    const file = `/cfg/observer/${preset.frontends.fixed.name}/cache.yml`;
    expect(flag(qf.args, 'query-range.response-cache-config-file')).toEqual([file]);
    expect(flag(qf.args, 'labels.response-cache-config-file')).toEqual([file]);
    // pkg/queryfrontend/config.go InMemoryResponseCacheConfig: max_size, max_size_items, validity (0: entries never expire).
    expect(parse(qf.files['cache.yml']!)).toEqual({ type: 'IN-MEMORY', config: { max_size: '64MB', validity: '0s' } });
  });

  it('sets each frontend its own max freshness, for ranges and labels alike, and splits both by 1h', () => {
    for (const role of ['faulty', 'fixed'] as const) {
      const args = frontend(preset.frontends[role].name).args;
      expect(flag(args, 'query-range.response-cache-max-freshness'), role).toEqual([FRONTEND_CACHE_FRESHNESS[role]]);
      expect(flag(args, 'labels.response-cache-max-freshness'), role).toEqual([FRONTEND_CACHE_FRESHNESS[role]]);
      expect(flag(args, 'query-range.split-interval'), role).toEqual(['1h']);
      expect(flag(args, 'labels.split-interval'), role).toEqual(['1h']);
      expect(flag(args, 'query-frontend.downstream-url'), role).toEqual([`http://observer/${preset.query.name}:http`]);
    }
  });

  it('passes no cache flag and no file without a results cache (Thanos caches nothing by default)', () => {
    const qf = planTopology(arch1('store-and-sidecar').topology, addressing).processes.find((p) => p.kind === 'query-frontend')!;
    expect(qf.args.filter((a) => a.includes('cache'))).toEqual([]);
    expect(qf.files).toEqual({});
    // Thanos' own parallelism unless a preset names one.
    expect(flag(qf.args, 'query-range.max-query-parallelism')).toEqual([]);
  });

  it("forwards each of the jitter presets' tries whole, over a connection of its own, and keeps Thanos' defaults elsewhere", () => {
    const jitter = planTopology(receiveJitter('standalone-behind-service').topology, addressing).processes.filter((p) => p.kind === 'query-frontend');
    expect(jitter).toHaveLength(2);
    for (const qf of jitter) {
      expect(flag(qf.args, 'query-range.split-interval'), qf.id).toEqual(['365d']);
      expect(flag(qf.args, 'query-frontend.downstream-tripper-config-file'), qf.id).toEqual([`/cfg/${qf.id}/tripper.yml`]);
      // pkg/queryfrontend/config.go DownstreamTripperConfig: idle_conn_timeout only.
      expect(parse(qf.files['tripper.yml']!), qf.id).toEqual({ idle_conn_timeout: '1ms' });
    }
    const other = planTopology(arch1('store-and-sidecar').topology, addressing).processes.find((p) => p.kind === 'query-frontend')!;
    expect(flag(other.args, 'query-frontend.downstream-tripper-config-file')).toEqual([]);
  });

  it("sends the scale sweep's split queries to Query one at a time", () => {
    const frontends = planTopology(scaleSweep(), addressing).processes.filter((p) => p.kind === 'query-frontend');
    expect(frontends).toHaveLength(2);
    for (const qf of frontends) expect(flag(qf.args, 'query-range.max-query-parallelism'), qf.id).toEqual(['1']);
  });
});
