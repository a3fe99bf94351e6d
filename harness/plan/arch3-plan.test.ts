import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ARCH3_PATHS, arch3 } from '../presets/arch3.ts';
import { fakeAddressing as addressing, flag } from './fake-addressing.ts';
import { planTopology, runVersions } from './index.ts';


const flagNames = (args: string[]) => args.filter((a) => a.startsWith('--')).map((a) => a.split('=')[0]);

describe('plan of Arch 3', () => {
  const plan = planTopology(arch3().topology, addressing);
  const byId = (id: string) => plan.processes.find((p) => p.id === id)!;
  const endpoints = (id: string) => parse(byId(id).files['endpoints.yml']!).endpoints.map((e: { address: string }) => e.address);

  it('runs only the agent in the observee; Receive, Store and each alerting path in the observer', () => {
    const path = (p: string) => [`observer/${p}-alertmanager`, `observer/${p}-query`, `observer/${p}-query-frontend`, `observer/${p}-rule-query`, `observer/${p}-ruler`];
    expect(plan.processes.map((p) => p.id).sort()).toEqual(['observee/prometheus', ...path('faulty'), ...path('fixed'), 'observer/receive', 'observer/store']);
  });

  it('starts the observee Prometheus as an agent remote-writing to Receive, twice per 1s grid slot, with no TSDB flags', () => {
    const agent = byId('observee/prometheus');
    expect(agent.args).toContain('--agent');
    expect(flag(agent.args, 'storage.agent.path')).toEqual(['/data/observee/prometheus']);
    expect(agent.args.filter((a) => a.startsWith('--storage.tsdb.') || a === '--web.enable-remote-write-receiver')).toEqual([]);
    const config = parse(agent.files['prometheus.yml']!);
    expect(config.global.scrape_interval).toBe('500ms');
    expect(config.global.external_labels).toEqual({ cluster: 'observee', cluster_name: 'observee', origin_prometheus: 'observee', prometheus_replica: 'prometheus-0' });
  });

  it('switches agent mode on as a feature on Prometheus 2.x, where --agent does not exist yet', () => {
    const old = planTopology(arch3().topology, addressing, { ...runVersions(), prometheus: '2.48.0' });
    const agentArgs = old.processes.find((p) => p.id === 'observee/prometheus')!.args;
    expect(agentArgs).toContain('--enable-feature=agent');
    expect(agentArgs).not.toContain('--agent');
  });

  it("plans the topology's remote-write batch send deadline into the queue config, and nothing where it is unset", () => {
    const config = parse(byId('observee/prometheus').files['prometheus.yml']!);
    expect(config.remote_write).toEqual([{ url: 'http://observer/receive:remote-write/api/v1/receive', queue_config: { batch_send_deadline: '1s' } }]);

    const topology = arch3().topology;
    const withDefault = { ...topology, components: topology.components.map((c) => (c.kind === 'prometheus' ? { ...c, remoteWriteBatchSendDeadline: undefined } : c)) };
    const agent = planTopology(withDefault, addressing).processes.find((p) => p.id === 'observee/prometheus')!;
    expect(parse(agent.files['prometheus.yml']!).remote_write).toEqual([{ url: 'http://observer/receive:remote-write/api/v1/receive' }]);
  });

  it('points each Ruler at its own Query and Alertmanager over HTTP, with the rules of the fixture', () => {
    const rules = readFileSync(new URL('../../fixtures/rules/central-alerting.yml', import.meta.url), 'utf8');
    for (const p of ARCH3_PATHS) {
      const ruler = byId(`observer/${p}-ruler`);
      expect(ruler.args[0]).toBe('rule');
      expect(flag(ruler.args, 'query')).toEqual([`http://observer/${p}-rule-query:http`]);
      expect(flag(ruler.args, 'alertmanagers.url')).toEqual([`http://observer/${p}-alertmanager:http`]);
      expect(flag(ruler.args, 'eval-interval')).toEqual(['5s']);
      expect(flag(ruler.args, 'rule-file')).toEqual([`/cfg/observer/${p}-ruler/rules.yml`]);
      expect(flag(ruler.args, 'data-dir')).toEqual([`/data/observer/${p}-ruler`]);
      expect(ruler.files['rules.yml']).toBe(rules);
      expect(ruler.ports).toEqual(['http', 'grpc']);
    }
  });

  it("labels each Ruler's data with its replica label and drops it from alerts, so an HA pair's alerts merge", () => {
    const ruler = byId('observer/fixed-ruler');
    expect(flag(ruler.args, 'label')).toEqual(['rule_replica="fixed-ruler"']);
    expect(flag(ruler.args, 'alert.label-drop')).toEqual(['rule_replica']);
    expect(ruler.externalLabels).toEqual({ rule_replica: 'fixed-ruler' });
  });

  it('gives every Thanos flag once, except the repeatable ones', () => {
    for (const id of ['observer/fixed-ruler', 'observer/fixed-rule-query', 'observer/fixed-query', 'observer/receive']) {
      const names = flagNames(byId(id).args).filter((n) => n !== '--query.replica-label' && n !== '--label');
      expect(new Set(names).size, id).toBe(names.length);
    }
  });

  it("differs between the faulty and the fixed path only in the Ruler's Query endpoints", () => {
    expect(endpoints('observer/faulty-rule-query')).toEqual(['observer/store:grpc']);
    expect(endpoints('observer/fixed-rule-query')).toEqual(['observer/store:grpc', 'observer/receive:grpc']);
    // Each faulty process, with the path's names swapped, is the fixed one, the Ruler's Query's endpoints aside.
    const pathOf = (p: string) =>
      plan.processes
        .filter((proc) => proc.id.startsWith(`observer/${p}-`) && proc.id !== `observer/${p}-rule-query`)
        .map((proc) => JSON.parse(JSON.stringify(proc).replaceAll(`${p}-`, 'PATH-')));
    expect(pathOf('faulty')).toEqual(pathOf('fixed'));
    const ruleQuery = (p: string) => JSON.parse(JSON.stringify({ ...byId(`observer/${p}-rule-query`), files: {} }).replaceAll(`${p}-`, 'PATH-'));
    expect(ruleQuery('faulty')).toEqual(ruleQuery('fixed'));
  });

  it("lets each path's users' Query read Store, Receive and that path's Ruler (recording rules), deduplicating every replica label", () => {
    for (const p of ARCH3_PATHS) {
      expect(endpoints(`observer/${p}-query`)).toEqual(['observer/store:grpc', 'observer/receive:grpc', `observer/${p}-ruler:grpc`]);
      expect(flag(byId(`observer/${p}-query`).args, 'query.replica-label')).toEqual(['prometheus_replica', 'rule_replica', 'receive_replica', 'tenant_id']);
      expect(flag(byId(`observer/${p}-query-frontend`).args, 'query-frontend.downstream-url')).toEqual([`http://observer/${p}-query:http`]);
    }
  });

  it('runs each Alertmanager alone (no gossip) with a route to a receiver without integrations', () => {
    const am = byId('observer/fixed-alertmanager');
    expect(am.binary).toBe('alertmanager');
    expect(am.args).toEqual([
      '--config.file=/cfg/observer/fixed-alertmanager/alertmanager.yml',
      '--storage.path=/data/observer/fixed-alertmanager',
      '--web.listen-address=listen/observer/fixed-alertmanager/http',
      '--cluster.listen-address=',
    ]);
    expect(parse(am.files['alertmanager.yml']!)).toEqual({
      route: { receiver: 'harness', group_by: ['alertname'], group_wait: '1s', group_interval: '1s', repeat_interval: '1h' },
      receivers: [{ name: 'harness' }],
    });
    expect(am.ready).toEqual({ port: 'http', path: '/-/ready' });
  });
});
