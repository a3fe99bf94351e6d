// The version sets `thanos-ha-e2e matrix` runs the findings with: those in fixtures/versions.json's
// "matrix" (the note's own, the previous minor), then the pins themselves. A set is a choice of the
// three version overrides (binaries/versions.ts); everything else stays as pinned.
import { z } from 'zod';
import { loadVersions, readVersionsSection, VERSIONS_FILE } from '../binaries/versions.ts';

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

export function versionSets(file: string = VERSIONS_FILE): VersionSet[] {
  const { sets } = readVersionsSection('matrix', z.object({ sets: z.array(setSchema).min(1) }), file);
  const pins = loadVersions(file);
  return [
    ...sets,
    { name: 'pins', thanos: pins.thanos.version, prometheus: pins.prometheus.version, alertmanager: pins.alertmanager.version, why: 'fixtures/versions.json' },
  ];
}

/** The environment that makes a run use a set's versions (binaries/versions.ts reads it). */
export const versionEnv = (set: VersionSet): Record<string, string> => ({
  THANOS_HA_E2E_THANOS_VERSION: set.thanos,
  THANOS_HA_E2E_PROMETHEUS_VERSION: set.prometheus,
  THANOS_HA_E2E_ALERTMANAGER_VERSION: set.alertmanager,
});

/** "note (Thanos 0.32.5, Prometheus 2.47.2, Alertmanager 0.26.0)": a column's heading and a progress line's subject. */
export const setLabel = (set: VersionSet) => `${set.name} (Thanos ${set.thanos}, Prometheus ${set.prometheus}, Alertmanager ${set.alertmanager})`;
