// Issue 20, the Receive ingest path under load (FINDINGS.md G and H): #4831, #4077, #2114, a
// remote-write backlog after an outage.
import { validateTopology, type Topology } from '../topology/model.ts';
import { NOTE_CLUSTERS, OBSERVEE, OBSERVER } from './conventions.ts';
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
      { kind: 'receive', name: 'receive', cluster: OBSERVER, blockDuration: BACKLOG_BLOCK, retention: '0s', ...(outOfOrderWindow ? { outOfOrderWindow } : {}) },
      { kind: 'query', name: 'query', cluster: OBSERVER, endpoints: [`${OBSERVER}/receive`], replicaLabels: ['receive_replica'] },
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
  };
}
