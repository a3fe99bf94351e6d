// The plan: a pure function from a topology (a substrate's addressing, the binaries' versions) to processes and services.
// Every substrate starts exactly these processes with exactly these arguments and files.
import { refOf, type Component, type Topology } from '../topology/model.ts';
import { pinnedVersion } from '../binaries/versions.ts';
import type { Instance, PlanContext, PlanVersions } from './context.ts';
import { planPrometheus } from './prometheus.ts';
import { planQueryFrontend } from './query-frontend.ts';
import { planQuery } from './query.ts';
import { planSidecar } from './sidecar.ts';
import { planStore } from './store.ts';
import { planCompactor } from './compactor.ts';
import { planReceive } from './receive.ts';
import { planRuler } from './ruler.ts';
import { planAlertmanager } from './alertmanager.ts';
import type { Addressing, Plan, ProcessPlan, ServicePlan } from './types.ts';

export type { Addressing, Plan, PortName, ProcessPlan, S3Access, ServicePlan } from './types.ts';
export type { PlanVersions } from './context.ts';
export { s3ObjstoreConfig } from './context.ts';

/** The versions this process provisions and runs: fixtures/versions.json with the environment's overrides. */
export const runVersions = (): PlanVersions => ({ thanos: pinnedVersion('thanos').version, prometheus: pinnedVersion('prometheus').version });

function replicasOf(c: Component, topology: Topology): number {
  if (c.kind === 'prometheus' || c.kind === 'query' || c.kind === 'receive') return c.replicas;
  if (c.kind === 'sidecar') {
    const prom = topology.components.find((p) => p.kind === 'prometheus' && p.cluster === c.cluster && p.name === c.prometheus);
    return prom && prom.kind === 'prometheus' ? prom.replicas : 1;
  }
  return 1;
}

/** Instance ids of a component: "cluster/name" alone, or "cluster/name-<i>" when it has replicas. */
export function instanceIds(c: Component, topology: Topology): Instance[] {
  const n = replicasOf(c, topology);
  return Array.from({ length: n }, (_, replica) => ({ id: n === 1 ? refOf(c) : `${refOf(c)}-${replica}`, replica }));
}

/** How many StoreAPI endpoints a Query (each replica) dials: every instance of every component it names (a Service counts once; paired: one instance each). */
export function queryEndpointCount(topology: Topology, queryRef: string): number {
  const query = topology.components.find((c) => refOf(c) === queryRef);
  if (query?.kind !== 'query') throw new Error(`${queryRef} is not a query in ${topology.name}`);
  return query.endpoints
    .map((ref) => topology.components.find((c) => refOf(c) === ref))
    .reduce((n, c) => n + (c && !query.pairedEndpoints ? instanceIds(c, topology).length : 1), 0);
}

/**
 * `versions` defaults to what this process runs (runVersions()), so every substrate plans for the
 * binaries it starts; pass them to plan for other releases (unit tests do).
 */
export function planTopology(topology: Topology, addressing: Addressing, versions: PlanVersions = runVersions()): Plan {
  const components = new Map(topology.components.map((c) => [refOf(c), c]));
  const services = new Set(topology.services.map(refOf));
  const ctx: PlanContext = {
    topology,
    addressing,
    versions,
    component: (ref) => {
      const c = components.get(ref);
      if (!c) throw new Error(`no component ${ref}`);
      return c;
    },
    instancesOf: (ref) => (services.has(ref) ? [ref] : instanceIds(ctx.component(ref), topology).map((i) => i.id)),
    backendsOf: (ref) => {
      const service = topology.services.find((s) => refOf(s) === ref);
      return service ? service.targets.flatMap((t) => ctx.backendsOf(t)) : ctx.instancesOf(ref);
    },
  };

  const processes: ProcessPlan[] = [];
  const prometheusById = new Map<string, ProcessPlan>();
  // Prometheus first: sidecars are planned against their Prometheus instance.
  const ordered = [...topology.components].sort((a, b) => Number(b.kind === 'prometheus') - Number(a.kind === 'prometheus'));
  for (const c of ordered) {
    for (const inst of instanceIds(c, topology)) {
      switch (c.kind) {
        case 'prometheus': {
          const p = planPrometheus(c, inst, ctx);
          prometheusById.set(p.id, p);
          processes.push(p);
          break;
        }
        case 'sidecar': {
          const promInstances = instanceIds(ctx.component(`${c.cluster}/${c.prometheus}`), topology);
          const prom = prometheusById.get(promInstances[inst.replica]!.id)!;
          processes.push(planSidecar(c, inst, ctx, prom));
          break;
        }
        case 'store':
          processes.push(planStore(c, inst, ctx));
          break;
        case 'compactor':
          processes.push(planCompactor(c, inst, ctx));
          break;
        case 'query':
          processes.push(planQuery(c, inst, ctx));
          break;
        case 'query-frontend':
          processes.push(planQueryFrontend(c, inst, ctx));
          break;
        case 'receive':
          processes.push(planReceive(c, inst, ctx));
          break;
        case 'ruler':
          processes.push(planRuler(c, inst, ctx));
          break;
        case 'alertmanager':
          processes.push(planAlertmanager(c, inst, ctx));
          break;
      }
    }
  }

  const servicePlans: ServicePlan[] = topology.services.map((s) => ({
    id: refOf(s),
    cluster: s.cluster,
    port: s.port,
    balancing: s.balancing,
    backends: s.targets.flatMap((t) => ctx.instancesOf(t)),
  }));
  return { topology, processes, services: servicePlans };
}
