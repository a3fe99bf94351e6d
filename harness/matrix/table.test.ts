import { describe, expect, it } from 'vitest';
import { loadVersions } from '../binaries/versions.ts';
import type { FindingRecord } from '../report/findings.ts';
import type { RunResults } from '../report/html.ts';
import { matrixHtml, matrixMarkdown, matrixRows, type SetOutcome } from './table.ts';
import { versionEnv, versionSets } from './version-sets.ts';

const record = (finding: string, configuration: 'faulty' | 'fixed', observed: string): FindingRecord => ({
  finding, configuration, observed, scenario: finding === 'B' ? 'receive-jitter' : 'arch1-sidecar', topology: 't', substrate: 'process', figures: {}, recordedAt: '',
});
const run = (findings: FindingRecord[], tests: RunResults['tests']): RunResults => ({ runId: 'r', startedAt: '', finishedAt: '', versions: {}, tests, findings, logs: {} });
const set = (name: string) => ({ name, thanos: '0.1.0', prometheus: '3.0.0', alertmanager: '0.1.0', why: 'w' });
const findings = new Map([['A', ['arch1-sidecar']], ['B', ['receive-jitter']]]);

describe('findings x versions table', () => {
  const outcomes: SetOutcome[] = [
    { set: set('old'), cannotRun: 'building thanos 0.1.0 failed: go: missing go.sum entry' },
    {
      set: set('mid'),
      run: run([record('A', 'faulty', 'missing 2.4h')], [
        { file: 'scenarios/arch1-sidecar.e2e.ts', name: 'fixed reads sidecars', state: 'failed', durationMs: 1, error: 'expected 12 to be 0\n  at x' },
        { file: 'scenarios/receive-jitter.e2e.ts', name: 'jitter', state: 'skipped', durationMs: 0 },
      ]),
    },
    { set: set('pins'), run: run([record('A', 'faulty', 'missing 2.4h'), record('A', 'fixed', 'no gap'), record('B', 'faulty', '2 answers'), record('B', 'fixed', '1 answer')], []) },
  ];
  const rows = matrixRows(outcomes, findings);

  it('says yes where a record shows it, and why not everywhere else', () => {
    expect(rows.map((r) => `${r.finding} ${r.scenario}`)).toEqual(['A arch1-sidecar', 'B receive-jitter']);
    const [a, b] = rows;
    expect(a!.cells.map((c) => [c.reproduces.state, c.fixHolds.state, c.failed.length])).toEqual([['not run', 'not run', 0], ['yes', 'failed', 1], ['yes', 'yes', 0]]);
    expect(a!.cells[0]!.reproduces.detail).toBe('building thanos 0.1.0 failed: go: missing go.sum entry');
    expect(a!.cells[1]!.reproduces.detail).toBe('missing 2.4h');
    expect(a!.cells[1]!.fixHolds.detail).toBe('fixed reads sidecars: expected 12 to be 0');
    expect(b!.cells[1]!.reproduces).toEqual({ state: 'not run', detail: 'its tests were skipped' });
  });

  it('lists a failed test next to a record of the same scenario, and a suite that failed before its tests', () => {
    const mixed: SetOutcome = {
      set: set('m'),
      run: run([record('A', 'faulty', 'missing 2.4h'), record('A', 'fixed', 'no gap')], [
        { file: 'scenarios/arch1-sidecar.e2e.ts', name: 'strict endpoints warn', state: 'failed', durationMs: 1, error: 'no warning' },
        { file: 'scenarios/receive-jitter.e2e.ts', name: 'Finding B', state: 'failed', durationMs: 0, suite: true, error: 'needs Thanos >= 0.38' },
      ]),
    };
    const [a, b] = matrixRows([mixed, outcomes[2]!], findings);
    expect(a!.cells[0]).toMatchObject({ reproduces: { state: 'yes' }, fixHolds: { state: 'yes' }, failed: ['strict endpoints warn: no warning'] });
    expect(b!.cells[0]!.reproduces).toEqual({ state: 'failed', detail: 'Finding B (before its tests): needs Thanos >= 0.38' });
  });

  it('says n/a for a configuration no set records (E and HA have fixed records only)', () => {
    const only = [{ set: set('s'), run: run([record('A', 'fixed', 'no gap')], [{ file: 'scenarios/arch1-sidecar.e2e.ts', name: 'fixed', state: 'passed', durationMs: 1 }]) }];
    expect(matrixRows(only, new Map([['A', ['arch1-sidecar']]]))[0]!.cells[0]!.reproduces.state).toBe('n/a');
  });

  it('renders a row per finding and scenario and a column per set, with the reasons listed under the markdown', () => {
    const md = matrixMarkdown(outcomes, rows).split('\n');
    expect(md[0]).toBe('| finding | scenario | old (Thanos 0.1.0, Prometheus 3.0.0, Alertmanager 0.1.0) | mid (Thanos 0.1.0, Prometheus 3.0.0, Alertmanager 0.1.0) | pins (Thanos 0.1.0, Prometheus 3.0.0, Alertmanager 0.1.0) |');
    expect(md[2]).toBe('| A | arch1-sidecar | reproduces: not run; fix holds: not run | reproduces: yes; fix holds: FAILED; 1 test(s) failed | reproduces: yes; fix holds: yes |');
    expect(md).toContain('- mid, arch1-sidecar: failed: fixed reads sidecars: expected 12 to be 0');
    expect(md).toContain('- old, arch1-sidecar, A faulty: building thanos 0.1.0 failed: go: missing go.sum entry');
    const html = matrixHtml('m', outcomes, rows);
    expect(html.match(/<tr class="finding">/g)).toHaveLength(2);
    expect(html).toContain('cannot run: building thanos 0.1.0 failed');
    expect(html).not.toMatch(/<script|https?:\/\//);
  });

  it("reads the sets from fixtures/versions.json and ends with the pins", () => {
    const sets = versionSets();
    const pins = loadVersions();
    expect(sets.at(-1)).toMatchObject({ name: 'pins', thanos: pins.thanos.version, prometheus: pins.prometheus.version, alertmanager: pins.alertmanager.version });
    expect(sets[0]!.thanos).toBe('0.32.5'); // the note's Thanos (FINDINGS.md)
    expect(versionEnv(sets[0]!)).toEqual({ THANOS_HA_E2E_THANOS_VERSION: sets[0]!.thanos, THANOS_HA_E2E_PROMETHEUS_VERSION: sets[0]!.prometheus, THANOS_HA_E2E_ALERTMANAGER_VERSION: sets[0]!.alertmanager });
  });
});
