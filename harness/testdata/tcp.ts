// TCP fixtures of the proxy tests: backends that answer with their own name, and a client that reads it.
import { createConnection, createServer, type Server } from 'node:net';

/** A backend that answers every connection with its own name, then closes it. */
export async function namedServer(name: string): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => s.end(name));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as { port: number }).port };
}

/** What a connection to 127.0.0.1:port was answered ("refused" when it was not accepted). */
export async function ask(port: number): Promise<string> {
  return await new Promise((resolve) => {
    let data = '';
    const s = createConnection(port, '127.0.0.1');
    s.on('data', (d) => (data += d));
    s.on('close', () => resolve(data));
    s.on('error', () => resolve('refused'));
  });
}
