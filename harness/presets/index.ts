// The preset registry: every preset topology by the name `up`, `topologies` and the matrix know it
// by. It imports each preset file; no preset imports it. A new preset is one file beside this one
// and one line here.
import type { Topology } from '../topology/model.ts';
import { arch1, ARCH1_VARIANTS } from './arch1.ts';
import { arch2, ARCH2_VARIANTS } from './arch2.ts';
import { arch3 } from './arch3.ts';
import { compactorDownsampling } from './compactor-downsampling.ts';
import { compactorOverlap } from './compactor-overlap.ts';
import { linkCut } from './link-cut.ts';
import { queryFrontendCache } from './query-frontend-cache.ts';
import { BACKLOG_VARIANTS, receiveBacklog } from './receive-backlog.ts';
import { FUTURE_SAMPLE_VARIANTS, receiveFutureSample } from './receive-future-sample.ts';
import { GROWTH_VARIANTS, receiveHashringGrowth } from './receive-hashring-growth.ts';
import { INGESTER_LOSS_VARIANTS, receiveIngesterLoss } from './receive-ingester-loss.ts';
import { JITTER_VARIANTS, receiveJitter } from './receive-jitter.ts';
import { receiveReplication } from './receive-replication.ts';
import { s3Outage } from './s3-outage.ts';
import { storePartitions } from './store-partitions.ts';

export const PRESETS: Record<string, () => Topology> = Object.fromEntries([
  ...ARCH1_VARIANTS.map((v) => [`arch1-${v}`, () => arch1(v).topology] as const),
  ...ARCH2_VARIANTS.map((v) => [`arch2-${v}`, () => arch2(v).topology] as const),
  ...JITTER_VARIANTS.map((v) => [`jitter-${v}`, () => receiveJitter(v).topology] as const),
  ...JITTER_VARIANTS.map((v) => [`jitter-default-queue-${v}`, () => receiveJitter(v, 'default').topology] as const),
  ['replication-3x-rf3', () => receiveReplication(3, 3).topology] as const,
  ['replication-2x-rf2', () => receiveReplication(2, 2).topology] as const,
  ['arch3-central-alerting', () => arch3().topology] as const,
  ['query-frontend-cache', () => queryFrontendCache().topology] as const,
  ['store-partitions', () => storePartitions().topology] as const,
  ['compactor-overlap', () => compactorOverlap().topology] as const,
  ['compactor-downsampling', () => compactorDownsampling().topology] as const,
  ['s3-outage', () => s3Outage().topology] as const,
  ['link-cut', () => linkCut().topology] as const,
  ...BACKLOG_VARIANTS.map((v) => [`backlog-${v}`, () => receiveBacklog(v).topology] as const),
  ...FUTURE_SAMPLE_VARIANTS.map((v) => [`future-sample-${v}`, () => receiveFutureSample(v).topology] as const),
  ...INGESTER_LOSS_VARIANTS.map((v) => [`ingester-loss-${v}`, () => receiveIngesterLoss(v).topology] as const),
  ...INGESTER_LOSS_VARIANTS.map((v) => [`ingester-restart-${v}`, () => receiveIngesterLoss(v, 'restart').topology] as const),
  ...GROWTH_VARIANTS.map((v) => [`hashring-growth-${v}`, () => receiveHashringGrowth(v).topology] as const),
]);

export function presetByName(name: string): Topology {
  const make = PRESETS[name];
  if (!make) throw new Error(`unknown topology "${name}": choose one of ${Object.keys(PRESETS).join(', ')}`);
  return make();
}
