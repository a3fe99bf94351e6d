// Thanos Ruler: evaluates alerting and recording rules through Query, sends alerts to Alertmanager.
// Its recording rules' output is in its own TSDB, served to Query through its StoreAPI (gRPC).
import type { Ruler } from '../topology/model.ts';
import { thanosListenFlags, type Instance, type PlanContext } from './context.ts';
import type { ProcessPlan } from './types.ts';

export function planRuler(c: Ruler, inst: Instance, ctx: PlanContext): ProcessPlan {
  const { addressing } = ctx;
  const externalLabels = { ...c.labels, [c.replicaLabel]: inst.id.split('/')[1]! };
  const url = (ref: string) => ctx.instancesOf(ref).map((target) => `http://${addressing.dial(inst.id, target, 'http')}`);
  return {
    id: inst.id,
    component: `${c.cluster}/${c.name}`,
    cluster: c.cluster,
    kind: 'ruler',
    replica: inst.replica,
    binary: 'thanos',
    args: [
      'rule',
      ...thanosListenFlags(addressing, inst.id, true),
      `--data-dir=${addressing.dataDir(inst.id)}`,
      `--rule-file=${addressing.configFile(inst.id, 'rules.yml')}`,
      `--eval-interval=${c.evalInterval}`,
      ...url(c.query).map((u) => `--query=${u}`),
      ...c.alertmanagers.flatMap(url).map((u) => `--alertmanagers.url=${u}`),
      ...Object.entries(externalLabels).map(([k, v]) => `--label=${k}="${v}"`),
      // Thanos adds the --label set to every alert it sends (overriding same-named alert labels);
      // dropping the replica label lets Alertmanager merge the copies an HA pair of Rulers sends,
      // as Thanos' docs (components/rule.md, "Ruler HA") prescribe.
      `--alert.label-drop=${c.replicaLabel}`,
    ],
    files: { 'rules.yml': c.rules },
    ports: ['http', 'grpc'],
    ready: { port: 'http', path: '/-/ready' },
    after: [],
    pod: inst.id,
    externalLabels,
  };
}
