import { describe, expect, it } from 'vitest';
import { withThanosSection } from '../s3/block-upload.ts';
import { HOUR_MS } from '../time.ts';
import { oneBlockWindow, openMetricsHistory, PROMTOOL_BLOCK_MS } from './promtool-blocks.ts';
import { DEFAULT_WORKLOAD, valueAt } from './series.ts';

const VALUE_PERIOD_MS = 1_000_000_000;

describe('promtool history', () => {
  it('writes every grid sample of every series as OpenMetrics, series by series, timestamps in seconds', () => {
    const w = { ...DEFAULT_WORKLOAD, seriesCount: 2 };
    const from = 1_764_000_000_000;
    const text = openMetricsHistory(w, from, from + 30_000);
    expect(text.split('\n')).toEqual([
      '# TYPE e2e_workload_value gauge',
      `e2e_workload_value{job="workload",instance="workload-exporter",series="0"} ${valueAt(0, from)} 1764000000`,
      `e2e_workload_value{job="workload",instance="workload-exporter",series="0"} ${valueAt(0, from + 15_000)} 1764000015`,
      `e2e_workload_value{job="workload",instance="workload-exporter",series="0"} ${valueAt(0, from + 30_000)} 1764000030`,
      `e2e_workload_value{job="workload",instance="workload-exporter",series="1"} ${valueAt(1, from)} 1764000000`,
      `e2e_workload_value{job="workload",instance="workload-exporter",series="1"} ${valueAt(1, from + 15_000)} 1764000015`,
      `e2e_workload_value{job="workload",instance="workload-exporter",series="1"} ${valueAt(1, from + 30_000)} 1764000030`,
      '# EOF',
      '',
    ]);
  });

  it('picks the newest window that starts a 54h promtool block, ends before the bound and holds no value wrap', () => {
    const length = 48 * HOUR_MS;
    for (const now of [1_764_000_000_000, 1_764_650_000_000, 2_000_000_000_000 + 10 * HOUR_MS, 1_999_900_000_000]) {
      const w = oneBlockWindow(now, length);
      expect(w.toMs - w.fromMs).toBe(length);
      expect(w.fromMs % PROMTOOL_BLOCK_MS).toBe(0);
      expect(w.toMs).toBeLessThanOrEqual(now);
      expect(Math.floor(w.fromMs / VALUE_PERIOD_MS)).toBe(Math.floor(w.toMs / VALUE_PERIOD_MS));
      // Nothing newer qualifies: the next slot's window would end after the bound or wrap.
      const later = w.fromMs + PROMTOOL_BLOCK_MS;
      expect(later + length > now || Math.floor(later / VALUE_PERIOD_MS) !== Math.floor((later + length) / VALUE_PERIOD_MS)).toBe(true);
    }
    expect(() => oneBlockWindow(1_764_000_000_000, 54 * HOUR_MS)).toThrow('a window of 54h does not fit in one 54h promtool block');
  });
});

describe("a promtool block's meta.json for Thanos", () => {
  it('keeps the TSDB meta and adds the Thanos section: labels, raw resolution, source, files sorted, upload time', () => {
    const meta = { ulid: '01KB0000000000000000000000', minTime: 1, maxTime: 2, version: 1, compaction: { level: 1, sources: ['01KB0000000000000000000000'] } };
    const at = new Date('2026-12-02T04:00:00Z');
    const out = withThanosSection(meta, { labels: { cluster: 'observee' }, source: 'bucket.upload' }, [{ relPath: 'index', size: 10 }, { relPath: 'meta.json' }, { relPath: 'chunks/000001', size: 20 }], at);
    expect(out).toEqual({
      ...meta,
      thanos: {
        version: 1,
        labels: { cluster: 'observee' },
        downsample: { resolution: 0 },
        source: 'bucket.upload',
        files: [{ rel_path: 'chunks/000001', size_bytes: 20 }, { rel_path: 'index', size_bytes: 10 }, { rel_path: 'meta.json' }],
        upload_time: '2026-12-02T04:00:00.000Z',
      },
    });
  });
});
