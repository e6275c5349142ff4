import fc from "fast-check";
import { checkHistory, type Violation } from "./checkers/index.ts";
import type { Schedule } from "./schedule.ts";
import { type ScheduleShape, scheduleArbitrary, scheduleForSeed } from "./schedule-arbitrary.ts";
import { runSimulation, type SimulationOptions, type SimulationResult } from "./simulation.ts";

/** The outcome of one schedule. */
export interface ScheduleOutcome {
  readonly seed: number;
  readonly schedule: Schedule;
  readonly result: SimulationResult;
  readonly violations: readonly Violation[];
}

/** Runs one schedule and every checker on its history. */
export async function checkSchedule(
  schedule: Schedule,
  options: SimulationOptions = {},
): Promise<{ result: SimulationResult; violations: Violation[] }> {
  const result = await runSimulation(schedule, options);
  return { result, violations: checkHistory(result.history) };
}

/** Runs the schedule of one campaign seed. */
export async function runSeed(
  seed: number,
  shape: ScheduleShape = {},
  options: SimulationOptions = {},
): Promise<ScheduleOutcome> {
  const schedule = scheduleForSeed(seed, shape);
  const { result, violations } = await checkSchedule(schedule, options);
  return { seed, schedule, result, violations };
}

/** The commands that replay a failing seed. */
export function replayCommands(seed: number): string[] {
  return [
    `pnpm sim --seed ${seed}`,
    `pnpm sim --seed ${seed} --shrink`,
    `SEED=${seed} pnpm vitest run packages/sim/test/sim-campaign-1.test.ts`,
  ];
}

/** A failure report: seed, replay commands, violations and the trace tail. */
export function describeFailure(o: ScheduleOutcome): string {
  return [
    `seed ${o.seed} failed ${o.violations.length} check(s):`,
    ...o.violations.slice(0, 20).map((v) => `  [${v.checker}] ${v.message}`),
    "replay with:",
    ...replayCommands(o.seed).map((c) => `  ${c}`),
    "trace tail:",
    ...o.result.traceTail.slice(-30).map((l) => `  ${l}`),
  ].join("\n");
}

/**
 * Shrinks the schedule of a failing seed with fast-check and returns the smallest schedule that
 * still breaks a checker, or undefined when the seed passes.
 */
export async function shrinkSeed(
  seed: number,
  shape: ScheduleShape = {},
  options: SimulationOptions = {},
): Promise<{ schedule: Schedule; violations: Violation[] } | undefined> {
  let smallest: { schedule: Schedule; violations: Violation[] } | undefined;
  await fc.check(
    fc.asyncProperty(scheduleArbitrary(shape), async (schedule) => {
      const { violations } = await checkSchedule(schedule, options);
      if (violations.length > 0) smallest = { schedule, violations };
      return violations.length === 0;
    }),
    { seed, numRuns: 1 },
  );
  return smallest;
}
