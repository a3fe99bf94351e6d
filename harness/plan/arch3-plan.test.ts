import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { arch3 } from '../topology/presets.ts';
import { fakeAddressing as addressing, flag } from './fake-addressing.ts';
import { planTopology } from './index.ts';


const flagNames = (args: string[]) => args.filter((a) => a.startsWith('--')).map((a) => a.split('=')[0]);

describe('plan of Arch 3', () => {
  const fixed = planTopology(arch3('ruler-through-query'), addressing);
  const faulty = planTopology(arch3('ruler-without-receive'), addressing);
  const byId = (plan: typeof fixed, id: string) => plan.processes.find((p) => p.id === id)!;
  const endpoints = (plan: typeof fixed, id: string) => parse(byId(plan, id).files['endpoints.yml']!).endpoints.map((e: { address: string }) => e.address);

  it('runs only the agent in the observee, everything else in the observer', () => {
    expect(fixed.processes.map((p) => p.id).sort()).toEqual([
      'observee/prometheus',
      'observer/alertmanager',
      'observer/query',
      'observer/query-frontend',
      'observer/receive',
      'observer/rule-query',
      'observer/ruler',
      'observer/store',
    ]);
  });

  it('starts the observee Prometheus as an agent remote-writing to Receive, with no TSDB flags', () => {
    const agent = byId(fixed, 'observee/prometheus');
    expect(agent.args).toContain('--agent');
    expect(flag(agent.args, 'storage.agent.path')).toEqual(['/data/observee/prometheus']);
    expect(agent.args.filter((a) => a.startsWith('--storage.tsdb.') || a === '--web.enable-remote-write-receiver')).toEqual([]);
    const config = parse(agent.files['prometheus.yml']!);
    expect(config.remote_write).toEqual([{ url: 'http://observer/receive:remote-write/api/v1/receive' }]);
    expect(config.global.external_labels).toEqual({ cluster: 'observee', cluster_name: 'observee', origin_prometheus: 'observee', prometheus_replica: 'prometheus-0' });
  });

  it('points the Ruler at its Query and Alertmanager over HTTP, with the rules of the fixture', () => {
    const ruler = byId(fixed, 'observer/ruler');
    expect(ruler.args[0]).toBe('rule');
    expect(flag(ruler.args, 'query')).toEqual(['http://observer/rule-query:http']);
    expect(flag(ruler.args, 'alertmanagers.url')).toEqual(['http://observer/alertmanager:http']);
    expect(flag(ruler.args, 'eval-interval')).toEqual(['5s']);
    expect(flag(ruler.args, 'rule-file')).toEqual(['/cfg/observer/ruler/rules.yml']);
    expect(flag(ruler.args, 'data-dir')).toEqual(['/data/observer/ruler']);
    expect(ruler.files['rules.yml']).toBe(readFileSync(new URL('../../fixtures/rules/central-alerting.yml', import.meta.url), 'utf8'));
    expect(ruler.ports).toEqual(['http', 'grpc']);
  });

  it("labels the Ruler's data with its replica label and drops it from alerts, so an HA pair's alerts merge", () => {
    const ruler = byId(fixed, 'observer/ruler');
    expect(flag(ruler.args, 'label')).toEqual(['rule_replica="ruler"']);
    expect(flag(ruler.args, 'alert.label-drop')).toEqual(['rule_replica']);
    expect(ruler.externalLabels).toEqual({ rule_replica: 'ruler' });
  });

  it('gives every Thanos flag once, except the repeatable ones', () => {
    for (const id of ['observer/ruler', 'observer/rule-query', 'observer/query', 'observer/receive']) {
      const names = flagNames(byId(fixed, id).args).filter((n) => n !== '--query.replica-label' && n !== '--label');
      expect(new Set(names).size, id).toBe(names.length);
    }
  });

  it("differs between faulty and fixed only in the Ruler's Query endpoints", () => {
    expect(endpoints(faulty, 'observer/rule-query')).toEqual(['observer/store:grpc']);
    expect(endpoints(fixed, 'observer/rule-query')).toEqual(['observer/store:grpc', 'observer/receive:grpc']);
    const withoutRuleQuery = (plan: typeof fixed) => plan.processes.filter((p) => p.id !== 'observer/rule-query').map((p) => ({ ...p, files: { ...p.files } }));
    expect(withoutRuleQuery(faulty)).toEqual(withoutRuleQuery(fixed));
  });

  it("lets users' Query read Store, Receive and the Ruler (recording rules), deduplicating every replica label", () => {
    expect(endpoints(fixed, 'observer/query')).toEqual(['observer/store:grpc', 'observer/receive:grpc', 'observer/ruler:grpc']);
    expect(flag(byId(fixed, 'observer/query').args, 'query.replica-label')).toEqual(['prometheus_replica', 'rule_replica', 'receive_replica', 'tenant_id']);
    expect(flag(byId(fixed, 'observer/query-frontend').args, 'query-frontend.downstream-url')).toEqual(['http://observer/query:http']);
  });

  it('runs Alertmanager alone (no gossip) with a route to a receiver without integrations', () => {
    const am = byId(fixed, 'observer/alertmanager');
    expect(am.binary).toBe('alertmanager');
    expect(am.args).toEqual([
      '--config.file=/cfg/observer/alertmanager/alertmanager.yml',
      '--storage.path=/data/observer/alertmanager',
      '--web.listen-address=listen/observer/alertmanager/http',
      '--cluster.listen-address=',
    ]);
    expect(parse(am.files['alertmanager.yml']!)).toEqual({
      route: { receiver: 'harness', group_by: ['alertname'], group_wait: '1s', group_interval: '1s', repeat_interval: '1h' },
      receivers: [{ name: 'harness' }],
    });
    expect(am.ready).toEqual({ port: 'http', path: '/-/ready' });
  });
});
