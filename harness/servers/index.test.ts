import { spawn } from 'node:child_process';
import { ask, namedServer } from '../testdata/tcp.ts';
import { once } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../substrates/process/ports.ts';
import { SD_PATH, startExporter, type Exporter } from '../workload/exporter.ts';
import { DEFAULT_WORKLOAD, type Workload } from '../workload/series.ts';
import { alignDown } from '../time.ts';
import { HarnessServers } from './index.ts';

const workload: Workload = { ...DEFAULT_WORKLOAD, seriesCount: 50 };
const step = workload.stepMs;
/** Four slots back: a named scraper's first scrapes get these, whatever the clock does meanwhile. */
const armedFrom = () => alignDown(Date.now(), step) - 4 * step;

const get = async (url: string) => await (await fetch(url)).text();
const slotOf = (body: string) => (body === '' ? undefined : Number(body.trimEnd().split('\n').at(-1)!.split(' ').at(-1)));

/** What an exporter's readers answer, in one object to compare. */
const readers = (e: Exporter) => ({
  armed: e.armed,
  servedTimestamps: e.servedTimestamps(),
  servedRange: e.servedRange(),
  servedUpTo: ['p0', 'p1', 'p2'].map((s) => e.servedUpTo(s)),
  committedUpTo: ['p0', 'p1', 'p2'].map((s) => e.committedUpTo(s)),
  scrapers: e.scrapers(),
  scrapes: e.scrapes(),
  heldBackSlots: e.heldBackSlots(),
});

