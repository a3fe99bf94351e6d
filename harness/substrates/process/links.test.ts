import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { HarnessServers } from '../../servers/index.ts';
import { heardWithin, Listening } from '../../testdata/tcp.ts';
import { ClusterLinks } from './links.ts';
import { freePort } from './ports.ts';

// An echo server standing in for a target instance; it keeps its sockets to see them closed.
async function echoServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as { port: number }).port };
}

const portOf = (address: string) => Number(address.split(':')[1]);

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** Sends a line and reads it back; '' when the connection closes first. */
function roundTrip(s: Socket, line: string): Promise<string> {
  return new Promise((resolve) => {
    s.once('data', (d) => resolve(d.toString()));
    s.once('close', () => resolve(''));
    s.write(line);
  });
}

const closed = (s: Socket) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve())));

describe('ClusterLinks', async () => {
  const sidecar = await echoServer();
  const receive = await echoServer();
  const links = new ClusterLinks();
  links.note('observer/query', 'observee/sidecar-0', 'grpc');
  links.note('observer/query-strict', 'observee/sidecar-0', 'grpc'); // the same link: one proxy per dialling cluster
  links.note('observee/prometheus-0', 'observer/receive', 'remote-write');
  links.note('observer/query', 'observer/store', 'grpc'); // within a cluster: no link
  await links.allocate(freePort);
  const targets: Record<string, number> = { 'observee/sidecar-0': sidecar.port, 'observer/receive': receive.port };
  // As in a run: the link proxies serve from the harness servers' worker.
  const servers = await HarnessServers.start();
  await links.start((target) => ({ host: '127.0.0.1', port: targets[target]! }), (name, backends) => servers.serviceProxy(name, backends));
  afterAll(async () => {
    await links.close();
    await servers.close();
    sidecar.server.close();
    receive.server.close();
  });

  it('sends each cross-cluster dial through one proxy per dialling cluster, target and port, and leaves dials within a cluster direct', () => {
    expect(links.describe()).toHaveLength(2);
    const viaQuery = links.address('observer/query', 'observee/sidecar-0', 'grpc');
    expect(viaQuery).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(links.address('observer/query-strict', 'observee/sidecar-0', 'grpc')).toBe(viaQuery);
    expect(portOf(viaQuery!)).not.toBe(sidecar.port);
    expect(links.address('observer/query', 'observer/store', 'grpc')).toBeUndefined();
  });

  it('says which dial was not noted, rather than dialling it directly', () => {
    expect(() => links.address('observer/ruler', 'observee/sidecar-0', 'http')).toThrow(/observer\/ruler dials observee\/sidecar-0 \(http\) across clusters, but no link port/);
  });

  it('forwards, breaks open connections both ways and refuses new ones while cut, then forwards again', async () => {
    const toSidecar = await open(portOf(links.address('observer/query', 'observee/sidecar-0', 'grpc')!));
    const toReceive = await open(portOf(links.address('observee/prometheus-0', 'observer/receive', 'remote-write')!));
    expect(await roundTrip(toSidecar, 'series')).toBe('series');
    expect(await roundTrip(toReceive, 'samples')).toBe('samples');

    expect(await links.cut('observee', 'observer')).toBe(2);
    await Promise.all([closed(toSidecar), closed(toReceive)]);
    const during = await open(portOf(links.address('observer/query', 'observee/sidecar-0', 'grpc')!));
    expect(await roundTrip(during, 'series')).toBe('');

    expect(await links.restore('observer', 'observee')).toBe(2);
    const after = await open(portOf(links.address('observer/query', 'observee/sidecar-0', 'grpc')!));
    expect(await roundTrip(after, 'series')).toBe('series');
    after.destroy();
  });

  it('hangs the link both ways in the worker: open connections go quiet, a new one is held, nothing closes; restore moves them on', async () => {
    const toSidecar = new Listening(await open(portOf(links.address('observer/query', 'observee/sidecar-0', 'grpc')!)));
    const toReceive = new Listening(await open(portOf(links.address('observee/prometheus-0', 'observer/receive', 'remote-write')!)));
    toSidecar.socket.write('series');
    toReceive.socket.write('samples');
    await Promise.all([toSidecar.receives('series'), toReceive.receives('samples')]);

    expect(await links.cut('observer', 'observee', 'hang')).toBe(2);
    toSidecar.socket.write('+more');
    toReceive.socket.write('+more');
    const during = new Listening(await open(portOf(links.address('observer/query', 'observee/sidecar-0', 'grpc')!)));
    during.socket.write('info');
    expect(await heardWithin(400, toSidecar, toReceive, during)).toEqual([[], [], []]);

    expect(await links.restore('observee', 'observer')).toBe(2);
    // The echo servers answer what was held: it went through once the link healed.
    await Promise.all([toSidecar.receives('series+more'), toReceive.receives('samples+more'), during.receives('info')]);
    for (const end of [toSidecar, toReceive, during]) end.socket.destroy();
  });
});
