import { ask, namedServer } from '../../testdata/tcp.ts';
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
