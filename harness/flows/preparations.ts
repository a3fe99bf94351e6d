// What `up <preset>` runs after bring-up to put a preset in its finding's state: the same
// preparation its scenario runs (history, shipped blocks, Store loaded, live data), so that what a
// person opens shows what the scenario asserts on. One entry per preset; a preset without one comes
// up with the live workload only (its scenario drives a fault, such as a kill or a cut, as it runs).
import type { RunningTopology } from '../substrates/index.ts';
import { prepareArch1 } from './arch1.ts';
import { prepareArch3 } from './arch3.ts';
import { prepareCompactorOverlap, prepareDownsampling } from './compactor.ts';
import { prepareFrontendCache } from './query-frontend-cache.ts';
import { prepareJitter } from './receive.ts';
import { prepareS3Outage } from './s3-outage.ts';
import { prepareStorePartitions } from './store-partitions.ts';

type Preparation = (t: RunningTopology, log: (line: string) => void) => Promise<unknown>;

export const PREPARATIONS: Record<string, { prepare: Preparation; state: string }> = {
  'arch1-store-only': { prepare: prepareArch1, state: "6h of history, blocks shipped and loaded by Store, live data: Query's range stops at Store's maxTime (finding A)" },
  'arch1-store-and-sidecar': { prepare: prepareArch1, state: '6h of history, blocks shipped and loaded by Store, live data in the sidecars: Query answers across the block boundary (A fixed)' },
  'arch1-side-by-side': { prepare: prepareArch1, state: 'both Queries of finding A over the same history and live data' },
  'jitter-standalone-behind-service': { prepare: prepareJitter, state: 'remote write live into two standalone receives: repeated queries through the frontend differ (finding B)' },
  'jitter-hashring-rf2': { prepare: prepareJitter, state: 'remote write live into a replicated hashring: repeated queries agree (B fixed)' },
  'jitter-default-queue-standalone-behind-service': {
    prepare: (t, log) => prepareJitter(t, log, { replicaDown: true }),
    state: "10k series with Prometheus' default queue, one replica stopped: repeated queries through the frontend differ (finding B)",
  },
  'jitter-default-queue-hashring-rf2': {
    prepare: (t, log) => prepareJitter(t, log, { replicaDown: true }),
    state: "10k series with Prometheus' default queue into a replicated hashring, one replica stopped: repeated queries agree (B fixed)",
  },
  'arch3-central-alerting': { prepare: prepareArch3, state: 'history in the bucket, the agent writing to Receive, the Ruler evaluating (finding F, central alerting)' },
  'query-frontend-cache': { prepare: prepareFrontendCache, state: 'Arch 1 with history and live data behind the two cached frontends (finding G)' },
  'store-partitions': { prepare: prepareStorePartitions, state: 'history in the bucket, loaded by each time-partitioned Store (finding G)' },
  'compactor-overlap': { prepare: prepareCompactorOverlap, state: "both HA pairs' blocks shipped; the same-labels Compactor halted, the other merged (finding G)" },
  'compactor-downsampling': { prepare: prepareDownsampling, state: '2 days of history downsampled to 5m (finding F)' },
  's3-outage': { prepare: prepareS3Outage, state: 'S3 stopped and restarted while 8h of blocks were cut: the 4h-retention Prometheus lost a block (finding G)' },
};
