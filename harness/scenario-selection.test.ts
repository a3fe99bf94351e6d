import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scenarioFindings, selectScenarioFiles } from './scenario-selection.ts';

const names = (files: string[]) => files.map((f) => basename(f, '.e2e.ts'));

describe('run <finding or scenario>...', () => {
  it('maps a finding letter to every scenario that records it, and a scenario name to its file', () => {
    const map = scenarioFindings();
    const recordingA = [...map].filter(([, f]) => f.includes('A')).map(([n]) => n);
    expect(recordingA.length).toBeGreaterThan(0);
    expect(names(selectScenarioFiles(['A']))).toEqual(recordingA);
    const [first] = [...map.keys()];
    expect(names(selectScenarioFiles([first!, 'A']))).toEqual([...map.keys()].filter((n) => n === first || recordingA.includes(n)));
  });

  it('rejects an unknown word in one line that lists the findings and the scenarios', () => {
    expect(() => selectScenarioFiles(['Z'])).toThrow(/^"Z" is neither a finding \(.*A.*\) nor a scenario \(.*arch1-sidecar.*\)$/);
  });
});
