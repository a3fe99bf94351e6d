// A hashring that grows on the Kubernetes deploy path: what is rendered at bring-up, what bring-up
// starts, and what growHashrings patches (issue 20, finding 3; scenarios/receive-hashring-growth).
import { describe, expect, it } from 'vitest';
import { GROWTH_VARIANTS, RING_AT_START, receiveHashringGrowth } from '../../presets/receive-hashring-growth.ts';
import { startInWaves } from './deploy.ts';
import { IMAGES, kubePlan, NAMESPACE } from './fixture.ts';
import { chartValues, grownConfigMaps, POD_LABEL } from './values.ts';

const ringOf = (hashrings: string) => (JSON.parse(hashrings) as { hashring: string; endpoints: { address: string }[] }[]).map((r) => [r.hashring, r.endpoints.map((e) => e.address)]);
const grpcOf = (name: string) => `${name}.${NAMESPACE}.svc.cluster.local:10901`;

describe.each(GROWTH_VARIANTS)('a hashring that grows on Kubernetes, %s', (variant) => {
  const preset = receiveHashringGrowth(variant);
  const { plan, addressing } = kubePlan(preset.topology);
  const joiner = preset.members.instances[RING_AT_START]!;
  const names = preset.members.instances.map((id) => id.split('/')[1]!);
  const joinerName = names[RING_AT_START]!;
  /** The instances whose ring grows: the members that route (faulty), or the router (fixed). */
  const growing = variant === 'faulty' ? preset.members.instances.slice(0, RING_AT_START) : [preset.front!];

  it('renders the joiner stopped with its Service, whatever startStopped says, so that the grown ring can name it', () => {
    for (const startStopped of [false, true]) {
      const values = chartValues(plan, 'observer', { addressing, images: IMAGES, startStopped });
      const replicas = Object.fromEntries(values.pods.map((p) => [p.name, p.replicas ?? 1]));
      expect(replicas[joinerName]).toBe(0);
      for (const name of names.slice(0, RING_AT_START)) expect(replicas[name]).toBe(startStopped ? 0 : 1);
      // Dialled by name before it is ready, like every instance (publishNotReadyAddresses).
      expect(values.services.find((s) => s.name === joinerName)).toMatchObject({ role: 'instance', headless: true, publishNotReadyAddresses: true, selector: { [POD_LABEL]: joinerName } });
      // It starts with the grown ring, which names it by that Service.
      const own = values.configMaps.find((c) => c.name === `${joinerName}-config`);
      if (variant === 'faulty') expect(ringOf(own!.data['hashrings.json']!)).toEqual([['default', names.map(grpcOf)]]);
      else expect(own).toBeUndefined(); // an ingester holds no ring, and has no other file
    }
  });

  it('patches the hashrings file of every instance whose ring grows into the ConfigMap bring-up rendered, and nothing else', () => {
    const values = chartValues(plan, 'observer', { addressing, images: IMAGES, startStopped: true });
    const grown = grownConfigMaps(plan);
    expect(grown.map((g) => g.instance)).toEqual(growing);
    for (const g of grown) {
      const rendered = values.configMaps.find((c) => c.name === g.configMap);
      expect(rendered, g.configMap).toBeDefined();
      expect(values.pods.find((p) => p.name === g.pod)!.containers.map((c) => c.configMap)).toContain(g.configMap);
      expect(g.cluster).toBe('observer');
      // Only the hashrings file changes; any other file of the instance stays as rendered.
      expect(Object.keys(g.data)).toEqual(['hashrings.json']);
      expect(ringOf(rendered!.data['hashrings.json']!)).toEqual([['default', names.slice(0, RING_AT_START).map(grpcOf)]]);
      expect(ringOf({ ...rendered!.data, ...g.data }['hashrings.json']!)).toEqual([['default', names.map(grpcOf)]]);
    }
    expect(grown.map((g) => g.instance)).not.toContain(joiner);
  });

  it('starts every pod but the joiner at bring-up, each after what it dials first; nothing waits for the joiner', async () => {
    const started: string[] = [];
    const waves: string[][] = [];
    await startInWaves(plan, async (id) => void started.push(id), (line) => waves.push(line.replace('  ready: ', '').split(', ')));
    expect(started).not.toContain(joiner);
    const podOf = new Map(plan.processes.map((p) => [p.id, p.pod.split('/')[1]!]));
    const waveOf = (id: string) => waves.findIndex((w) => w.includes(podOf.get(id)!));
    for (const p of plan.processes.filter((x) => x.id !== joiner)) {
      expect(waveOf(p.id), p.id).toBeGreaterThanOrEqual(0);
      for (const a of p.after.filter((x) => x !== joiner && podOf.get(x) !== podOf.get(p.id))) expect(waveOf(a), `${p.id} after ${a}`).toBeLessThan(waveOf(p.id));
    }
    // What would wait for the joiner, were it not deferred: the faulty Prometheus writes through a Service over all four members.
    expect(plan.processes.filter((p) => p.after.includes(joiner)).map((p) => p.id)).toEqual(variant === 'faulty' ? [preset.prometheus.ref] : []);
  });
});
