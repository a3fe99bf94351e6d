// TCP fixtures of the proxy tests: backends that answer with their own name, and a client that reads it.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

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

/** What happened on one end of a connection, in order: data (as text), end (a FIN), error (its code), close. */
export type Heard = string;

/** A TCP end that writes down everything it hears, for tests that must see nothing arrive. */
export class Listening {
  readonly heard: Heard[] = [];
  readonly socket: Socket;
  readonly #waiters: { match: (h: Heard[]) => boolean; resolve: () => void }[] = [];

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d) => this.#note(`data:${d.toString()}`));
    socket.on('end', () => this.#note('end'));
    socket.on('error', (e: NodeJS.ErrnoException) => this.#note(`error:${e.code ?? e.message}`));
    socket.on('close', () => this.#note('close'));
  }

  /** Everything heard as one string of data, e.g. to wait for "abc" arriving in pieces. */
  get text(): string {
    return this.heard.filter((h) => h.startsWith('data:')).map((h) => h.slice(5)).join('');
  }

  /** Resolves once the text heard so far includes `text` (the test's own timeout bounds it). */
  receives(text: string): Promise<void> {
    return this.#until(() => this.text.includes(text));
  }

  /** Resolves once the socket has closed. */
  closes(): Promise<void> {
    return this.#until((h) => h.includes('close'));
  }

  #until(match: (h: Heard[]) => boolean): Promise<void> {
    if (match(this.heard)) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ match, resolve }));
  }

  #note(h: Heard): void {
    this.heard.push(h);
    for (const w of [...this.#waiters]) {
      if (w.match(this.heard)) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }
}

/** A backend that keeps every connection it accepts, listening to it, and answers nothing by itself. */
export async function listeningServer(): Promise<{ server: Server; port: number; accepted: Listening[]; next: () => Promise<Listening> }> {
  const accepted: Listening[] = [];
  const waiting: ((l: Listening) => void)[] = [];
  const server = createServer((s) => {
    const l = new Listening(s);
    accepted.push(l);
    waiting.shift()?.(l);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const seen = { count: 0 };
  /** The next connection accepted after the ones already handed out. */
  const next = () => {
    const i = seen.count++;
    return accepted[i] ? Promise.resolve(accepted[i]) : new Promise<Listening>((resolve) => waiting.push(resolve));
  };
  return { server, port: (server.address() as { port: number }).port, accepted, next };
}

/** A client connection to 127.0.0.1:port, once connected (the proxy accepted it). */
export async function connectListening(port: number): Promise<Listening> {
  return await new Promise((resolve, reject) => {
    const s = createConnection(port, '127.0.0.1', () => resolve(new Listening(s)));
    s.once('error', reject);
  });
}

/** Waits ms, then says what `ends` heard meanwhile: the proof that nothing arrived within a bounded time. */
export async function heardWithin(ms: number, ...ends: Listening[]): Promise<Heard[][]> {
  const before = ends.map((e) => e.heard.length);
  await new Promise((r) => setTimeout(r, ms));
  return ends.map((e, i) => e.heard.slice(before[i]));
}
