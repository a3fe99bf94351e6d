import { describe, expect, it } from 'vitest';
import { fitCurve, formatNumber, plotSvg } from './plots.ts';

describe('fitCurve', () => {
  it('gives the cost of one more series and the growth exponent of a proportional cost', () => {
    const fit = fitCurve([1e3, 1e4, 1e5].map((x) => ({ x, y: 50 * x + 2000 })))!;
    expect(fit.slope).toBeCloseTo(50, 9);
    expect(fit.intercept).toBeCloseTo(2000, 6);
    expect(fitCurve([1e3, 1e4, 1e5].map((x) => ({ x, y: 7 * x })))!.exponent).toBeCloseTo(1, 9);
    expect(fitCurve([1e3, 1e4].map((x) => ({ x, y: x * x })))!.exponent).toBeCloseTo(2, 9);
  });

  it('needs two distinct series counts, and positive values for the exponent', () => {
    expect(fitCurve([{ x: 1000, y: 5 }])).toBeUndefined();
    expect(fitCurve([{ x: 1000, y: 5 }, { x: 1000, y: 6 }])).toBeUndefined();
    expect(fitCurve([{ x: 1000, y: -1 }, { x: 2000, y: 3 }])!.exponent).toBeUndefined();
  });
});

describe('the log-log plot', () => {
  it('draws a point per measurement and names each curve with its slope', () => {
    const svg = plotSvg({
      kind: 'loglog',
      title: 'bucket bytes per series-hour',
      xLabel: 'series',
      unit: 'B',
      curves: [
        { label: 'Arch 1', points: [{ x: 1e3, y: 1e5 }, { x: 1e4, y: 1e6 }] },
        { label: 'Arch 2', points: [{ x: 1e3, y: 2e5 }, { x: 1e4, y: 2e6 }, { x: 1e5, y: 2e7 }] },
      ],
    });
    expect(svg.match(/class="point"/g)).toHaveLength(5);
    expect(svg.match(/class="curve"/g)).toHaveLength(2);
    expect(svg).toContain('Arch 1: 100 B per series, exponent 1.00');
    expect(svg).toContain('Arch 2: 200 B per series, exponent 1.00');
    expect(svg).toContain('bucket bytes per series-hour (B, log-log)');
  });

  it('formats numbers with three significant digits and k/M/G', () => {
    expect([formatNumber(100_000), formatNumber(1234), formatNumber(2.5e6), formatNumber(0.0123), formatNumber(3e9)]).toEqual(['100k', '1.23k', '2.5M', '0.0123', '3G']);
  });
});
