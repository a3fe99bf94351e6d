import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { msToSeconds, PromApiClient } from './client.ts';

// A local server answering with hand-written API JSON, and recording the requests it got:
// this checks the client's own encoding and parsing.
const routes = new Map<string, { status: number; body: string }>();
const requests: URL[] = [];
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fixture');
    requests.push(url);
    if (url.pathname.startsWith('/hang/')) return; // never answers
    const route = routes.get(url.pathname);
    res.writeHead(route?.status ?? 404, { 'Content-Type': 'application/json' }).end(route?.body ?? '404 page not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const lastRequest = () => requests.at(-1)!;

describe('PromApiClient', () => {
  it('query: sends Thanos parameters and seconds on the wire, parses a vector with string values', async () => {
    routes.set('/api/v1/query', {
      status: 200,
      body: JSON.stringify({
        status: 'success',
        data: {
          resultType: 'vector',
          result: [
            { metric: { __name__: 'up', job: 'a' }, value: [1764000000.5, '1'] },
            { metric: { job: 'b' }, value: [1764000000.5, 'NaN'] },
            { metric: { job: 'c' }, value: [1764000000.5, '+Inf'] },
          ],
        },
        warnings: ['partial response: store 127.0.0.1:10901 unavailable'],
      }),
    });
    const client = new PromApiClient(`${base}/`);
    const r = await client.query('up', {
      time: 1_764_000_000_500,
      dedup: false,
      partialResponse: true,
      replicaLabels: ['replica', 'receive_replica'],
      lookbackDelta: 300_000,
      maxSourceResolution: 300_000,
    });
    const q = lastRequest().searchParams;
    expect(q.get('query')).toBe('up');
    expect(q.get('time')).toBe('1764000000.500');
    expect(q.get('dedup')).toBe('false');
    expect(q.get('partial_response')).toBe('true');
    expect(q.getAll('replicaLabels[]')).toEqual(['replica', 'receive_replica']);
    expect(q.get('lookback_delta')).toBe('300.000');
    expect(q.get('max_source_resolution')).toBe('300.000');

    expect(r.resultType).toBe('vector');
    if (r.resultType !== 'vector') return;
    expect(r.result[0]).toEqual({ metric: { __name__: 'up', job: 'a' }, t: 1_764_000_000_500, v: 1 });
    expect(r.result.map((s) => s.v)).toEqual([1, NaN, Infinity]);
    expect(r.warnings).toEqual(['partial response: store 127.0.0.1:10901 unavailable']);
    expect(r.infos).toEqual([]);
  });

  it('queryRange: parses a matrix into ms timestamps and numbers', async () => {
    routes.set('/api/v1/query_range', {
      status: 200,
      body: JSON.stringify({
        status: 'success',
        data: { resultType: 'matrix', result: [{ metric: { series: '0' }, values: [[1764000000, '5'], [1764000015, '6']] }] },
      }),
    });
    const r = await new PromApiClient(base).queryRange('m', { start: 1_764_000_000_000, end: 1_764_000_015_000, step: 15_000 });
    expect(lastRequest().searchParams.get('step')).toBe('15.000');
    expect(lastRequest().searchParams.has('dedup')).toBe(false); // unset: the server default applies
    expect(r.result).toEqual([{ metric: { series: '0' }, samples: [{ t: 1_764_000_000_000, v: 5 }, { t: 1_764_000_015_000, v: 6 }] }]);
  });

  it('stores: recognises math.MinInt64/MaxInt64 as unbounded and keeps every bound exact', async () => {
    // Written as raw text: these numbers do not survive JSON.stringify of a JS number.
    routes.set('/api/v1/stores', {
      status: 200,
      body: `{"status":"success","data":{
        "sidecar":[{"name":"127.0.0.1:10901","lastCheck":"2025-11-24T12:00:00.5Z","lastError":null,
          "labelSets":[{"cluster":"c1","replica":"a"}],"minTime":1764000000000,"maxTime":9223372036854775807}],
        "store":[{"name":"127.0.0.1:10905","lastCheck":"2025-11-24T12:00:01Z","lastError":"rpc error: connection refused",
          "labelSets":null,"minTime":-9223372036854775808,"maxTime":9223372036854775807}]}}`,
    });
    const stores = await new PromApiClient(base).stores();
    expect(stores.sidecar).toEqual([
      {
        name: '127.0.0.1:10901',
        lastCheck: Date.UTC(2025, 10, 24, 12, 0, 0, 500),
        lastError: null,
        labelSets: [{ cluster: 'c1', replica: 'a' }],
        minTime: 1_764_000_000_000,
        maxTime: 'unbounded',
        exactMinTime: 1_764_000_000_000n,
        exactMaxTime: 9_223_372_036_854_775_807n,
      },
    ]);
    expect(stores.store?.[0]).toMatchObject({
      lastError: 'rpc error: connection refused',
      labelSets: [],
      minTime: 'unbounded',
      exactMinTime: -9_223_372_036_854_775_808n,
    });
  });

  it('series, labels and label values', async () => {
    routes.set('/api/v1/series', { status: 200, body: '{"status":"success","data":[{"__name__":"m","series":"1"}]}' });
    routes.set('/api/v1/labels', { status: 200, body: '{"status":"success","data":["__name__","series"]}' });
    routes.set('/api/v1/label/series/values', { status: 200, body: '{"status":"success","data":null}' });
    const client = new PromApiClient(base);
    expect(await client.series(['m{series="1"}', 'up'], { start: 0, end: 1000, dedup: true })).toEqual([{ __name__: 'm', series: '1' }]);
    expect(lastRequest().searchParams.getAll('match[]')).toEqual(['m{series="1"}', 'up']);
    expect(lastRequest().searchParams.get('end')).toBe('1.000');
    expect(await client.labels()).toEqual(['__name__', 'series']);
    expect(await client.labelValues('series')).toEqual([]);
  });

  it('an API error names the URL, status, errorType and error, with the body', async () => {
    routes.set('/api/v1/query', {
      status: 422,
      body: '{"status":"error","errorType":"execution","error":"expanding series: store unavailable"}',
    });
    const err = await new PromApiClient(base).query('up').then(
      () => expect.unreachable(),
      (e: Error) => e,
    );
    expect(err.message).toContain(`${base}/api/v1/query?query=up`);
    expect(err.message).toContain('HTTP 422: execution: expanding series: store unavailable');
    expect(err).toMatchObject({ status: 422, errorType: 'execution' });
  });

  it('a non-API answer is an error with its body', async () => {
    routes.set('/api/v1/rules', { status: 502, body: '<html>Bad Gateway</html>' });
    await expect(new PromApiClient(base).rules()).rejects.toThrow(/HTTP 502: not a Prometheus API answer; body: <html>Bad Gateway/);
  });

  it('an unexpected shape is an error, not a silent undefined', async () => {
    routes.set('/api/v1/alerts', { status: 200, body: '{"status":"success","data":{"alerts":[{"labels":{}}]}}' });
    await expect(new PromApiClient(base).alerts()).rejects.toThrow(/unexpected answer/);
  });

  it('every request has a timeout', async () => {
    const client = new PromApiClient(`${base}/hang`, { timeoutMs: 200 });
    await expect(client.metrics()).rejects.toThrow(/timed out after 200 ms/);
  });

  it('ready() is false when nothing listens', async () => {
    expect(await new PromApiClient('http://127.0.0.1:1').ready()).toBe(false);
  });

  it('msToSeconds never uses exponent notation', () => {
    expect(msToSeconds(1)).toBe('0.001');
    expect(msToSeconds(1_764_000_000_000)).toBe('1764000000.000');
  });
});
