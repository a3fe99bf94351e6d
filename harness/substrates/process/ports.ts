import { createServer } from 'node:net';

// Ports are picked below Linux's ephemeral range (32768-60999 by default): the OS hands those out
// to outgoing connections, and one of the many the components open could take a port between
// the moment it is picked here and the moment its component binds it.
const FIRST = 20_000;
const LAST = 32_000;
const handedOut = new Set<number>();

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port on 127.0.0.1, free right now and not handed out before by this process. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = FIRST + Math.floor(Math.random() * (LAST - FIRST));
    if (handedOut.has(port)) continue;
    handedOut.add(port); // reserved before the check, so concurrent callers never get the same one
    if (await isFree(port)) return port;
    handedOut.delete(port);
  }
  throw new Error(`no free port on 127.0.0.1 between ${FIRST} and ${LAST} after 200 tries: too many programs listening?`);
}
