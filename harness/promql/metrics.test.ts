import { describe, expect, it } from 'vitest';
import { metricSum, metricValue, parseMetrics, parsePromFloat } from './metrics.ts';

const TEXT = `# HELP thanos_shipper_uploads_total Total number of uploaded blocks.
# TYPE thanos_shipper_uploads_total counter
thanos_shipper_uploads_total 3

# a stray comment
thanos_bucket_store_blocks_loaded{store="a"} 2
thanos_bucket_store_blocks_loaded{store="b",} 5
weird_labels{path="C:\\\\dir",quote="say \\"hi\\"",nl="a\\nb"} -1.5e3 1764000000000
specials{kind="nan"} NaN
specials{kind="inf"} +Inf
specials{kind="-inf"} -Inf
{"utf8.metric", "a.b"="c"} 1
`;

describe('parseMetrics', () => {
  it('reads names, labels with escapes, special values and optional timestamps', () => {
    const samples = parseMetrics(TEXT);
    expect(samples).toHaveLength(8);
    expect(samples[0]).toEqual({ name: 'thanos_shipper_uploads_total', labels: {}, value: 3 });
    expect(samples[3]).toEqual({
      name: 'weird_labels',
      labels: { path: 'C:\\dir', quote: 'say "hi"', nl: 'a\nb' },
      value: -1500,
      timestampMs: 1_764_000_000_000,
    });
    expect(samples.filter((s) => s.name === 'specials').map((s) => s.value)).toEqual([NaN, Infinity, -Infinity]);
    expect(samples[7]).toEqual({ name: 'utf8.metric', labels: { 'a.b': 'c' }, value: 1 });
  });

  it('says which line it cannot read', () => {
    expect(() => parseMetrics('ok 1\nbroken{a="1" 2\n')).toThrow(/line 2: .*broken/);
    expect(() => parseMetrics('no_value\n')).toThrow(/line 1/);
  });

  it('parsePromFloat rejects garbage instead of returning NaN', () => {
    expect(parsePromFloat('1e+21')).toBe(1e21);
    expect(() => parsePromFloat('abc')).toThrow();
  });
});

describe('metricSum / metricValue', () => {
  it('sums matching samples, or says nothing matched', () => {
    expect(metricSum(TEXT, 'thanos_bucket_store_blocks_loaded')).toBe(7);
    expect(metricSum(TEXT, 'thanos_bucket_store_blocks_loaded', { store: 'b' })).toBe(5);
    expect(metricSum(TEXT, 'thanos_bucket_store_blocks_loaded', { store: 'c' })).toBeUndefined();
    expect(metricSum(TEXT, 'no_such_metric')).toBeUndefined();
  });

  it('metricValue wants exactly one match', () => {
    expect(metricValue(TEXT, 'thanos_shipper_uploads_total')).toBe(3);
    expect(metricValue(TEXT, 'no_such_metric')).toBeUndefined();
    expect(() => metricValue(TEXT, 'thanos_bucket_store_blocks_loaded')).toThrow(/2 samples/);
  });
});
