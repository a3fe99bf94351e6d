// Issue 20, the Receive ingest path under load (FINDINGS.md G and H): #6167, one sample from the future.
import { validateTopology, type Topology } from '../topology/model.ts';
import { NOTE_CLUSTERS, OBSERVEE, OBSERVER } from './conventions.ts';
import { handle, type Handle } from './handles.ts';

export const FUTURE_SAMPLE_VARIANTS = ['faulty', 'fixed'] as const;
export type FutureSampleVariant = (typeof FUTURE_SAMPLE_VARIANTS)[number];

/** The fixed variant's --tsdb.too-far-in-future.time-window: a minute of clock skew is tolerated. */
export const FUTURE_WINDOW = '1m';
/** Series the observee's Prometheus scrapes and remote-writes: the issue's "10k or more". */
export const FUTURE_SAMPLE_SERIES = 10_000;

export interface FutureSamplePreset {
  topology: Topology;
  /** The Prometheus whose remote write is everyone else's in-time traffic. */
  prometheus: Handle<'prometheus'>;
  /** The one Receive both write to. */
  receive: Handle<'receive'>;
  /** Query over the Receive: what landed. */
  query: Handle<'query'>;
  /** The Receive's future window in this variant ('0s': Thanos' default, off). */
  futureWindow: string;
}

/**
 * A Prometheus remote-writes 10k series to one Receive, and another client (the harness) writes one
 * sample stamped hours ahead. Faulty: Thanos' default future window (0s, off); fixed: 1m.
 *
 * A 5 s grid, scraped once a slot, with a 1 s batch deadline: every scrape is sent within about a
 * second, so between two scrapes there are seconds in which nothing is in flight, and both sides'
 * counters can be read at one moment (the scenario checks that they were).
 */
export function receiveFutureSample(variant: FutureSampleVariant): FutureSamplePreset {
  const futureWindow = variant === 'fixed' ? FUTURE_WINDOW : undefined;
  const topology = validateTopology({
    name: `future-sample-${variant}`,
    description: `One sample 2h ahead among ${FUTURE_SAMPLE_SERIES.toLocaleString('en')} series: ${variant === 'fixed' ? `a ${FUTURE_WINDOW} future window refuses it (fixed)` : "Thanos' default future window, off (faulty)"}`,
    grid: '5s',
    workload: { series: FUTURE_SAMPLE_SERIES },
    clusters: NOTE_CLUSTERS,
    components: [
      { kind: 'prometheus', name: 'prometheus', cluster: OBSERVEE, remoteWrite: [`${OBSERVER}/receive`], remoteWriteBatchSendDeadline: '1s' },
      { kind: 'receive', name: 'receive', cluster: OBSERVER, ...(futureWindow ? { tooFarInFutureWindow: futureWindow } : {}) },
      { kind: 'query', name: 'query', cluster: OBSERVER, endpoints: [`${OBSERVER}/receive`], replicaLabels: ['receive_replica'] },
    ],
  });
  return {
    topology,
    prometheus: handle(topology, 'prometheus', `${OBSERVEE}/prometheus`),
    receive: handle(topology, 'receive', `${OBSERVER}/receive`),
    query: handle(topology, 'query', `${OBSERVER}/query`),
    futureWindow: futureWindow ?? '0s',
  };
}
