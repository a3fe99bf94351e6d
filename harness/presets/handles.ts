// What a preset hands its scenario besides the topology: typed handles of the components, Services
// and query paths the scenario and its steps use, so that neither spells a component's name. A
// handle is made from the validated topology (it throws if the component is not there), so a preset
// that renames a component breaks at its own handle, not in a scenario's string.
import { instanceIds } from '../plan/index.ts';
import { refOf, type Component, type ComponentKind, type Service, type Topology } from '../topology/model.ts';

/** One component of a preset's topology. */
export interface Handle<K extends ComponentKind = ComponentKind> {
  readonly kind: K;
  readonly cluster: string;
  readonly name: string;
  /** "cluster/name": what Query's endpoints name, and what t.url() takes for a single instance. */
  readonly ref: string;
  /** Its instances' ids, as the plan and t.url() name them: the ref alone, or "<ref>-<i>" per replica. */
  readonly instances: readonly string[];
  /** The validated spec, for what a step needs to know of its configuration (a tenant, a block duration). */
  readonly spec: Extract<Component, { kind: K }>;
}

/** A Service (a kube-proxy-like address in front of several instances). */
export interface ServiceHandle {
  readonly ref: string;
  readonly spec: Service;
}

/** A Query and the Query Frontend in front of it. */
export interface QueryPathHandle {
  readonly query: Handle<'query'>;
  readonly frontend: Handle<'query-frontend'>;
}

/** The handle of a component; throws if the topology has no such component of that kind. */
export function handle<K extends ComponentKind>(topology: Topology, kind: K, ref: string): Handle<K> {
  const c = topology.components.find((x) => refOf(x) === ref);
  if (!c || c.kind !== kind) throw new Error(`topology ${topology.name} has no ${kind} "${ref}"${c ? ` (it is a ${c.kind})` : ''}`);
  return { kind, cluster: c.cluster, name: c.name, ref, instances: instanceIds(c, topology).map((i) => i.id), spec: c as Extract<Component, { kind: K }> };
}

export function serviceHandle(topology: Topology, ref: string): ServiceHandle {
  const s = topology.services.find((x) => refOf(x) === ref);
  if (!s) throw new Error(`topology ${topology.name} has no service "${ref}"`);
  return { ref, spec: s };
}

/** A Query and the one Query Frontend whose downstream it is. */
export function queryPathHandle(topology: Topology, queryRef: string): QueryPathHandle {
  const frontends = topology.components.filter((c) => c.kind === 'query-frontend' && c.downstream === queryRef);
  if (frontends.length !== 1) throw new Error(`topology ${topology.name}: ${frontends.length} query frontends in front of ${queryRef}, expected one`);
  return { query: handle(topology, 'query', queryRef), frontend: handle(topology, 'query-frontend', refOf(frontends[0]!)) };
}

/** The tenant a Receive stores what arrives without a tenant header under (its plan's --receive.default-tenant-id). */
export const tenantOf = (receive: Handle<'receive'>): string => receive.spec.defaultTenant;
