// Store Gateways, once the bucket holds what a test judges: a wait on Store's own sync counter,
// which says nothing about what it loaded (the test reads that and judges it).
import { PromApiClient } from '../promql/client.ts';
import { metricSum } from '../promql/metrics.ts';
import { greaterOrEqual, waitSumMetrics } from '../promql/wait-metrics.ts';
import type { Handle } from '../presets/handles.ts';
import type { RunningTopology } from '../substrates/index.ts';

/** Store's block metadata syncs (Thanos v0.42.4 pkg/block/fetcher.go MetaFetcher.Fetch: counted when one starts). */
const SYNCS = 'thanos_blocks_meta_syncs_total';

/**
 * Waits until a Store has completed a whole sync that began after this call: it counts a sync when
 * it begins, and runs its syncs one after another (fetch the metas, then load or drop blocks), so
 * once two more have begun, the first of them, which saw the bucket as it is now, is done.
 */
export async function waitForStoreSynced(t: RunningTopology, store: Handle<'store'>, log: (line: string) => void): Promise<void> {
  const url = t.url(store.ref);
  const now = metricSum(await new PromApiClient(url).metrics(), SYNCS) ?? 0;
  await waitSumMetrics(store.ref, url, greaterOrEqual(now + 2), SYNCS, { onProgress: log });
}
