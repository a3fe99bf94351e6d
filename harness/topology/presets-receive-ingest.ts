// Issue 20, the Receive ingest path under load (FINDINGS.md G and H): one preset per finding, each
// with its faulty and fixed variant. Written as the redesign's presets are (issue 19): the topology
// and the handles its scenario uses, so that no scenario spells a component's name.
import { refOf, validateTopology, type Topology } from './model.ts';
import { OBSERVER, OBSERVEE } from './preset-defaults.ts';

export const FUTURE_SAMPLE_VARIANTS = ['faulty', 'fixed'] as const;
export type FutureSampleVariant = (typeof FUTURE_SAMPLE_VARIANTS)[number];

/** The fixed variant's --tsdb.too-far-in-future.time-window: a minute of clock skew is tolerated. */
export const FUTURE_WINDOW = '1m';
/** Series the observee's Prometheus scrapes and remote-writes: the issue's "10k or more". */
export const FUTURE_SAMPLE_SERIES = 10_000;

export interface FutureSamplePreset {
  topology: Topology;
  /** The Prometheus whose remote write is everyone else's in-time traffic. */
  prometheus: string;
  /** The one Receive both write to, and its tenant. */
  receive: string;
  tenant: string;
  /** Query over the Receive: what landed. */
  query: string;
  /** The Receive's future window in this variant ('0s': Thanos' default, off). */
  futureWindow: string;
}

/**
 * #6167, one sample from the future: a Prometheus remote-writes 10k series to one Receive, and
 * another client (the harness) writes one sample stamped hours ahead. Faulty: Thanos' default
 * future window (0s, off); fixed: 1m.
 *
 * A 5 s grid, scraped once a slot, with a 1 s batch deadline: every scrape is sent within about a
 * second, so between two scrapes there are seconds in which nothing is in flight, and both sides'
 * counters can be read at one moment (the scenario checks that they were).
 */
export function receiveFutureSample(variant: FutureSampleVariant): FutureSamplePreset {
  const receive = { cluster: OBSERVER, name: 'receive' };
  const prometheus = { cluster: OBSERVEE, name: 'prometheus' };
  const query = { cluster: OBSERVER, name: 'query' };
  const futureWindow = variant === 'fixed' ? FUTURE_WINDOW : undefined;
  const topology = validateTopology({
    name: `future-sample-${variant}`,
    description: `One sample 2h ahead among ${FUTURE_SAMPLE_SERIES.toLocaleString('en')} series: ${variant === 'fixed' ? `a ${FUTURE_WINDOW} future window refuses it (fixed)` : "Thanos' default future window, off (faulty)"}`,
    grid: '5s',
    workload: { series: FUTURE_SAMPLE_SERIES },
    clusters: [
      { name: OBSERVER, role: 'observer' },
      { name: OBSERVEE, role: 'observee' },
    ],
    components: [
      { kind: 'prometheus', ...prometheus, remoteWrite: [refOf(receive)], remoteWriteBatchSendDeadline: '1s' },
      { kind: 'receive', ...receive, ...(futureWindow ? { tooFarInFutureWindow: futureWindow } : {}) },
      { kind: 'query', ...query, endpoints: [refOf(receive)], replicaLabels: ['receive_replica'] },
    ],
  });
  const r = topology.components.find((c) => c.kind === 'receive')!;
  return {
    topology,
    prometheus: refOf(prometheus),
    receive: refOf(receive),
    tenant: r.kind === 'receive' ? r.defaultTenant : '',
    query: refOf(query),
    futureWindow: futureWindow ?? '0s',
  };
}

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
  prometheus: string;
  link: [string, string];
  receive: string;
  tenant: string;
  query: string;
  /** The Receive's head block length and out-of-order window (0s: off, Thanos' default). */
  blockDuration: string;
  outOfOrderWindow: string;
}

/**
 * #4831, #4077, #2114, a backlog after an outage: the observee's Prometheus remote-writes 10k series
 * to a Receive in the observer; the link between them is cut while another writer (a second
 * observee, the harness) keeps the Receive's head moving; when the link is back, Prometheus sends
 * its backlog. Faulty: Thanos' defaults (no out-of-order window); fixed: an out-of-order window
 * longer than the outage.
 *
 * One remote-write shard, so that the backlog reaches Receive in time order and the head's verdict
 * on each sample depends on the other writer alone (with several shards, one shard ahead of another
 * moves the head too); a 5 s grid and a 1 s batch deadline, so that both sides can be read with
 * nothing in flight (flows/receive-ingest.ts).
 */
export function receiveBacklog(variant: BacklogVariant): BacklogPreset {
  const receive = { cluster: OBSERVER, name: 'receive' };
  const prometheus = { cluster: OBSERVEE, name: 'prometheus' };
  const query = { cluster: OBSERVER, name: 'query' };
  const outOfOrderWindow = variant === 'fixed' ? BACKLOG_OUT_OF_ORDER_WINDOW : undefined;
  const topology = validateTopology({
    name: `backlog-${variant}`,
    description: `A remote-write backlog after a link outage, ${BACKLOG_SERIES.toLocaleString('en')} series, ${BACKLOG_BLOCK} Receive blocks: ${outOfOrderWindow ? `a ${outOfOrderWindow} out-of-order window (fixed)` : 'no out-of-order window, the default (faulty)'}`,
    grid: '5s',
    workload: { series: BACKLOG_SERIES },
    clusters: [
      { name: OBSERVER, role: 'observer' },
      { name: OBSERVEE, role: 'observee' },
    ],
    components: [
      { kind: 'prometheus', ...prometheus, remoteWrite: [refOf(receive)], remoteWriteShards: 1, remoteWriteBatchSendDeadline: '1s' },
      // Retention 0s (kept forever) turns off Receive's tenant pruning, which runs every two block
      // lengths on the clock (every 2 minutes at 1m blocks) and, in Thanos 0.42.4, can run while
      // the default tenant's TSDB is still opening: a nil dereference (multitsdb.go:346
      // shouldBeMarkedInactive) that killed a Receive started at 20:16:46 here. At 2h blocks it
      // runs once every 4 hours; retention only ever deletes blocks, which this scenario never has.
      { kind: 'receive', ...receive, blockDuration: BACKLOG_BLOCK, retention: '0s', ...(outOfOrderWindow ? { outOfOrderWindow } : {}) },
      { kind: 'query', ...query, endpoints: [refOf(receive)], replicaLabels: ['receive_replica'] },
    ],
  });
  const r = topology.components.find((c) => c.kind === 'receive')!;
  return {
    topology,
    prometheus: refOf(prometheus),
    link: [OBSERVEE, OBSERVER],
    receive: refOf(receive),
    tenant: r.kind === 'receive' ? r.defaultTenant : '',
    query: refOf(query),
    blockDuration: BACKLOG_BLOCK,
    outOfOrderWindow: outOfOrderWindow ?? '0s',
  };
}
