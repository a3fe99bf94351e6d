// The ingest ceiling's rigs (issue 18 item 3, harness/scale/ceiling*.ts): three presets of one bench,
// each brought up, driven and torn down on its own.
import { validateTopology, type Topology } from '../topology/model.ts';
import { OBSERVEE, OBSERVER } from './conventions.ts';

// Three rigs, each brought up, driven and torn down on its own, so that one never competes with
// another for the machine's cores. In each, a step at R samples/s is R series of the cluster-shaped
// workload at one sample a second. The Receive rigs have no writer of their own: the bench process
// is their remote-write client (harness/scale/ceiling-receive.ts), and picks the series count per
// step. The Prometheus rig's scrape jobs are written by the bench too
// (harness/scale/ceiling-scrape.ts), since their number is the step.

/** Series the workload exporter serves the Prometheus rig; each scrape job (a step's "copy") scrapes all of them. */
export const CEILING_SCRAPE_SERIES_PER_COPY = 25_000;

export const CEILING = {
  receive: `${OBSERVER}/receive`,
  prometheus: `${OBSERVEE}/prometheus`,
} as const;

/**
 * One Receive on its own (the note's "dedicated receive": no hashring, replication factor 1). Thanos
 * then runs it as an ingester behind a one-node ring of itself, so its write path is the hashring
 * rig's minus the forwarding. The 1s grid: one sample a second per series; the bench sets the count.
 */
export function ceilingReceive(): Topology {
  return validateTopology({
    name: 'ceiling-receive',
    description: 'the ingest ceiling: one standalone Receive, remote-written by the bench',
    grid: '1s',
    clusters: [{ name: OBSERVER, role: 'observer' }],
    workload: { shape: 'cluster' },
    components: [{ kind: 'receive', name: 'receive', cluster: OBSERVER }],
  });
}

/**
 * Three Receives in one hashring with replication factor 3 (as receiveReplication(3, 3)): every
 * sample is stored by all three, whichever of them the bench's connection reached, which answers
 * once two of the three (the write quorum) have it.
 */
export function ceilingReceiveRing(): Topology {
  return validateTopology({
    name: 'ceiling-receive-rf3',
    description: 'the ingest ceiling: three Receives in a hashring, replication factor 3, remote-written by the bench',
    grid: '1s',
    clusters: [{ name: OBSERVER, role: 'observer' }],
    workload: { shape: 'cluster' },
    components: [{ kind: 'receive', name: 'receive', cluster: OBSERVER, replicas: 3, mode: 'hashring', replicationFactor: 3 }],
  });
}

/**
 * One Prometheus (server mode) that scrapes nothing of its own: the bench gives it N scrape jobs
 * of the workload exporter at a 1 s interval and reloads it, N growing step by step. The exporter
 * serves CEILING_SCRAPE_SERIES_PER_COPY series, so a step ingests N times that per second.
 */
export function ceilingPrometheus(): Topology {
  return validateTopology({
    name: 'ceiling-prometheus',
    description: 'the ingest ceiling: one Prometheus scraping copies of the workload exporter every second',
    grid: '1s',
    clusters: [{ name: OBSERVEE, role: 'observee' }],
    workload: { series: CEILING_SCRAPE_SERIES_PER_COPY, shape: 'cluster' },
    components: [{ kind: 'prometheus', name: 'prometheus', cluster: OBSERVEE, scrapeWorkload: false, scrapeInterval: '1s' }],
  });
}
