import { describe, expect, it } from 'vitest';
import { SD_PATH, startExporter } from './exporter.ts';
import { DEFAULT_WORKLOAD, valueAt } from './series.ts';

const T0 = Date.UTC(2025, 10, 24, 12, 0, 0);

describe('workload exporter', () => {
  it('serves nothing and lists no SD target until armed', async () => {
    let now = T0 + 7_000;
    await using exporter = await startExporter({ now: () => now });
    expect(exporter.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(`${exporter.url}/metrics`)).text()).toBe('');
    expect(await (await fetch(`${exporter.url}${SD_PATH}`)).json()).toEqual([]);

    exporter.arm(T0 + 15_000);
    expect(await (await fetch(`${exporter.url}/metrics`)).text()).toBe(''); // T0 is before the armed time
    expect(await (await fetch(`${exporter.url}${SD_PATH}`)).json()).toEqual([{ targets: [`127.0.0.1:${exporter.port}`], labels: {} }]);
    expect(exporter.servedRange()).toBeUndefined();

    now = T0 + 16_000;
    expect(await (await fetch(`${exporter.url}/metrics`)).text()).not.toBe('');
    expect(exporter.servedRange()).toEqual({ firstMs: T0 + 15_000, lastMs: T0 + 15_000 });
  });

  it('exposes every series at the aligned grid time with an explicit timestamp', async () => {
    let now = T0 + 29_999;
    await using exporter = await startExporter({ now: () => now });
    exporter.arm(T0);
    const response = await fetch(`${exporter.url}/metrics`, { headers: { 'User-Agent': 'Prometheus/3.9.1' } });
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const lines = (await response.text()).trimEnd().split('\n');
    expect(lines.slice(0, 2)).toEqual([expect.stringMatching(/^# HELP e2e_workload_value /), '# TYPE e2e_workload_value gauge']);
    const samples = lines.slice(2);
    expect(samples).toHaveLength(DEFAULT_WORKLOAD.seriesCount);
    const t = T0 + 15_000;
    expect(samples[3]).toBe(
      `e2e_workload_value{job="${DEFAULT_WORKLOAD.job}",instance="${DEFAULT_WORKLOAD.instance}",series="3"} ${valueAt(3, t)} ${t}`,
    );

    now = T0 + 45_000;
    await fetch(`${exporter.url}/metrics?replica=b`);
    expect(exporter.servedTimestamps()).toEqual([T0 + 15_000, T0 + 45_000]);
    expect(exporter.scrapes()).toEqual([
      { remoteAddress: '127.0.0.1', userAgent: 'Prometheus/3.9.1', query: '', count: 1 },
      { remoteAddress: '127.0.0.1', userAgent: 'node', query: '?replica=b', count: 1 },
    ]);
  });

  it('gives each named scraper every grid slot from arm() on, catching up one slot per scrape', async () => {
    let now = T0 + 50_000; // slots T0, T0+15s, T0+30s, T0+45s are due
    await using exporter = await startExporter({ now: () => now });
    exporter.arm(T0);
    expect(await (await fetch(`${exporter.url}${SD_PATH}?scraper=p0`)).json()).toEqual([
      { targets: [`127.0.0.1:${exporter.port}`], labels: { __param_scraper: 'p0' } },
    ]);
    const slot = async (scraper: string) => {
      const body = await (await fetch(`${exporter.url}/metrics?scraper=${scraper}`)).text();
      return Number(body.trimEnd().split('\n').at(-1)!.split(' ').at(-1));
    };
    expect([await slot('p0'), await slot('p0'), await slot('p1')]).toEqual([T0, T0 + 15_000, T0]);
    expect([await slot('p0'), await slot('p0'), await slot('p0')]).toEqual([T0 + 30_000, T0 + 45_000, T0 + 45_000]);
    now = T0 + 60_000;
    expect(await slot('p0')).toBe(T0 + 60_000);
    expect(exporter.servedUpTo('p0')).toBe(T0 + 60_000);
    expect(exporter.servedUpTo('p1')).toBe(T0);
    expect(exporter.committedUpTo('p0')).toBe(T0 + 45_000);
    expect(exporter.committedUpTo('p1')).toBeUndefined();
    expect(exporter.scrapers()).toEqual(['p0', 'p1']);
  });

  it('applies per-series overrides from their time on, and can clear them', async () => {
    let now = T0;
    await using exporter = await startExporter({ now: () => now });
    exporter.arm(T0);
    exporter.setOverride(2, T0 + 15_000, 1e21);
    exporter.setOverride(2, T0 + 30_000, undefined);
    const series2 = async () => (await (await fetch(`${exporter.url}/metrics`)).text()).split('\n').find((l) => l.includes('series="2"'));

    expect(await series2()).toContain(` ${valueAt(2, T0)} ${T0}`);
    now = T0 + 15_000;
    expect(await series2()).toContain(` 1e+21 ${T0 + 15_000}`);
    now = T0 + 30_000;
    expect(await series2()).toContain(` ${valueAt(2, T0 + 30_000)} ${T0 + 30_000}`);
  });

  it('holds back slots after a timestamp until released, then each named scraper catches up slot by slot', async () => {
    let now = T0 + 20_000; // slots T0 and T0+15s are due
    await using exporter = await startExporter({ now: () => now });
    exporter.arm(T0);
    const slot = async (scraper?: string) => {
      const body = await (await fetch(`${exporter.url}/metrics${scraper ? `?scraper=${scraper}` : ''}`)).text();
      return body === '' ? undefined : Number(body.trimEnd().split('\n').at(-1)!.split(' ').at(-1));
    };
    expect(await slot('p0')).toBe(T0);
    exporter.holdAfter(T0 + 15_000);
    expect(exporter.heldBackSlots()).toBe(0);
    now = T0 + 50_000; // T0+30s and T0+45s come due, held back
    expect(exporter.heldBackSlots()).toBe(2);
    // p0 reaches the held slot and is served it again; p1 (first scrape) gets its first slot; anonymous ones the held slot.
    expect([await slot('p0'), await slot('p0'), await slot('p0'), await slot('p1'), await slot()]).toEqual([T0 + 15_000, T0 + 15_000, T0 + 15_000, T0, T0 + 15_000]);
    expect(exporter.committedUpTo('p0')).toBe(T0 + 15_000);

    exporter.release();
    expect(exporter.heldBackSlots()).toBe(0);
    expect([await slot('p0'), await slot('p0'), await slot('p0'), await slot()]).toEqual([T0 + 30_000, T0 + 45_000, T0 + 45_000, T0 + 45_000]);
    expect(exporter.committedUpTo('p0')).toBe(T0 + 45_000);
  });

  it('serves nothing held to a scraper that had nothing yet, and refuses a hold off the grid', async () => {
    const now = T0 + 20_000;
    await using exporter = await startExporter({ now: () => now });
    exporter.arm(T0 + 15_000);
    exporter.holdAfter(T0);
    expect(await (await fetch(`${exporter.url}/metrics?scraper=p0`)).text()).toBe('');
    expect(await (await fetch(`${exporter.url}/metrics`)).text()).toBe('');
    expect(() => exporter.holdAfter(T0 + 1_000)).toThrow(/not on the 15s workload grid; pass alignDown/);
  });

  it('closes while a client holds a keep-alive connection', async () => {
    const exporter = await startExporter();
    await fetch(`${exporter.url}/metrics`, { keepalive: true });
    await exporter.close();
    await expect(fetch(`${exporter.url}/metrics`)).rejects.toThrow();
  });
});
