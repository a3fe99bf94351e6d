// The README's preset x check table is the one rendered from the cases the e2e proof asserts
// (scenarios/audit-*.e2e.ts): neither can change without the other.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PRESETS } from '../presets/index.ts';
import { PREPARATIONS } from '../steps/preparations.ts';
import { AUDIT_CASES, auditTable } from './cases.ts';
import { CHECKS } from './checks.ts';

describe('the audit cases', () => {
  it('are presets `up` brings to their finding state, each faulty case with a finding and each fixed one clean but for what its preset is built with, explained', () => {
    for (const c of AUDIT_CASES) {
      expect(Object.keys(PRESETS), c.preset).toContain(c.preset);
      expect(Object.keys(PREPARATIONS), c.preset).toContain(c.preset);
      const findings = CHECKS.filter((k) => c.expected[k] === 'finding');
      if (c.configuration === 'faulty') expect(findings.length, `${c.preset} ${c.path}`).toBeGreaterThan(0);
      else expect(findings, `${c.preset} ${c.path}`).toEqual((c.byConstruction ?? []).filter((k) => findings.includes(k)));
      if (c.byConstruction?.length) {
        expect(c.configuration, `${c.preset} ${c.path}: only a fixed path needs to declare what it is built with`).toBe('fixed');
        expect(c.byConstruction.every((k) => c.expected[k] === 'finding'), `${c.preset} ${c.path}: declared and expected`).toBe(true);
        for (const k of c.byConstruction) expect(c.note, `${c.preset} ${c.path}: the note explains ${k}`).toMatch(new RegExp(`(^|; )${k}: `));
      }
    }
  });

  it("are the README's table", () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    expect(readme).toContain(auditTable());
    // The check can fail: another expectation renders another table.
    const changed = AUDIT_CASES.map((c, i) => (i === 0 ? { ...c, expected: { ...c.expected, A: 'ok' as const } } : c));
    expect(readme).not.toContain(auditTable(changed));
  });
});
