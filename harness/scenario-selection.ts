// `thanos-ha-e2e run A B` / `run arch1-sidecar`: which scenario files a finding letter or a scenario
// name means. The scenarios say which findings they record (recordFinding({ finding: 'A', ... })),
// so the map is read from their source rather than kept in a second place.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SCENARIOS_DIR = fileURLToPath(new URL('../scenarios', import.meta.url));

/** scenario name (file name less .e2e.ts) -> the findings it records. */
export function scenarioFindings(dir: string = SCENARIOS_DIR): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.e2e.ts')).sort()) {
    const source = readFileSync(join(dir, file), 'utf8');
    map.set(file.replace(/\.e2e\.ts$/, ''), [...new Set([...source.matchAll(/\bfinding: '([^']+)'/g)].map((m) => m[1]!))].sort());
  }
  return map;
}

/** The scenario files a selection names, in file order; throws one line naming what is unknown and what is known. */
export function selectScenarioFiles(selection: readonly string[], dir: string = SCENARIOS_DIR): string[] {
  const scenarios = scenarioFindings(dir);
  const findings = new Set([...scenarios.values()].flat());
  const chosen = new Set<string>();
  for (const word of selection) {
    if (scenarios.has(word)) {
      chosen.add(word);
    } else if (findings.has(word)) {
      for (const [name, of] of scenarios) if (of.includes(word)) chosen.add(name);
    } else {
      throw new Error(`"${word}" is neither a finding (${[...findings].sort().join(', ')}) nor a scenario (${[...scenarios.keys()].join(', ')})`);
    }
  }
  return [...scenarios.keys()].filter((name) => chosen.has(name)).map((name) => join(dir, `${name}.e2e.ts`));
}
