// The audit's judgement on answers of Thanos' own formats: a local server answers the audit's GETs
// with JSON as Thanos Query 0.42 writes it (the Stores page's int64 bounds, MaxInt64 for "none";
// flags as kingpin prints them; warnings beside the data), and each test states what a faulty
// topology's Query answers and what its fixed twin's does: the faulty one must be flagged with its
// finding and nothing else, the fixed one must come out clean.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { checkCopies, commonGaps, exitCodeOf, findCopies, flagList, judge, seriesGaps, type CheckId, type CheckResult } from './checks.ts';
import { BadInput, gather, type GatherOptions } from './gather.ts';
import { writeAuditReport } from './report.ts';
import { parseAuditArgs, runAudit } from './run.ts';

const MAX_INT64 = '9223372036854775807';
const MIN_INT64 = '-9223372036854775808';
const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);
const STEP = 30_000;
const HOUR = 3_600_000;
const CLUSTER = { cluster: 'eu-1', cluster_name: 'eu-1', origin_prometheus: 'eu-1' };

type Handler = (url: URL, req: IncomingMessage) => { status: number; body: string } | undefined;
let handler: Handler = () => undefined;
const seen: { method: string; path: string }[] = [];
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fixture');
    seen.push({ method: req.method ?? '?', path: url.pathname });
    const r = handler(url, req);
    res.writeHead(r?.status ?? 404, { 'Content-Type': r ? 'application/json' : 'text/plain' }).end(r?.body ?? '404 page not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});
beforeEach(() => {
  seen.length = 0;
});

// ---- Thanos' JSON ----

const success = (data: unknown, warnings?: string[]) => ({ status: 200, body: JSON.stringify({ status: 'success', data, ...(warnings ? { warnings } : {}) }) });

interface StoreEntry {
  name: string;
  labelSets: Record<string, string>[];
  minTime: number | 'none';
  maxTime: number | 'none';
  lastError?: string;
  /** A Store with no block: Thanos advertises MaxInt64..MinInt64. */
  empty?: boolean;
}
/** /api/v1/stores as Thanos writes it: int64 bounds as bare numbers (MinInt64/MaxInt64 for none). */
function storesBody(page: Record<string, StoreEntry[]>): { status: number; body: string } {
  const entry = (e: StoreEntry) =>
    `{"name":${JSON.stringify(e.name)},"lastCheck":"2026-12-07T11:59:58Z","lastError":${e.lastError ? JSON.stringify(e.lastError) : 'null'},"labelSets":${JSON.stringify(e.labelSets)},"minTime":${e.empty ? MAX_INT64 : e.minTime === 'none' ? MIN_INT64 : e.minTime},"maxTime":${e.empty ? MIN_INT64 : e.maxTime === 'none' ? MAX_INT64 : e.maxTime}}`;
  const data = Object.entries(page).map(([type, es]) => `${JSON.stringify(type)}:[${es.map(entry).join(',')}]`).join(',');
  return { status: 200, body: `{"status":"success","data":{${data}}}` };
}

/** The flags map as Thanos Query 0.42.4's /api/v1/status/flags prints it (read off the real binary: repeated flags comma-joined, none ""). */
const flagsBody = (replicaLabels: string[], more: Record<string, string> = {}) =>
  success({ 'query.replica-label': replicaLabels.join(','), 'deduplication.func': 'penalty', 'endpoint-strict': '', 'endpoint-group-strict': '', 'query.partial-response': 'true', ...more });

/** The workload's value function: series i, distinct per step. */
const value = (i: number, t: number) => i * 1e6 + ((t / 1000) % 1e6);

interface Series {
  metric: Record<string, string>;
  /** Which steps have a value: [from, to] ms, both included. */
  from: number;
  to: number;
  /** Steps in [from, to] (both included) without a value. */
  missing?: [number, number];
  value?: (t: number) => number;
}
const has = (s: Series, t: number) => t >= s.from && t <= s.to && !(s.missing && t >= s.missing[0] && t <= s.missing[1]);
const matrixBody = (url: URL, series: Series[]) => {
  const start = Number(url.searchParams.get('start')) * 1000;
  const end = Number(url.searchParams.get('end')) * 1000;
  const step = Number(url.searchParams.get('step')) * 1000;
  return success({
    resultType: 'matrix',
    result: series.map((s, i) => {
      const values: [number, string][] = [];
      for (let t = start; t <= end; t += step) if (has(s, t)) values.push([t / 1000, String((s.value ?? ((x: number) => value(i, x)))(t))]);
      return { metric: s.metric, values };
    }).filter((s) => s.values.length),
  });
};
const vectorBody = (url: URL, series: Series[], warnings?: string[]) => {
  const t = Number(url.searchParams.get('time')) * 1000;
  return success({ resultType: 'vector', result: series.flatMap((s, i) => (has(s, t) ? [{ metric: s.metric, value: [t / 1000, String((s.value ?? ((x: number) => value(i, x)))(t))] }] : [])) }, warnings);
};

interface Fixture {
  stores: Record<string, StoreEntry[]>;
  replicaLabels?: string[];
  /** The probe's series as Query holds them (after its deduplication). */
  series: Series[];
  /** The instant query's answer per try, when it varies (else from series). */
  tries?: (n: number) => Series[];
  /** partial_response=false: an HTTP error instead of the data. */
  refuse?: { status: number; error: string };
  warnings?: string[];
  /** What the frontend's results cache answers for ranges (else as Query). */
  frontendRange?: Series[];
}

function serve(f: Fixture): void {
  let tries = 0;
  handler = (url) => {
    const path = url.pathname.replace(/^\/frontend/, '');
    const viaFrontend = url.pathname.startsWith('/frontend');
    if (path === '/api/v1/stores' && !viaFrontend) return storesBody(f.stores);
    if (path === '/api/v1/status/flags' && !viaFrontend) return flagsBody(f.replicaLabels ?? ['prometheus_replica']);
    if (path === '/api/v1/query') {
      if (url.searchParams.get('query') === 'vector(1)') return success({ resultType: 'vector', result: [{ metric: {}, value: [NOW / 1000, '1'] }] });
      if (url.searchParams.get('partial_response') === 'false' && f.refuse) return { status: f.refuse.status, body: JSON.stringify({ status: 'error', errorType: 'execution', error: f.refuse.error }) };
      if (viaFrontend && f.tries) return vectorBody(url, f.tries(tries++));
      return vectorBody(url, f.series, f.warnings);
    }
    if (path === '/api/v1/query_range') return matrixBody(url, viaFrontend && f.frontendRange ? f.frontendRange : f.series);
    return undefined;
  };
}

const options = (more: Partial<GatherOptions> = {}): GatherOptions => ({ query: base, probe: 'e2e_workload_value', rangeMs: 6 * HOUR, stepMs: STEP, tries: 20, agoMs: 60_000, timeoutMs: 5_000, cacheWaitMs: 0, now: () => NOW, ...more });

async function audit(f: Fixture, more: Partial<GatherOptions> = {}): Promise<Record<CheckId, CheckResult>> {
  serve(f);
  const { inputs } = await gather(options(more));
  return Object.fromEntries(judge(inputs).map((r) => [r.id, r])) as Record<CheckId, CheckResult>;
}
const statuses = (r: Record<CheckId, CheckResult>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.status]));

