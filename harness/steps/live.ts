// Live data: the exporter serves each Prometheus the next grid slot it has not had, and these steps
// wait on the exporter's own account of what each scraper stored (never on a query's answer).
import type { RunningTopology } from '../substrates/index.ts';
import { alignDown } from '../time.ts';
import { waitFor } from '../wait.ts';

/**
 * Waits until every workload-scraping Prometheus has stored every grid sample up to untilMs
 * (the exporter knows: it serves each scraper its next slot, and a scrape follows the previous
 * one's append). After this, the expected grid up to untilMs is exactly known.
 */
export async function waitForLiveUpTo(t: RunningTopology, prometheus: string[], untilMs: number, onProgress?: (l: string) => void): Promise<void> {
  await Promise.all(
    prometheus.map((id) =>
      waitFor(
        `${id} to scrape the workload up to ${new Date(untilMs).toISOString()}`,
        async (note) => {
          const committed = t.workload.committedUpTo(id);
          note(committed === undefined ? 'no scrape yet' : `stored up to ${new Date(committed).toISOString()}`);
          return committed !== undefined && committed >= untilMs ? committed : undefined;
        },
        { timeoutMs: 180_000, intervalMs: 500, onProgress },
      ),
    ),
  );
}

/**
 * No history: the exporter goes live from the current grid slot. For topologies whose Prometheus
 * cannot take a backfill (agent mode) or whose scenario is about live remote write only.
 */
export async function goLive(t: RunningTopology): Promise<{ liveFromMs: number; prometheus: string[] }> {
  const liveFromMs = alignDown(Date.now(), t.workload.workload.stepMs);
  await t.workload.arm(liveFromMs);
  const scrapers = t.topology.components.filter((c) => c.kind === 'prometheus' && c.scrapeWorkload);
  const prometheus = t.plan.processes.filter((p) => scrapers.some((c) => p.component === `${c.cluster}/${c.name}`)).map((p) => p.id);
  return { liveFromMs, prometheus };
}

/**
 * Prometheus' remote write skips samples older than the moment its queue started (its WAL watcher's
 * start time), and goLive serves first the current slot, aligned down from now: that slot can
 * predate a Prometheus started seconds ago. Every Prometheus was ready before this was called, so
 * once the next slot has begun, the slot goLive serves first is remote-written too.
 */
export async function goLiveOnAFreshSlot(t: RunningTopology, log: (line: string) => void): Promise<{ liveFromMs: number; prometheus: string[] }> {
  const readyBy = Date.now();
  const step = t.workload.workload.stepMs;
  await waitFor('a workload grid slot newer than every remote-write queue', async () => (alignDown(Date.now(), step) > readyBy ? true : undefined), {
    timeoutMs: 2 * step,
    intervalMs: 100,
    onProgress: log,
  });
  return goLive(t);
}
