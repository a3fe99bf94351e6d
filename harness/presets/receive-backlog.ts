// Issue 20, the Receive ingest path under load (FINDINGS.md G and H): #4831, #4077, #2114, a
// remote-write backlog after an outage.
import { validateTopology, type Topology, type TopologyInput } from '../topology/model.ts';
import { TEST_CONSISTENCY_DELAY, TEST_DELETE_DELAY } from './compactor-overlap.ts';
import { NOTE_CLUSTERS, OBSERVEE, OBSERVER, TEST_STORE_SYNC } from './conventions.ts';
import { handle, type Handle } from './handles.ts';

export const BACKLOG_VARIANTS = ['faulty', 'fixed'] as const;
export type BacklogVariant = (typeof BACKLOG_VARIANTS)[number];

/**
 * Receive's head block length in the backlog preset: a named option of this scenario only. The head
 * appends in order back to half a block behind its newest sample, so at Thanos' 2h an outage must
 * last over an hour before anything is lost; at 1m, over 30 s, which a test can wait for.
 * Everything else about the head (what it refuses, and why) is as at 2h.
 */
export const BACKLOG_BLOCK = '1m';
/** The fixed variant's --tsdb.out-of-order.time-window: longer than the outage. */
export const BACKLOG_OUT_OF_ORDER_WINDOW = '10m';
export const BACKLOG_SERIES = 10_000;

/**
 * The fixed variant's second half: Receive ships its blocks to the bucket, the in-order ones and
 * those its out-of-order head cuts over the same minutes, and two Compactors take turns on them.
 */
export interface BacklogCompaction {
  /** Receive's prefix in the bucket. */
  prefix: string;
  /** Without --compact.enable-vertical-compaction: halts on the overlapping blocks (upstream's warning). */
  halting: Handle<'compactor'>;
  /** With it, as the flag's help asks for next to an out-of-order window: merges them. */
  vertical: Handle<'compactor'>;
  /** A Store over the prefix, and a Query over that Store alone, to read what was merged. */
  store: Handle<'store'>;
  storeQuery: Handle<'query'>;
}

export interface BacklogPreset {
  topology: Topology;
  /** The Prometheus whose link to the Receive is cut, and the two clusters the link joins. */
  prometheus: Handle<'prometheus'>;
  link: [string, string];
  receive: Handle<'receive'>;
  query: Handle<'query'>;
  /** The Receive's head block length and out-of-order window (0s: off, Thanos' default). */
  blockDuration: string;
  outOfOrderWindow: string;
  /** Fixed variant only: the Compactor side of the fix. */
  compaction?: BacklogCompaction;
}

/**
 * The observee's Prometheus remote-writes 10k series to a Receive in the observer; the link between
 * them is cut while another writer (a second observee, the harness) keeps the Receive's head moving;
 * when the link is back, Prometheus sends its backlog. Faulty: Thanos' defaults (no out-of-order
 * window); fixed: an out-of-order window longer than the outage.
 *
 * One remote-write shard, so that the backlog reaches Receive in time order and the head's verdict
 * on each sample depends on the other writer alone (with several shards, one shard ahead of another
 * moves the head too); a 5 s grid and a 1 s batch deadline, so that both sides can be read with
 * nothing in flight (steps/ingest.ts).
 *
 * The fixed variant's Receive also ships to the bucket (the observee's prefix), where its
 * out-of-order blocks overlap its in-order ones; a Compactor without vertical compaction and one
 * with it read that prefix, one after the other (never two on one prefix at once), and a Store and
 * a Query over it alone read what the second left. The faulty variant has none of them: Receive
 * refused the backlog, so nothing overlaps.
 */
export function receiveBacklog(variant: BacklogVariant): BacklogPreset {
  const outOfOrderWindow = variant === 'fixed' ? BACKLOG_OUT_OF_ORDER_WINDOW : undefined;
  const topology = validateTopology({
    name: `backlog-${variant}`,
    description: `A remote-write backlog after a link outage, ${BACKLOG_SERIES.toLocaleString('en')} series, ${BACKLOG_BLOCK} Receive blocks: ${outOfOrderWindow ? `a ${outOfOrderWindow} out-of-order window (fixed)` : 'no out-of-order window, the default (faulty)'}`,
    grid: '5s',
    workload: { series: BACKLOG_SERIES },
    clusters: NOTE_CLUSTERS,
    components: [
      { kind: 'prometheus', name: 'prometheus', cluster: OBSERVEE, remoteWrite: [`${OBSERVER}/receive`], remoteWriteShards: 1, remoteWriteBatchSendDeadline: '1s' },
      // Retention 0s (kept forever) turns off Receive's tenant pruning, which runs every two block
      // lengths on the clock (every 2 minutes at 1m blocks) and, in Thanos 0.42.4, can run while
      // the default tenant's TSDB is still opening: a nil dereference (multitsdb.go:346
      // shouldBeMarkedInactive) that killed a Receive started at 20:16:46 here. At 2h blocks it
      // runs once every 4 hours; retention only ever deletes blocks, which this scenario never has.
      { kind: 'receive', name: 'receive', cluster: OBSERVER, blockDuration: BACKLOG_BLOCK, retention: '0s', ...(outOfOrderWindow ? { outOfOrderWindow, bucketPrefix: OBSERVEE } : {}) },
      { kind: 'query', name: 'query', cluster: OBSERVER, endpoints: [`${OBSERVER}/receive`], replicaLabels: [RECEIVE_REPLICA_LABEL] },
      ...(outOfOrderWindow ? compactionComponents() : []),
    ],
  });
  return {
    topology,
    prometheus: handle(topology, 'prometheus', `${OBSERVEE}/prometheus`),
    link: [OBSERVEE, OBSERVER],
    receive: handle(topology, 'receive', `${OBSERVER}/receive`),
    query: handle(topology, 'query', `${OBSERVER}/query`),
    blockDuration: BACKLOG_BLOCK,
    outOfOrderWindow: outOfOrderWindow ?? '0s',
    ...(outOfOrderWindow
      ? {
          compaction: {
            prefix: OBSERVEE,
            halting: handle(topology, 'compactor', `${OBSERVER}/compactor`),
            vertical: handle(topology, 'compactor', `${OBSERVER}/compactor-vertical`),
            store: handle(topology, 'store', `${OBSERVER}/store`),
            storeQuery: handle(topology, 'query', `${OBSERVER}/query-store`),
          },
        }
      : {}),
  };
}

const RECEIVE_REPLICA_LABEL = 'receive_replica';

/**
 * Two Compactors on Receive's prefix, alike but for --compact.enable-vertical-compaction, with the
 * harness's test delays (a block is judged as soon as it is uploaded, and a merged-away one deleted
 * in the same iteration); and a Store over the prefix with a Query over it alone.
 */
function compactionComponents(): TopologyInput['components'] {
  const compactor = { kind: 'compactor' as const, cluster: OBSERVER, bucketPrefix: OBSERVEE, consistencyDelay: TEST_CONSISTENCY_DELAY, deleteDelay: TEST_DELETE_DELAY };
  return [
    { ...compactor, name: 'compactor', verticalCompaction: false },
    { ...compactor, name: 'compactor-vertical', verticalCompaction: true },
    { kind: 'store', name: 'store', cluster: OBSERVER, bucketPrefix: OBSERVEE, syncInterval: TEST_STORE_SYNC },
    { kind: 'query', name: 'query-store', cluster: OBSERVER, endpoints: [`${OBSERVER}/store`], replicaLabels: [RECEIVE_REPLICA_LABEL] },
  ];
}