// ---- an Arch 1 shaped topology: the HA pair's blocks in Store, the pair's sidecars ----

const replicas = ['0', '1'].map((r) => ({ ...CLUSTER, prometheus_replica: `prometheus-${r}` }));
const storeMax = NOW - 2 * HOUR - 17 * 60_000;
const store: StoreEntry = { name: '127.0.0.1:10905', labelSets: replicas, minTime: NOW - 6 * HOUR, maxTime: storeMax };
const sidecars: StoreEntry[] = replicas.map((l, i) => ({ name: `127.0.0.1:1090${i + 1}`, labelSets: [l], minTime: NOW - 4 * HOUR, maxTime: 'none' }));
const workload = (n: number, to: number, extra: Record<string, string> = {}): Series[] =>
  Array.from({ length: n }, (_, i) => ({ metric: { __name__: 'e2e_workload_value', series: String(i), ...CLUSTER, ...extra }, from: NOW - 6 * HOUR, to }));
// Lookback: a range query shows the last sample for 5 minutes after it.
const LOOKBACK = 5 * 60_000;

describe('A: coverage', () => {
  it('faulty (Query over Store only): no live endpoint for the label set, and the probe misses everything after Store maxTime + lookback', async () => {
    const r = await audit({ stores: { store: [store] }, series: workload(10, storeMax + LOOKBACK) });
    expect(statuses(r)).toEqual({ A: 'finding', D: 'ok', B: 'ok', E: 'ok', partial: 'ok', cache: 'unchecked' });
    expect(r.A.details[0]).toContain('only object storage serves it');
    const gapStart = Math.ceil((storeMax + LOOKBACK + 1) / STEP) * STEP;
    expect(r.A.figures).toMatchObject({ probeSeries: 10, probeGaps: 1, gapStart: new Date(gapStart).toISOString().replace('.000Z', 'Z') });
    expect(r.A.plots[0]).toMatchObject({ kind: 'timeline', marks: [{ label: 'not served' }, { label: 'probe: newest missing' }] });
  });

  it('fixed (Store and both sidecars): every label set live, no gap', async () => {
    const r = await audit({ stores: { store: [store], sidecar: sidecars }, series: workload(10, NOW) });
    expect(statuses(r)).toEqual({ A: 'ok', D: 'ok', B: 'ok', E: 'ok', partial: 'ok', cache: 'unchecked' });
  });

  it('a hole between what Store serves and the live endpoints hold (retention deleted what was never shipped)', async () => {
    const late = sidecars.map((s) => ({ ...s, minTime: storeMax + HOUR }));
    const r = await audit({ stores: { store: [store], sidecar: late }, series: workload(10, NOW) });
    expect(r.A.status).toBe('finding');
    expect(r.A.summary).toContain('a hole from');
  });

  // Store time partitions (store-partitions): Stores over one bucket, each bounded by --min-time/--max-time.
  const boundary = NOW - 4 * HOUR;
  const partition = (name: string, minTime: number, maxTime: number): StoreEntry => ({ name, labelSets: replicas, minTime, maxTime });

  it('faulty (Store partitions with an hour between them): the hole between the Stores named, beside the probe gap it leaves', async () => {
    const stores = { store: [partition('127.0.0.1:10905', NOW - 6 * HOUR, boundary), partition('127.0.0.1:10915', boundary + HOUR, storeMax)], sidecar: sidecars.map((s) => ({ ...s, minTime: storeMax - 10 * 60_000 })) };
    const series = workload(10, NOW).map((s): Series => ({ ...s, missing: [boundary + LOOKBACK + 1, boundary + HOUR - 1] }));
    const r = await audit({ stores, series });
    expect(statuses(r)).toEqual({ A: 'finding', D: 'ok', B: 'ok', E: 'ok', partial: 'ok', cache: 'unchecked' });
    const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
    expect(r.A.details[0]).toContain(`a hole in what object storage serves, from ${iso(boundary)} (the newest of 127.0.0.1:10905) to ${iso(boundary + HOUR)} (the oldest of 127.0.0.1:10915), 60m: no endpoint serves it`);
    expect(r.A.figures).toMatchObject({ storeHoles: 1, probeGaps: 1 });
    expect(r.A.plots[0]).toMatchObject({ kind: 'timeline', marks: [{ label: 'hole between Stores', from: boundary, to: boundary + HOUR }, { label: 'probe: gap' }] });
  });

  it('fixed (the partitions meet at one boundary; a third Store overlapping both): no hole', async () => {
    const stores = {
      store: [partition('127.0.0.1:10905', NOW - 6 * HOUR, boundary), partition('127.0.0.1:10915', boundary, storeMax), partition('127.0.0.1:10925', boundary - HOUR, boundary + HOUR)],
      sidecar: sidecars,
    };
    const r = await audit({ stores, series: workload(10, NOW) });
    expect(statuses(r)).toEqual({ A: 'ok', D: 'ok', B: 'ok', E: 'ok', partial: 'ok', cache: 'unchecked' });
  });

  it('what a live endpoint serves is no hole; a hole older than --range is not judged; a Store with no block serves nothing', async () => {
    // Between the partitions, but the sidecars hold it.
    const covered = { store: [partition('127.0.0.1:10905', NOW - 6 * HOUR, boundary), partition('127.0.0.1:10915', boundary + HOUR, storeMax)], sidecar: sidecars.map((s) => ({ ...s, minTime: boundary - HOUR })) };
    expect((await audit({ stores: covered, series: workload(10, NOW) })).A.status).toBe('ok');
    // An hour's hole 9h ago, under a 6h --range.
    const old = { store: [partition('127.0.0.1:10905', NOW - 12 * HOUR, NOW - 9 * HOUR), partition('127.0.0.1:10915', NOW - 8 * HOUR, storeMax)], sidecar: sidecars.map((s) => ({ ...s, minTime: storeMax - 10 * 60_000 })) };
    expect((await audit({ stores: old, series: workload(10, NOW) })).A.status).toBe('ok');
    // Thanos advertises MaxInt64..MinInt64 for a Store with no block: it neither fills nor makes a hole.
    const empty = { store: [partition('127.0.0.1:10905', NOW - 6 * HOUR, boundary), { name: '127.0.0.1:10925', labelSets: replicas, minTime: 'none', maxTime: 'none', empty: true } satisfies StoreEntry, partition('127.0.0.1:10915', boundary + HOUR, storeMax)], sidecar: sidecars.map((s) => ({ ...s, minTime: storeMax - 10 * 60_000 })) };
    const flagged = await audit({ stores: empty, series: workload(10, NOW) });
    expect(flagged.A.details[0]).toContain('a hole in what object storage serves');
  });

  it('gaps: runs of missing steps after a series began, shared by half the series or more', () => {
    const range = { start: 0, end: 10 * STEP, step: STEP };
    const s = (ts: number[]) => ts.map((k) => ({ t: k * STEP, v: k }));
    expect(seriesGaps(s([2, 3, 6, 7, 8]), range)).toEqual([{ startMs: 4 * STEP, endMs: 5 * STEP }, { startMs: 9 * STEP, endMs: 10 * STEP }]);
    expect(seriesGaps(s([0, 1, 2, 4, 5, 6, 7, 8, 9, 10]), range)).toEqual([]);
    const m = (ts: number[]) => ({ metric: {}, samples: s(ts) });
    expect(commonGaps([m([0, 1, 2, 3, 4, 5, 6]), m([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), m([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])], range)).toEqual([]);
    expect(commonGaps([m([0, 1, 2, 3, 4, 5, 6]), m([0, 1, 2, 3, 4, 5, 6]), m([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])], range)).toEqual([{ startMs: 7 * STEP, endMs: 10 * STEP, series: 2 }]);
  });
});

// ---- Arch 2: the sidecar copy and the receive copy of every series ----

const receive: StoreEntry = { name: '127.0.0.1:10907', labelSets: [{ receive_replica: 'receive', tenant_id: 'default-tenant' }], minTime: NOW - 6 * HOUR, maxTime: 'none' };
const copies = (n: number): Series[] => [
  ...workload(n, NOW),
  ...Array.from({ length: n }, (_, i) => ({ metric: { __name__: 'e2e_workload_value', series: String(i), ...CLUSTER, receive_replica: 'receive', tenant_id: 'default-tenant' }, from: NOW - 6 * HOUR, to: NOW, value: (t: number) => value(i, t) })),
];

describe('D: copies', () => {
  it("faulty (the note's replica labels): every series twice, named by the labels only the receive path adds, and the flag that declares them", async () => {
    const r = await audit({ stores: { store: [store], sidecar: sidecars, receive: [receive] }, replicaLabels: ['prometheus_replica', 'rule_replica'], series: copies(10) });
    expect(statuses(r)).toEqual({ A: 'ok', D: 'finding', B: 'ok', E: 'ok', partial: 'ok', cache: 'unchecked' });
    expect(r.D.figures).toMatchObject({ copies: 10, labels: 'receive_replica,tenant_id' });
    expect(r.D.details[0]).toContain('--query.replica-label=receive_replica --query.replica-label=tenant_id');
  });

  it('fixed (receive_replica and tenant_id declared): Query merged them, and the same answer would still be flagged without them', async () => {
    const labels = ['prometheus_replica', 'rule_replica', 'receive_replica', 'tenant_id'];
    const r = await audit({ stores: { store: [store], sidecar: sidecars, receive: [receive] }, replicaLabels: labels, series: workload(10, NOW) });
    expect(statuses(r)).toEqual({ A: 'ok', D: 'ok', B: 'ok', E: 'ok', partial: 'ok', cache: 'unchecked' });
    // Declared labels are not candidates: the doubled answer is not a copy Query failed to merge.
    const doubled = copies(3).map((s) => ({ metric: s.metric, samples: [1, 2, 3].map((k) => ({ t: k * STEP, v: k })) }));
    expect(findCopies(doubled, ['receive_replica', 'tenant_id']).copies).toHaveLength(3);
    expect(findCopies(doubled, []).copies).toHaveLength(0);
  });

  it('a constant probe (up) proves nothing: could not check, with the reason', async () => {
    const ups = copies(2).map((s) => ({ ...s, metric: { ...s.metric, __name__: 'up' }, value: () => 1 }));
    serve({ stores: { sidecar: sidecars, receive: [receive] }, series: ups });
    const { inputs } = await gather(options({ probe: 'up' }));
    expect(checkCopies(inputs)).toMatchObject({ status: 'unchecked' });
  });
});

describe('B: variation', () => {
  const half = (n: number, odd: boolean): Series[] => workload(n, NOW).map((s, i) => ({ ...s, value: (t: number) => value(i, t) - (odd ? 15 : 0) }));
  it('faulty (standalone receives, Query replicas pinned to one each): two distinct answers over the tries, each counted', async () => {
    const r = await audit({ stores: { receive: [receive, { ...receive, name: '127.0.0.1:10908', labelSets: [{ receive_replica: 'receive-1', tenant_id: 'default-tenant' }] }] }, series: workload(10, NOW), tries: (k) => half(10, k % 3 === 0) }, { frontend: `${base}/frontend` });
    expect(r.B.status).toBe('finding');
    expect(r.B.figures).toEqual({ tries: 20, answered: 20, distinct: 2 });
    expect(r.B.details[0]).toBe('answer 1: 13 tries, 10 series, 10 of them with the value most tries gave');
    expect(r.B.plots[0]).toMatchObject({ kind: 'bars', bars: [{ value: 13 }, { value: 7 }] });
  });

  it('fixed (one answer whichever replica serves it)', async () => {
    const r = await audit({ stores: { receive: [receive] }, series: workload(10, NOW), tries: () => half(10, false) }, { frontend: `${base}/frontend` });
    expect(r.B).toMatchObject({ status: 'ok', figures: { distinct: 1 } });
  });
});

describe('E: endpoints', () => {
  it("the HA pair's replicas with one label set: the Compactor will halt on their blocks", async () => {
    const same = sidecars.map((s) => ({ ...s, labelSets: [CLUSTER] }));
    const r = await audit({ stores: { store: [{ ...store, labelSets: [CLUSTER] }], sidecar: same }, series: workload(10, NOW) });
    expect(statuses(r)).toMatchObject({ A: 'ok', E: 'finding' });
    expect(r.E.summary).toContain('share the label set');
  });

  it('a sidecar without a block yet, and flags read from Query', async () => {
    const fresh = [{ ...sidecars[0]!, minTime: 'none' as const }, sidecars[1]!];
    const r = await audit({ stores: { store: [store], sidecar: fresh }, series: workload(10, NOW) });
    expect(r.E.status).toBe('finding');
    expect(r.E.details[0]).toContain('has no block yet');
    expect(r.E.details.at(-1)).toBe("Query's flags: replica labels prometheus_replica; deduplication penalty; strict endpoints none; partial responses by default true");
    expect(flagList('a,b')).toEqual(['a', 'b']);
    expect(flagList('')).toEqual([]);
    expect(flagList('[a b]')).toEqual(['a', 'b']);
  });
});

describe('partial answers (the link cut)', () => {
  const cut = sidecars.map((s) => ({ ...s, lastError: 'rpc error: code = Unavailable desc = connection refused' }));
  it('faulty (plain endpoints): the sidecars fail, Query answers HTTP 200 without a warning even with partial_response=false', async () => {
    const r = await audit({ stores: { store: [store], sidecar: cut }, series: workload(10, storeMax + LOOKBACK) });
    expect(r.partial.status).toBe('finding');
    expect(r.partial.summary).toContain('left out without a warning');
    // The cut also shows where it is: the endpoints' errors, and what is no longer served.
    expect(statuses(r)).toMatchObject({ A: 'finding', E: 'finding' });
  });

  it('fixed (strict endpoints): a warning with partial_response=true, HTTP 422 with =false', async () => {
    const r = await audit({ stores: { store: [store], sidecar: cut }, series: workload(10, storeMax + LOOKBACK), warnings: ['partial response: sidecar unavailable'], refuse: { status: 422, error: 'receive series from 127.0.0.1:10901: unavailable' } });
    expect(r.partial.status).toBe('ok');
    expect(r.partial.summary).toContain('an error with partial_response=false');
  });
});

describe('frontend cache', () => {
  const held = NOW - 60_000;
  it("faulty (max freshness 0s): the frontend's repeat lacks the newest points Query has", async () => {
    let hooked = 0;
    const r = await audit({ stores: { store: [store], sidecar: sidecars }, series: workload(10, NOW), frontendRange: workload(10, held) }, { frontend: `${base}/frontend`, afterFirstCacheAsk: async () => void hooked++ });
    expect(hooked).toBe(1);
    expect(statuses(r)).toEqual({ A: 'ok', D: 'ok', B: 'ok', E: 'ok', partial: 'ok', cache: 'finding' });
    expect(r.cache.figures.pointsMissed).toBe(10 * 2);
  });

  it('fixed: the repeat equals Query', async () => {
    const r = await audit({ stores: { store: [store], sidecar: sidecars }, series: workload(10, NOW) }, { frontend: `${base}/frontend` });
    expect(r.cache.status).toBe('ok');
  });
});

describe('bad input and safety', () => {
  it('a plain Prometheus says so (no Stores page, a build info)', async () => {
    handler = (url) => (url.pathname === '/api/v1/status/buildinfo' ? success({ version: '3.16.0', revision: 'x' }) : undefined);
    await expect(gather(options())).rejects.toThrow(new BadInput(`${base} is not a Thanos Query: it answers the Prometheus API as version 3.16.0, without a Stores page: a plain Prometheus; point --query at Thanos Query's HTTP address`));
  });

  it('something that is not a Prometheus API at all', async () => {
    handler = () => undefined;
    await expect(gather(options())).rejects.toThrow(/is not a Thanos Query: it has no Stores page/);
  });

  it('a Query with no endpoints', async () => {
    handler = (url) => (url.pathname === '/api/v1/stores' ? success({}) : undefined);
    await expect(gather(options())).rejects.toThrow(/has no endpoints \(its Stores page is empty\)/);
  });

  it('an unreachable URL, and a frontend that is not there', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(gather(options({ query: `http://127.0.0.1:${port}` }))).rejects.toThrow(new RegExp(`^cannot reach http://127.0.0.1:${port}: .*ECONNREFUSED`));
    serve({ stores: { sidecar: sidecars }, series: workload(1, NOW) });
    await expect(gather(options({ frontend: `http://127.0.0.1:${port}` }))).rejects.toThrow(/cannot reach .* \(--frontend\)/);
  });

  it('sends only GETs, at most 9 + tries of them', async () => {
    serve({ stores: { store: [store], sidecar: sidecars }, series: workload(3, NOW) });
    const { requests } = await gather(options({ frontend: `${base}/frontend`, tries: 5 }));
    expect(seen.every((s) => s.method === 'GET')).toBe(true);
    expect(requests).toBe(seen.length);
    expect(requests).toBeLessThanOrEqual(9 + 5);
  });

  it('exit 1 on a finding, 0 clean; the report has a row per check and every plot', async () => {
    const r = await audit({ stores: { store: [store] }, series: workload(10, storeMax + LOOKBACK) });
    const results = Object.values(r);
    expect(exitCodeOf(results)).toBe(1);
    expect(exitCodeOf(results.map((x) => ({ ...x, status: 'ok' as const })))).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'audit-report-'));
    try {
      const run = { query: base, frontend: undefined, startedAt: new Date(NOW).toISOString(), finishedAt: new Date(NOW).toISOString(), requests: 9, options: { probe: 'p', range: '6h', step: '30s', tries: 20, ago: '1m', timeout: '30s' }, results, exitCode: 1 as const };
      const { index } = writeAuditReport(dir, run);
      expect(readdirSync(dir).sort()).toEqual(['audit.json', 'index.html', 'results.json']);
      const html = (await import('node:fs')).readFileSync(index, 'utf8');
      expect(html.match(/<tr class="finding /g)).toHaveLength(6);
      expect(html.match(/<figure class="plot">/g)).toHaveLength(results.reduce((n, x) => n + x.plots.length, 0));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the cache check is about a cache', () => {
  it('a repeat that differs from the first answer came from Query, not from a cache: no finding', async () => {
    let n = 0;
    const stale = workload(10, NOW - 60_000);
    serve({ stores: { store: [store], sidecar: sidecars }, series: workload(10, NOW) });
    const inner = handler;
    // The first range through the frontend lacks the newest minute; its repeat is Query's, fresh.
    handler = (url, req) => (url.pathname === '/frontend/api/v1/query_range' && n++ === 0 ? matrixBody(url, stale) : inner(url, req));
    const { inputs } = await gather(options({ frontend: `${base}/frontend` }));
    expect(judge(inputs).find((r) => r.id === 'cache')!.status).toBe('ok');
  });

  it('where identical requests already vary (B), a frontend/Query difference is not judged', async () => {
    const r = await audit(
      { stores: { receive: [receive] }, series: workload(10, NOW), tries: (k) => workload(10, NOW).map((s, i) => ({ ...s, value: (t: number) => value(i, t) + (k % 2) })), frontendRange: workload(10, NOW - 60_000) },
      { frontend: `${base}/frontend` },
    );
    expect(statuses(r)).toMatchObject({ B: 'finding', cache: 'unchecked' });
  });
});

describe('the command', () => {
  it('bad input is refused before anything is written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-bad-'));
    try {
      handler = (url) => (url.pathname === '/api/v1/stores' ? success({}) : undefined);
      const out = join(dir, 'report');
      await expect(runAudit({ ...parseAuditArgs(['--query', base]), out })).rejects.toThrow(BadInput);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('options: defaults, bounds, one line for each mistake', () => {
    expect(parseAuditArgs(['--query', 'http://q:9090'])).toMatchObject({ probe: 'up', rangeMs: 6 * HOUR, stepMs: 30_000, tries: 20, agoMs: 60_000, timeoutMs: 30_000, cacheWaitMs: 30_000 });
    expect(() => parseAuditArgs([])).toThrow(/audit needs --query URL/);
    expect(() => parseAuditArgs(['--query', 'http://q', '--tries', '101'])).toThrow(/--tries 101: give a whole number from 2 to 100/);
    expect(() => parseAuditArgs(['--query', 'http://q', '--cache-wait', '10m'])).toThrow(/at most 300s/);
    expect(() => parseAuditArgs(['--query', 'http://q', '--step', '1s'])).toThrow(/21600 points per series/);
    expect(() => parseAuditArgs(['--query', 'http://q', '--range', 'six hours'])).toThrow(/not a duration/);
  });
});
