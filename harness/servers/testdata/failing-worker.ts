// A stand-in for the harness servers' worker that fails (index.test.ts): it answers sync, throws
// at a request for an exporter and exits at one for a proxy.
import { parentPort } from 'node:worker_threads';
import type { Message, Request } from '../worker.ts';

parentPort!.on('message', (req: Request) => {
  if (req.op === 'sync') parentPort!.postMessage({ type: 'reply', id: req.id } satisfies Message);
  else if (req.op === 'proxy') process.exit(3);
  else throw new Error(`boom at ${req.op}`);
});
