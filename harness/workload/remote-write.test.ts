import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { uncompressSync } from 'snappy';
import { describe, expect, it } from 'vitest';
import { backfill, decodeWriteRequest, encodeWriteRequest, remoteWrite, WorkloadWriter, WriteRequestType, type WriteSeries } from './remote-write.ts';
import { DEFAULT_WORKLOAD, seriesIndexOf, seriesLabels, valueAt, workloadOf } from './series.ts';

describe('encodeWriteRequest', () => {
  it('round-trips through snappy block format and the prometheus.WriteRequest schema', () => {
    const series: WriteSeries[] = [
      { labels: { series: '0', __name__: 'm', job: 'j' }, samples: [{ t: 1_764_000_000_000, v: 1.5 }, { t: 1_764_000_015_000, v: -0 }] },
      { labels: { __name__: 'm', series: '1' }, samples: [{ t: 1, v: Number.MAX_VALUE }] },
    ];
    const body = encodeWriteRequest(series);

    // Block format starts with the uncompressed length as a varint; framed format would start with 0xff "sNaPpY".
    expect(body[0]).not.toBe(0xff);
    const raw = uncompressSync(body, { asBuffer: true }) as Buffer;
    const decoded = WriteRequestType.toObject(WriteRequestType.decode(raw), { longs: Number });
    expect(decoded.timeseries[0].labels.map((l: { name: string }) => l.name)).toEqual(['__name__', 'job', 'series']);
    expect(decoded.timeseries[0].samples[0]).toEqual({ value: 1.5, timestamp: 1_764_000_000_000 });

    expect(decodeWriteRequest(body)).toStrictEqual([
      { labels: { __name__: 'm', job: 'j', series: '0' }, samples: series[0]!.samples },
      { labels: { __name__: 'm', series: '1' }, samples: series[1]!.samples },
    ]);
  });
});

// A local HTTP server that records what the client sends (this checks our client, not a receiver).
async function withCapture(status: number, fn: (url: string, requests: { headers: IncomingHttpHeaders; body: Buffer }[]) => Promise<void>) {
  const requests: { headers: IncomingHttpHeaders; body: Buffer }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(status).end(status === 204 ? undefined : 'out of bounds\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`, requests);
  } finally {
    server.close();
  }
}

describe('remoteWrite', () => {
  it('sends the remote-write 1.0 headers and extra ones', async () => {
    await withCapture(204, async (url, requests) => {
      await remoteWrite(url, [{ labels: { __name__: 'm' }, samples: [{ t: 1000, v: 1 }] }], { headers: { 'THANOS-TENANT': 't1' } });
      const h = requests[0]!.headers;
      expect(h['content-encoding']).toBe('snappy');
      expect(h['content-type']).toBe('application/x-protobuf');
      expect(h['x-prometheus-remote-write-version']).toBe('0.1.0');
      expect(h['thanos-tenant']).toBe('t1');
    });
  });

  it('turns a non-2xx answer into an error with status and body', async () => {
    await withCapture(400, async (url) => {
      await expect(remoteWrite(url, [])).rejects.toThrow(/HTTP 400: out of bounds/);
    });
  });

  it('backfill writes every grid sample once, in time order, in bounded requests', async () => {
    await withCapture(204, async (url, requests) => {
      const from = 1_764_000_000_000;
      const to = from + 3_600_000; // 241 grid points x 10 series
      const result = await backfill(url, DEFAULT_WORKLOAD, from, to, { maxSamplesPerRequest: 1000 });
      expect(result).toEqual({ requests: 3, samples: 2410, firstMs: from, lastMs: to });
      let previousT = -Infinity;
      for (const r of requests) {
        const series = decodeWriteRequest(new Uint8Array(r.body));
        expect(series.reduce((n, s) => n + s.samples.length, 0)).toBeLessThanOrEqual(1000);
        for (const s of series) {
          const i = Number(s.labels.series);
          for (const { t, v } of s.samples) expect(v).toBe(valueAt(i, t));
          expect(s.samples[0]!.t).toBeGreaterThan(previousT);
        }
        previousT = series[0]!.samples.at(-1)!.t;
      }
    });
  });
});

describe('WorkloadWriter', () => {
  it('writes every sample of every copy once, whole series per request, a time slice before the next', () => {
    const w = workloadOf({ grid: '15s', workload: { series: 2500, shape: 'cluster', namespaces: 10, containersPerPod: 2 } });
    const copies = [{ prometheus_replica: 'a' }, { prometheus_replica: 'b' }];
    const from = 1_764_000_000_000;
    const to = from + 4 * 15_000; // 5 grid points
    const seen = new Set<string>();
    let lastSliceEnd = -Infinity;
    let requests = 0;
    for (const request of new WorkloadWriter(w, copies).requests(from, to, 2000)) {
      requests++;
      const series = decodeWriteRequest(request.body);
      const samples = series.reduce((n, s) => n + s.samples.length, 0);
      expect(samples).toBe(request.samples);
      expect(samples).toBeLessThanOrEqual(2000);
      for (const s of series) {
        const { prometheus_replica: replica, ...own } = s.labels;
        const i = seriesIndexOf(w, own)!;
        expect(own).toEqual(seriesLabels(w, i));
        for (const { t, v } of s.samples) {
          expect(v).toBe(valueAt(i, t));
          expect(t).toBeGreaterThanOrEqual(lastSliceEnd); // never behind a slice already sent
          const key = `${replica}/${i}/${t}`;
          expect(seen.has(key), key).toBe(false);
          seen.add(key);
        }
      }
      lastSliceEnd = Math.max(lastSliceEnd, ...series.map((s) => s.samples[0]!.t));
    }
    expect(seen.size).toBe(2 * 2500 * 5);
    expect(requests).toBe(5 * Math.ceil(5000 / 2000)); // 5000 series > 2000: one point per slice, 3 requests each
  });
});