describe('harness servers', async () => {
  const servers = await HarnessServers.start();
  afterAll(async () => {
    await servers.close();
  });

  it('serve the same exposition as an exporter in this thread, and the mirror answers the same once synced', async () => {
    const from = armedFrom();
    await using local = await startExporter({ workload });
    await using remote = await servers.startExporter({ workload });
    expect(remote.url).toBe(`http://127.0.0.1:${remote.port}`);
    local.arm(from);
    await remote.arm(from);
    for (const scrape of ['?scraper=p0', '?scraper=p0', '?scraper=p1', '?scraper=p0', '?replica=b&scraper=p2']) {
      const [here, there] = [await get(`${local.url}/metrics${scrape}`), await get(`${remote.url}/metrics${scrape}`)];
      expect(there).not.toBe('');
      expect(there).toBe(here);
    }
    await remote.sync();
    expect(readers(remote)).toEqual(readers(local));
    expect(remote.committedUpTo('p0')).toBe(from + step);
  });

  it('apply a mutation to the next scrape once it is awaited, and to the mirror at once', async () => {
    const from = armedFrom();
    await using remote = await servers.startExporter({ workload });
    expect(await get(`${remote.url}${SD_PATH}`)).toBe('[]');
    const arming = remote.arm(from);
    expect(remote.armed).toBe(true);
    await arming;
    expect(JSON.parse(await get(`${remote.url}${SD_PATH}`))).toEqual([{ targets: [`127.0.0.1:${remote.port}`], labels: {} }]);

    await remote.setOverride(2, from, 1e21);
    expect(remote.valueServedAt(2, from)).toBe(1e21);
    expect((await get(`${remote.url}/metrics?scraper=p0`)).split('\n').find((l) => l.includes('series="2"'))).toBe(
      `e2e_workload_value{job="workload",instance="workload-exporter",series="2"} 1e+21 ${from}`,
    );

    await remote.holdAfter(from);
    expect(remote.heldBackSlots()).toBeGreaterThanOrEqual(4);
    expect(slotOf(await get(`${remote.url}/metrics?scraper=p0`))).toBe(from); // held: its last slot again
    await remote.release();
    expect(remote.heldBackSlots()).toBe(0);
    expect(slotOf(await get(`${remote.url}/metrics?scraper=p0`))).toBe(from + step);
    expect(() => remote.holdAfter(from + 1)).toThrow(/not on the 15s workload grid/);
  });

  it('run a Service proxy that forwards, counts connections, pins, cuts and restores', async () => {
    const a = await namedServer('a');
    const b = await namedServer('b');
    const proxy = servers.serviceProxy('svc', [
      { host: '127.0.0.1', port: a.port },
      { host: '127.0.0.1', port: b.port },
    ]);
    const port = await freePort();
    await proxy.listen(port);
    try {
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await ask(port));
      expect(answers).toEqual(['a', 'b', 'a', 'b']);
      await servers.sync();
      expect(proxy.connections).toEqual([2, 2]);

      await proxy.pin(1);
      expect([await ask(port), await ask(port)]).toEqual(['b', 'b']);
      await proxy.pin(undefined);
      await expect(proxy.pin(2)).rejects.toThrow('service svc has no backend 2 (it has 2)');

      await proxy.cut();
      expect(await ask(port)).toBe('');
      await proxy.restore();
      expect(['a', 'b']).toContain(await ask(port));
      await servers.sync();
      expect(proxy.connections.reduce((x, y) => x + y, 0)).toBe(7); // the refused one is not counted
    } finally {
      await proxy.close();
      a.server.close();
      b.server.close();
    }
    expect(await ask(port)).toBe('refused');
  });

  it('answer a scrape, directly and through a proxy, while the test thread is blocked', async () => {
    await using exporter = await servers.startExporter({ workload });
    await exporter.arm(armedFrom());
    const proxy = servers.serviceProxy('link', [{ host: '127.0.0.1', port: exporter.port }]);
    const proxyPort = await freePort();
    await proxy.listen(proxyPort);
    // A child process scrapes 200 ms after it says it is ready, by when this thread is blocked:
    // anything in this thread, a fetch or execFileSync, would wait for the block itself.
    const script = `
      console.log('ready');
      setTimeout(async () => {
        const startedAt = Date.now();
        const answers = [];
        for (const url of process.argv.slice(1)) {
          const body = await (await fetch(url)).text();
          answers.push({ at: Date.now(), bytes: body.length });
        }
        console.log(JSON.stringify({ startedAt, answers }));
      }, 200);`;
    const child = spawn(process.execPath, ['-e', script, `${exporter.url}/metrics?scraper=a`, `http://127.0.0.1:${proxyPort}/metrics?scraper=b`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = once(child, 'exit');
    await new Promise<void>((resolve) => child.stdout.on('data', () => out.includes('ready\n') && resolve()));

    const blockedFrom = Date.now();
    while (Date.now() - blockedFrom < 1_500); // busy: no event of this thread runs
    const blockedUntil = Date.now();

    await exited;
    await proxy.close();
    const result = JSON.parse(out.split('\n')[1]!) as { startedAt: number; answers: { at: number; bytes: number }[] };
    expect(result.startedAt).toBeGreaterThan(blockedFrom);
    expect(result.answers).toHaveLength(2);
    for (const answer of result.answers) {
      expect(answer.bytes).toBeGreaterThan(0);
      expect(answer.at, `answered ${answer.at - blockedUntil} ms after the block ended`).toBeLessThan(blockedUntil);
    }
    await exporter.sync();
    expect(exporter.scrapers()).toEqual(['a', 'b']);
  });

  it('stop serving once closed, however the servers in them were left', async () => {
    const own = await HarnessServers.start();
    const exporter = await own.startExporter({ workload });
    const proxy = own.serviceProxy('svc', [{ host: '127.0.0.1', port: exporter.port }]);
    const port = await freePort();
    await proxy.listen(port);
    expect(await get(`${exporter.url}/metrics`)).toBe('');
    await own.close();
    await expect(fetch(`${exporter.url}/metrics`)).rejects.toThrow();
    expect(await ask(port)).toBe('refused');
    expect(own.failure()).toBeUndefined();
    await exporter.close(); // nothing left to close: no error
    await expect(exporter.arm(0)).rejects.toThrow('the harness servers are closed');
  });

  it('fail at once, naming the harness servers, when the worker throws or exits', async () => {
    const worker = new URL('./testdata/failing-worker.ts', import.meta.url);
    const told: string[] = [];
    const throwing = await HarnessServers.start({ worker, onFailure: (reason) => told.push(reason) });
    const reason = 'the harness servers (worker thread) failed: boom at exporter';
    await expect(throwing.startExporter()).rejects.toThrow(reason);
    expect(throwing.failure()).toBe(reason);
    expect(told).toEqual([reason]);
    await expect(throwing.sync()).rejects.toThrow(reason);
    await throwing.close();

    const exiting = await HarnessServers.start({ worker });
    await expect(exiting.serviceProxy('svc', []).listen(1)).rejects.toThrow('the harness servers (worker thread) exited with code 3');
    expect(exiting.failure()).toBe('the harness servers (worker thread) exited with code 3');
    await exiting.close();
  });
});
