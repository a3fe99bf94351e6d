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
