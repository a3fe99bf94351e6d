// Arch 3 (agent), finding F's central alerting: the observee runs Prometheus in agent mode,
// remote-writing to Receive; the observer's Ruler evaluates rules through Query and sends alerts to
// its Alertmanager. Live only, on a 1s grid.
import { readFileSync } from 'node:fs';
import { validateTopology, type Topology } from '../topology/model.ts';
import { ALL_REPLICA_LABELS, NOTE_CLUSTERS, OBSERVEE, OBSERVER, queryPath, TEST_STORE_SYNC } from './conventions.ts';
import { handle, queryPathHandle, type Handle, type QueryPathHandle } from './handles.ts';

const CENTRAL_ALERTING_RULES = readFileSync(new URL('../../fixtures/rules/central-alerting.yml', import.meta.url), 'utf8');

/** Arch 3's two alerting paths. They differ only in what the Ruler's Query reads. */
export const ARCH3_PATHS = ['faulty', 'fixed'] as const;
export type Arch3Path = (typeof ARCH3_PATHS)[number];

/** One alerting path: its Ruler, the Query the Ruler evaluates through, its Alertmanager, and what users query. */
export interface AlertingPathHandles {
  ruler: Handle<'ruler'>;
  /** Store only (faulty) or Store + Receive (fixed). */
  ruleQuery: Handle<'query'>;
  alertmanager: Handle<'alertmanager'>;
  /** Store, Receive and this path's Ruler, with a Query Frontend in front. */
  users: QueryPathHandle;
}

export interface Arch3Preset {
  topology: Topology;
  /** The observee's agent-mode Prometheus and the Receive it writes to. */
  agent: Handle<'prometheus'>;
  receive: Handle<'receive'>;
  store: Handle<'store'>;
  paths: Record<Arch3Path, AlertingPathHandles>;
  /** The cluster the agent's series carry as their cluster label (its external labels). */
  observee: string;
}

/**
 * Both paths run over one agent, Receive and Store, each with its own Ruler, the Ruler's Query,
 * Alertmanager and users' Query + frontend: "faulty" gives the Ruler a Query that only reads Store,
 * where the agent's fresh data is not; "fixed" reads Receive too.
 */
export function arch3(): Arch3Preset {
  const ruleQueryEndpoints: Record<Arch3Path, string[]> = { faulty: [`${OBSERVER}/store`], fixed: [`${OBSERVER}/store`, `${OBSERVER}/receive`] };
  const name = (path: Arch3Path, component: string) => `${path}-${component}`;
  const ref = (path: Arch3Path, component: string) => `${OBSERVER}/${name(path, component)}`;
  const alertingPath = (path: Arch3Path) => [
    { kind: 'query', name: name(path, 'rule-query'), cluster: OBSERVER, endpoints: ruleQueryEndpoints[path], replicaLabels: ALL_REPLICA_LABELS },
    { kind: 'ruler', name: name(path, 'ruler'), cluster: OBSERVER, query: ref(path, 'rule-query'), alertmanagers: [ref(path, 'alertmanager')], rules: CENTRAL_ALERTING_RULES },
    { kind: 'alertmanager', name: name(path, 'alertmanager'), cluster: OBSERVER },
    // What users (Grafana) query: everything, this path's recording rules included, and only this
    // path's ("<path>-query" and its "<path>-query-frontend").
    ...queryPath(name(path, 'query'), [`${OBSERVER}/store`, `${OBSERVER}/receive`, ref(path, 'ruler')], ALL_REPLICA_LABELS),
  ];
  const topology = validateTopology({
    name: 'arch3-central-alerting',
    description: 'Arch 3: agent -> Receive; a Ruler whose Query reads Store + Receive (fixed) and one whose Query reads only Store (faulty), each with its Alertmanager',
    grid: '1s',
    clusters: NOTE_CLUSTERS,
    components: [
      // Two scrapes per 1s slot: the exporter serves a scraper one slot per scrape, so only a scrape
      // faster than the grid catches up after a late one (the second of a slot repeats it, and the
      // agent drops that copy). A 1s batch deadline sends each slot before the next (the default, 5s, batches five).
      { kind: 'prometheus', name: 'prometheus', cluster: OBSERVEE, mode: 'agent', scrapeInterval: '500ms', remoteWrite: [`${OBSERVER}/receive`], remoteWriteBatchSendDeadline: '1s' },
      { kind: 'receive', name: 'receive', cluster: OBSERVER, bucketPrefix: OBSERVEE },
      { kind: 'store', name: 'store', cluster: OBSERVER, bucketPrefix: OBSERVEE, syncInterval: TEST_STORE_SYNC },
      ...ARCH3_PATHS.flatMap(alertingPath),
    ],
  });
  const handles = (path: Arch3Path): AlertingPathHandles => ({
    ruler: handle(topology, 'ruler', ref(path, 'ruler')),
    ruleQuery: handle(topology, 'query', ref(path, 'rule-query')),
    alertmanager: handle(topology, 'alertmanager', ref(path, 'alertmanager')),
    users: queryPathHandle(topology, ref(path, 'query')),
  });
  return {
    topology,
    agent: handle(topology, 'prometheus', `${OBSERVEE}/prometheus`),
    receive: handle(topology, 'receive', `${OBSERVER}/receive`),
    store: handle(topology, 'store', `${OBSERVER}/store`),
    paths: { faulty: handles('faulty'), fixed: handles('fixed') },
    observee: OBSERVEE,
  };
}
