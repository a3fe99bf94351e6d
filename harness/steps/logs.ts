// A component's own log, read the same way on every substrate (through collectLogs).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningTopology } from '../substrates/index.ts';

/** The lines of an instance's log that contain `text` (through collectLogs: the same on every substrate). */
export async function logLines(t: RunningTopology, instance: string, text: string): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'thanos-ha-e2e-logs-'));
  try {
    await t.collectLogs(dir);
    const log = await readFile(join(dir, `${instance.replace('/', '_')}.log`), 'utf8');
    return log.split('\n').filter((line) => line.includes(text));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
