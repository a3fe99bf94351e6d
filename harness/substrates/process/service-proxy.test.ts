import { createConnection, createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from './ports.ts';
import { ServiceProxy } from './service-proxy.ts';

// Backends that answer every connection with their own name.
async function namedServer(name: string): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => s.end(name));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as { port: number }).port };
}

async function ask(port: number): Promise<string> {
  return await new Promise((resolve) => {
    let data = '';
    const s = createConnection(port, '127.0.0.1');
    s.on('data', (d) => (data += d));
    s.on('close', () => resolve(data));
    s.on('error', () => resolve('refused'));
  });
}

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
