import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertmanagerClient } from './alertmanager.ts';

// What Alertmanager 0.31.1 answered to GET /api/v2/alerts for the alert Thanos Ruler 0.42.4 sent
// in an Arch 3 run (copied from the wire).
const OBSERVED = [
  {
    annotations: { summary: 'series 0 of cluster observee crossed 5e6' },
    endsAt: '2026-11-24T23:26:07.629Z',
    fingerprint: '16e41efc4460ffd3',
    receivers: [{ name: 'harness' }],
    startsAt: '2026-11-24T23:22:07.629Z',
    status: { inhibitedBy: [], mutedBy: [], silencedBy: [], state: 'active' },
    updatedAt: '2026-11-24T23:22:07.635Z',
    generatorURL: '/graph?g0.expr=max+by+%28cluster%29&g0.tab=1',
    labels: { alertname: 'WorkloadAboveThreshold', cluster: 'observee', severity: 'page' },
  },
];

let answer = { status: 200, body: '[]' };
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const ok = req.url === '/api/v2/alerts';
    res.writeHead(ok ? answer.status : 404, { 'Content-Type': 'application/json' }).end(ok ? answer.body : 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('AlertmanagerClient', () => {
  it('reads an alert with times in ms, its state and receivers', async () => {
    answer = { status: 200, body: JSON.stringify(OBSERVED) };
    expect(await new AlertmanagerClient(`${base}/`).alerts()).toEqual([
      {
        labels: { alertname: 'WorkloadAboveThreshold', cluster: 'observee', severity: 'page' },
        annotations: { summary: 'series 0 of cluster observee crossed 5e6' },
        startsAt: Date.UTC(2026, 10, 24, 23, 22, 7, 629),
        endsAt: Date.UTC(2026, 10, 24, 23, 26, 7, 629),
        updatedAt: Date.UTC(2026, 10, 24, 23, 22, 7, 635),
        state: 'active',
        silencedBy: [],
        inhibitedBy: [],
        receivers: ['harness'],
        fingerprint: '16e41efc4460ffd3',
        generatorURL: '/graph?g0.expr=max+by+%28cluster%29&g0.tab=1',
      },
    ]);
  });

  it('reads no alerts as an empty list', async () => {
    answer = { status: 200, body: '[]' };
    expect(await new AlertmanagerClient(base).alerts()).toEqual([]);
  });

  it('fails with the status and body on an HTTP error, and names what did not parse', async () => {
    answer = { status: 500, body: 'boom' };
    await expect(new AlertmanagerClient(base).alerts()).rejects.toThrow(/HTTP 500: boom/);
    answer = { status: 200, body: JSON.stringify([{ ...OBSERVED[0], status: { state: 'firing', silencedBy: [], inhibitedBy: [] } }]) };
    await expect(new AlertmanagerClient(base).alerts()).rejects.toThrow(/unexpected answer.*state/s);
  });
});
