import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PromApiClient } from './client.ts';

// Thanos Ruler 0.42.4 answers /api/v1/alerts with {"Alerts": [...]} (an untagged Go struct field,
// pkg/api/rule/v1.go), Prometheus with {"alerts": [...]}. Copied from the wire.
const THANOS_RULER = {
  status: 'success',
  data: {
    Alerts: [
      {
        labels: { alertname: 'WorkloadAboveThreshold', cluster: 'observee', severity: 'page' },
        annotations: { summary: 'series 0 of cluster observee crossed 5e6' },
        state: 'firing',
        activeAt: '2026-11-24T23:22:07.629608129Z',
        value: '6e+06',
        partialResponseStrategy: 'ABORT',
      },
    ],
  },
};

let body = '';
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(body));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('PromApiClient.alerts on Thanos Ruler', () => {
  it('reads the "Alerts" field', async () => {
    body = JSON.stringify(THANOS_RULER);
    expect(await new PromApiClient(base).alerts()).toEqual(THANOS_RULER.data.Alerts);
  });

  it('reads no alerts from either spelling as an empty list', async () => {
    body = JSON.stringify({ status: 'success', data: { Alerts: [] } });
    expect(await new PromApiClient(base).alerts()).toEqual([]);
    body = JSON.stringify({ status: 'success', data: { alerts: [] } });
    expect(await new PromApiClient(base).alerts()).toEqual([]);
  });
});
