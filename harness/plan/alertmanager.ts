// Alertmanager: receives the Ruler's alerts; the harness reads them through its v2 API.
import type { Alertmanager } from '../topology/model.ts';
import { type Instance, type PlanContext, yaml } from './context.ts';
import type { ProcessPlan } from './types.ts';

export function planAlertmanager(c: Alertmanager, inst: Instance, ctx: PlanContext): ProcessPlan {
  const { addressing } = ctx;
  const config = {
    route: {
      receiver: 'harness',
      group_by: ['alertname'],
      group_wait: c.groupWait,
      group_interval: c.groupInterval,
      repeat_interval: c.repeatInterval,
    },
    // No notification integration: the harness asserts on /api/v2/alerts.
    receivers: [{ name: 'harness' }],
  };
  return {
    id: inst.id,
    component: `${c.cluster}/${c.name}`,
    cluster: c.cluster,
    kind: 'alertmanager',
    replica: inst.replica,
    binary: 'alertmanager',
    args: [
      `--config.file=${addressing.configFile(inst.id, 'alertmanager.yml')}`,
      `--storage.path=${addressing.dataDir(inst.id)}`,
      `--web.listen-address=${addressing.listen(inst.id, 'http')}`,
      // Empty disables gossip clustering (it would bind 0.0.0.0:9094).
      '--cluster.listen-address=',
    ],
    files: { 'alertmanager.yml': yaml(config) },
    ports: ['http'],
    ready: { port: 'http', path: '/-/ready' },
    after: [],
    pod: inst.id,
    externalLabels: {},
  };
}
