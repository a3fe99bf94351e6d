// What `up <preset>` runs after bring-up to put a preset in its finding's state, from the shared
// steps its scenario runs too (history, shipped blocks, Stores loaded, live remote write), so that
// what a person opens shows what the scenario asserts on. One entry per preset; a preset without
// one comes up with the live workload only: its scenario's experiment is a fault it drives itself
// (a kill, a cut, an outage), which `up` leaves to the person.
import { clusterLabels, PROMETHEUS_REPLICA_LABEL } from '../plan/context.ts';
import { queryEndpointCount } from '../plan/index.ts';
import { arch1, ARCH1_VARIANTS } from '../presets/arch1.ts';
import { arch2, ARCH2_VARIANTS } from '../presets/arch2.ts';
import { compactorDownsampling } from '../presets/compactor-downsampling.ts';
import { compactorOverlap } from '../presets/compactor-overlap.ts';
import type { Handle } from '../presets/handles.ts';
import { linkCut } from '../presets/link-cut.ts';
import { queryFrontendCache } from '../presets/query-frontend-cache.ts';
import { JITTER_VARIANTS } from '../presets/receive-jitter.ts';
import { storePartitions } from '../presets/store-partitions.ts';
import { PromApiClient } from '../promql/client.ts';
import { waitForStores } from '../promql/wait-metrics.ts';
import type { RunningTopology } from '../substrates/index.ts';
import { HOUR_MS } from '../time.ts';
import { oneBlockWindow } from '../workload/promtool-blocks.ts';
import { prepareArch1 } from './arch1.ts';
import { prepareArch2 } from './arch2.ts';
import { populateWorkload } from './history.ts';
import { goLive, goLiveOnAFreshSlot } from './live.ts';
import { waitForRemoteWriteOfSlot } from './remote-write.ts';
import { waitForStoreSynced } from './stores.ts';
import { uploadPromtoolHistory } from './uploads.ts';

type Preparation = (t: RunningTopology, log: (line: string) => void) => Promise<unknown>;

/**
 * A Query over an HA pair's sidecars, current: every sidecar checked and serving its Prometheus'
 * data (a bounded minTime: a sidecar re-reads its Prometheus' lowest timestamp every 30 s, and
 * read the empty TSDB's at start, which the Stores page shows as "no block yet").
 */
async function waitForSidecarsServing(t: RunningTopology, query: Handle<'query'>, log: (line: string) => void): Promise<void> {
  await waitForStores(query.ref, new PromApiClient(t.url(query.ref)), { type: 'sidecar', count: queryEndpointCount(t.topology, query.ref), covering: Date.now() }, { onProgress: log });
}

/** Live remote write: the workload from a slot every Prometheus sends, that slot delivered. */
const liveRemoteWrite: Preparation = async (t, log) => {
  const { liveFromMs, prometheus } = await goLiveOnAFreshSlot(t, log);
  await waitForRemoteWriteOfSlot(t, prometheus, liveFromMs, { onProgress: log });
};

const arch1State = {
  'store-only': "6h of history, blocks shipped and loaded by Store, live data: Query's range stops at Store's maxTime (finding A)",
  'store-and-sidecar': '6h of history, blocks shipped and loaded by Store, live data in the sidecars: Query answers across the block boundary (A fixed)',
  'side-by-side': 'both Queries of finding A over the same history and live data',
};

export const PREPARATIONS: Record<string, { prepare: Preparation; state: string }> = {
  ...Object.fromEntries(
    ARCH1_VARIANTS.map((v) => {
      const preset = arch1(v);
      const queries = Object.values(preset.paths).map((p) => p.query);
      return [`arch1-${v}`, { prepare: (t: RunningTopology, log: (line: string) => void) => prepareArch1(t, { ...preset, queries }, log), state: arch1State[v] }];
    }),
  ),
  ...Object.fromEntries(
    ARCH2_VARIANTS.map((v) => [
      `arch2-${v}`,
      {
        prepare: (t: RunningTopology, log: (line: string) => void) => prepareArch2(t, arch2(v), log),
        state: '6h of history through the sidecars and in Receive, live data remote-written: a Query with only the note\'s replica labels counts every series twice (finding D)',
      },
    ]),
  ),
  ...Object.fromEntries(
    JITTER_VARIANTS.flatMap((v) => [
      [`jitter-${v}`, { prepare: liveRemoteWrite, state: `remote write live into two receives (${v}); repeated queries through the frontend show finding B where the receives hold different samples` }],
      [`jitter-default-queue-${v}`, { prepare: liveRemoteWrite, state: `10k series with Prometheus' default queue, remote write live into two receives (${v})` }],
    ]),
  ),
  'arch3-central-alerting': {
    prepare: async (t) => goLive(t),
    state: "the agent remote-writing to Receive, both Rulers evaluating: only the fixed one's Query sees the agent's data (finding F, central alerting)",
  },
  'query-frontend-cache': {
    prepare: (t, log) => {
      const preset = queryFrontendCache();
      return prepareArch1(t, { ...preset, queries: [preset.query] }, log);
    },
    state: 'Arch 1 with history and live data behind the two cached frontends (finding G)',
  },
  'link-cut': {
    prepare: (t, log) => {
      const preset = linkCut();
      return prepareArch1(t, { ...preset, queries: Object.values(preset.paths).map((p) => p.query) }, log);
    },
    state: 'Arch 1 served through both Queries (sidecars as plain and as strict endpoints), the link intact: the cut is yours to make (finding G)',
  },
  'store-partitions': {
    prepare: async (t, log) => {
      await populateWorkload(t, { onProgress: log });
      const preset = storePartitions();
      await Promise.all(Object.values(preset.stores).map((s) => waitForStoreSynced(t, s, log)));
      // Query refreshes its endpoints' time ranges every few seconds: a check made after every Store synced.
      const syncedAt = Date.now();
      await Promise.all(Object.values(preset.slicings).map(({ query, stores }) => waitForStores(query.ref, new PromApiClient(t.url(query.ref)), { type: 'store', count: stores.length, checkedAfter: syncedAt }, { onProgress: log })));
    },
    state: "history in the bucket, synced by each time-partitioned Store, each Query's Stores page current (finding G)",
  },
  'compactor-overlap': {
    prepare: async (t, log) => {
      const populated = await populateWorkload(t, { historyMs: 5 * HOUR_MS, onProgress: log });
      const preset = compactorOverlap();
      await Promise.all([preset.sameLabels, preset.replicaLabels].map((o) => waitForSidecarsServing(t, o.sidecars.query, log)));
      return populated;
    },
    state: "both HA pairs' blocks shipped, each pair read live through its sidecars' Query (identical label sets on the faulty pair's); each Compactor's next iteration (every 5m) halts on the blocks or merges them (finding G)",
  },
  'compactor-downsampling': {
    prepare: (t, log) => {
      const preset = compactorDownsampling();
      const labels = { ...clusterLabels(preset.uploadedAs.cluster), [PROMETHEUS_REPLICA_LABEL]: preset.uploadedAs.replica };
      return uploadPromtoolHistory(t, { prefix: preset.prefix, labels }, oneBlockWindow(Date.now() - HOUR_MS, 48 * HOUR_MS), log);
    },
    state: "2 days of history uploaded; the Compactor's next iteration (every 5m) downsamples it to 5m (finding F)",
  },
};
