// What every rig of the ingest ceiling does around its own steps: bring its topology up, step the
// target up as the plan says (ceiling.ts nextStep) until it stops, keep the components' logs with
// the report, and tear everything down however it ends (`await using`: the substrate's close()).
import type { RunningTopology, Substrate } from '../substrates/index.ts';
import type { Topology } from '../topology/model.ts';
import { nextStep, type StepCore, type StepPlan } from './ceiling.ts';
import { memAvailableNow } from './ceiling-meters.ts';

/** A step does not start with less than this available: the OOM killer would end the run, not the step. */
const MEMORY_FLOOR_BYTES = 2 * 2 ** 30;

export interface RigRun<S> {
  topology: string;
  /** Instances driven. */
  instances: string[];
  steps: S[];
  /** Why the rig stopped before its plan said so (bring-up failed, memory, a signal), one line. */
  stopped?: string;
}

export interface RigOptions<S> {
  stepSeconds: number;
  onProgress: (line: string) => void;
  /** Told after every step: the caller saves the report, so a run stopped half-way keeps it. */
  onStep: (run: RigRun<S>) => void;
  /** Why no further step may start (a signal), if so. */
  signalled: () => string | undefined;
  /** Where the components' logs are copied before teardown. */
  logsDir: string;
}

/** A rig once up: its instances, how it runs one step and describes it in one line; disposing it closes what it opened itself. */
export interface Stepper<S> extends Disposable {
  instances: string[];
  step(target: number, holdMs: number, refinement: boolean): Promise<S>;
  line(step: S): string;
}

export async function driveRig<S extends StepCore>(
  rig: string,
  topology: Topology,
  plan: StepPlan,
  substrate: Substrate,
  opts: RigOptions<S>,
  start: (t: RunningTopology) => Promise<Stepper<S>>,
): Promise<RigRun<S>> {
  const log = opts.onProgress;
  const run: RigRun<S> = { topology: topology.name, instances: [], steps: [] };
  try {
    await using t = await substrate.up(topology, { onProgress: log });
    try {
      using stepper = await start(t);
      run.instances = stepper.instances;
      for (let planned = nextStep(plan, []); planned; planned = nextStep(plan, run.steps)) {
        const stop = opts.signalled() ?? (memAvailableNow() < MEMORY_FLOOR_BYTES ? `less than ${MEMORY_FLOOR_BYTES / 2 ** 30} GiB of memory available` : undefined);
        if (stop) {
          run.stopped = `stopped before the step at ${planned.target.toLocaleString('en')}: ${stop}`;
          log(`[ceiling ${rig}] ${run.stopped}`);
          break;
        }
        const step = await stepper.step(planned.target, opts.stepSeconds * 1000, planned.refinement);
        run.steps.push(step);
        log(stepper.line(step));
        opts.onStep(run);
      }
    } finally {
      await t.collectLogs(opts.logsDir).catch((err: unknown) => log(`[ceiling ${rig}] could not keep the logs: ${err instanceof Error ? err.message : String(err)}`));
    }
  } catch (err) {
    run.stopped = `failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
    log(`[ceiling ${rig}] ${run.stopped}`);
  }
  return run;
}
