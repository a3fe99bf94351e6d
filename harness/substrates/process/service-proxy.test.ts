import { ask, connectListening, heardWithin, listeningServer, namedServer, type Listening } from '../../testdata/tcp.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from './ports.ts';
import { ServiceProxy } from './service-proxy.ts';

describe('ServiceProxy', async () => {
  const a = await namedServer('a');
  const b = await namedServer('b');
  const proxy = new ServiceProxy('svc', [
    { host: '127.0.0.1', port: a.port },
    { host: '127.0.0.1', port: b.port },
  ]);
  const port = await freePort();
  await proxy.listen(port);
  afterAll(async () => {
    await proxy.close();
    a.server.close();
    b.server.close();
  });

  it('balances per connection, round robin', async () => {
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await ask(port));
    expect(answers).toEqual(['a', 'b', 'a', 'b']);
    expect(proxy.connections).toEqual([2, 2]);
  });

  it('refuses connections while cut and serves again once restored', async () => {
    proxy.cut();
    expect(await ask(port)).toBe('');
    proxy.restore();
    expect(['a', 'b']).toContain(await ask(port));
  });
});

// A hung link (cut 'hang'): a real TCP connection through the proxy, both ends listening. "Nothing
// within QUIET_MS" is the bounded proof that no byte, FIN or reset got through.
describe('ServiceProxy hanging', async () => {
  const QUIET_MS = 400;
  const backend = await listeningServer();
  const proxy = new ServiceProxy('link', [{ host: '127.0.0.1', port: backend.port }]);
  const port = await freePort();
  await proxy.listen(port);
  afterAll(async () => {
    await proxy.close();
    backend.server.close();
  });

  /** A connection through the proxy, both ends, with one byte each way to show it forwards. */
  async function connected(): Promise<{ client: Listening; server: Listening }> {
    const client = await connectListening(port);
    const server = await backend.next();
    client.socket.write('hello');
    await server.receives('hello');
    server.socket.write('welcome');
    await client.receives('welcome');
    return { client, server };
  }

  it('stops bytes both ways on an open connection, closes and resets nothing, and after restore delivers what was sent meanwhile', async () => {
    const { client, server } = await connected();
    await proxy.cut('hang');
    client.socket.write('query');
    server.socket.write('answer');
    expect(await heardWithin(QUIET_MS, client, server)).toEqual([[], []]);
    expect(client.socket.destroyed || server.socket.destroyed).toBe(false);

    proxy.restore();
    await Promise.all([server.receives('helloquery'), client.receives('welcomeanswer')]);
    client.socket.write('again');
    await server.receives('again');
    expect([...client.heard, ...server.heard].filter((h) => !h.startsWith('data:'))).toEqual([]);
    client.socket.destroy();
    await server.closes();
  });

  it('accepts a new connection while hanging but dials nothing for it; at restore it is dialled and its bytes arrive', async () => {
    await proxy.cut('hang');
    const dialled = backend.accepted.length;
    const counted = proxy.connections[0];
    const client = await connectListening(port);
    client.socket.write('late');
    expect(await heardWithin(QUIET_MS, client)).toEqual([[]]);
    expect(backend.accepted).toHaveLength(dialled);
    expect(proxy.connections[0]).toBe(counted);

    proxy.restore();
    const server = await backend.next();
    await server.receives('late');
    expect(proxy.connections[0]).toBe(counted! + 1);
    server.socket.write('served');
    await client.receives('served');
    client.socket.destroy();
    await server.closes();
  });

  it('does not tell one end that the other went away until restore, then closes it; never dials a held connection whose client gave up', async () => {
    const { client, server } = await connected();
    await proxy.cut('hang');
    client.socket.resetAndDestroy();
    await client.closes();
    const dialled = backend.accepted.length;
    const gaveUp = await connectListening(port);
    gaveUp.socket.destroy();
    await gaveUp.closes();
    expect(await heardWithin(QUIET_MS, server)).toEqual([[]]);

    proxy.restore();
    await server.closes();
    expect(backend.accepted).toHaveLength(dialled);
  });

  it('a reset cut while hanging drops the hung connections and the held ones', async () => {
    const { client, server } = await connected();
    await proxy.cut('hang');
    const held = await connectListening(port);
    await proxy.cut('reset');
    await Promise.all([client.closes(), server.closes(), held.closes()]);
    proxy.restore();
    const after = await connected();
    after.client.socket.destroy();
    await after.server.closes();
  });
});
