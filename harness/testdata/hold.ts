// The topology the teardown scenario (scenarios/teardown.e2e.ts) brings up, through the CLI and
// through a vitest run of hold.e2e.ts, and what it expects to find running.
import { fakeAddressing } from '../plan/fake-addressing.ts';
import { planTopology } from '../plan/index.ts';
import { presetByName } from '../presets/index.ts';

export const HOLD_PRESET = 'arch1-store-only';
/** The component hold.e2e.ts waits on, and that a test kills. */
export const HOLD_COMPONENT = 'observer/store';

/** Processes a run of the preset starts: its plan's, and versitygw. */
export const holdProcessCount = (): number => planTopology(presetByName(HOLD_PRESET), fakeAddressing).processes.length + 1;
