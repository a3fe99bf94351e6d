// The version sets `thanos-ha-e2e matrix` runs the findings with: those in fixtures/versions.json's
// "matrix" (the note's own, the previous minor), then the pins themselves. A set is a choice of the
// three version overrides (binaries/versions.ts); everything else stays as pinned.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { loadVersions, VERSIONS_FILE } from '../binaries/versions.ts';

export interface VersionSet {
  name: string;
  thanos: string;
  prometheus: string;
  alertmanager: string;
  why: string;
}

const setSchema = z.object({
  name: z.string().min(1),
  thanos: z.string().regex(/^\d+\.\d+\.\d+$/),
  prometheus: z.string().regex(/^\d+\.\d+\.\d+$/),
  alertmanager: z.string().regex(/^\d+\.\d+\.\d+$/),
  why: z.string().min(1),
});
const fileSchema = z.object({ matrix: z.object({ sets: z.array(setSchema).min(1) }) });

export function versionSets(file: string = VERSIONS_FILE): VersionSet[] {
  const parsed = fileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file}: ${issue?.path.join('.') || 'matrix'}: ${issue?.message ?? 'invalid'}`);
  }
  const pins = loadVersions(file);
  return [
    ...parsed.data.matrix.sets,
    { name: 'pins', thanos: pins.thanos.version, prometheus: pins.prometheus.version, alertmanager: pins.alertmanager.version, why: 'fixtures/versions.json' },
  ];
}

/** The environment that makes a run use a set's versions (binaries/versions.ts reads it). */
export const versionEnv = (set: VersionSet): Record<string, string> => ({
  THANOS_HA_E2E_THANOS_VERSION: set.thanos,
  THANOS_HA_E2E_PROMETHEUS_VERSION: set.prometheus,
  THANOS_HA_E2E_ALERTMANAGER_VERSION: set.alertmanager,
});

export const setLabel = (set: VersionSet) => `${set.name}: Thanos ${set.thanos}, Prometheus ${set.prometheus}, Alertmanager ${set.alertmanager}`;
