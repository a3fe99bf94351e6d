import { describe, expect, it } from 'vitest';
import { PRESETS, presetByName } from '../presets/index.ts';
import { PREPARATIONS } from './preparations.ts';

describe('up <preset> in its finding state', () => {
  it('names only presets, by the name their topology carries (up looks a preparation up by topology name)', () => {
    for (const name of Object.keys(PREPARATIONS)) {
      expect(Object.keys(PRESETS), name).toContain(name);
      expect(presetByName(name).name).toBe(name);
    }
  });
});
