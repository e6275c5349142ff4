/**
 * `pnpm sim`: simulation campaigns from the command line.
 *
 *   pnpm sim --seeds N [--from S]   run N schedules, seeds S..S+N-1 (S random when omitted)
 *   pnpm sim --seed S [--shrink] [--trace]
 *   --regions N, --max-faults N, --max-ops N   reshape the generated schedules (default 3, 6, 50)
 *   --gc on|off                                garbage collection in runs (default on)
 *                                   replay one seed; shrink it to a minimal failing schedule;
 *                                   print its whole event trace
 *
 * Exits 1 when any schedule breaks a checker, printing its seed and the commands that replay it.
 */
import { parseArgs } from "node:util";
import { describeFailure, runSeed, shrinkSeed } from "./campaign.ts";
import { type ScheduleShape, scheduleForSeed } from "./schedule-arbitrary.ts";
import { runSimulation, type SimulationOptions } from "./simulation.ts";

const USAGE = `usage: pnpm sim [--seeds N] [--from S] | --seed S [--shrink] [--trace]
  [--regions N] [--max-faults N] [--max-ops N] [--gc on|off]`;

/** Stops the process with a usage error: bad flags are the caller's, not a failing campaign. */
function usageError(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

function parseFlags() {
  try {
    return parseArgs({
      options: {
        seeds: { type: "string" },
        from: { type: "string" },
        seed: { type: "string" },
        shrink: { type: "boolean", default: false },
        trace: { type: "boolean", default: false },
        regions: { type: "string" },
        "max-faults": { type: "string" },
        "max-ops": { type: "string" },
        gc: { type: "string" },
        help: { type: "boolean", default: false },
      },
    }).values;
  } catch (e) {
    return usageError((e as Error).message);
  }
}

const values = parseFlags();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
for (const flag of ["seeds", "from", "seed", "regions", "max-faults", "max-ops"] as const) {
  const v = values[flag];
  if (v !== undefined && !/^\d+$/.test(v)) usageError(`--${flag} takes a whole number, not ${v}`);
}
if (values.gc !== undefined && values.gc !== "on" && values.gc !== "off") {
  usageError(`--gc takes on or off, not ${values.gc}`);
}
const gc = values.gc === "off" ? "off" : "on";
const options: SimulationOptions = { gc };

const REGION_NAMES = ["eu", "us", "ap", "sa", "af", "me", "oc"];
const shape: ScheduleShape = {
  ...(values.regions !== undefined
    ? { regions: REGION_NAMES.slice(0, Math.max(2, Number(values.regions))) }
    : {}),
  ...(values["max-faults"] !== undefined ? { maxFaults: Number(values["max-faults"]) } : {}),
  ...(values["max-ops"] !== undefined ? { maxOps: Number(values["max-ops"]) } : {}),
};
const SHAPE_FLAGS = ["--regions", "--max-faults", "--max-ops", "--gc"];
const reshaped = Object.keys(shape).length > 0 || values.gc !== undefined;
/** The flags that reproduce the shape, for replay commands. */
const shapeFlags = process.argv
  .slice(2)
  .filter((a, i, all) => SHAPE_FLAGS.includes(a) || SHAPE_FLAGS.includes(all[i - 1] ?? ""))
  .join(" ");

async function main(): Promise<number> {
  if (values.seed !== undefined) return replay(Number(values.seed));
  const count = Number(values.seeds ?? "100");
  // The campaign's start is chosen outside any run; every run itself is a pure function of its seed.
  const from =
    values.from !== undefined ? Number(values.from) : Math.floor(Math.random() * 2 ** 30);
  const started = process.hrtime.bigint();
  let failed = 0;
  let ran = 0;
  for (let seed = from; seed < from + count; seed++) {
    const outcome = await runSeed(seed, shape, options);
    ran += 1;
    if (outcome.violations.length > 0) {
      failed += 1;
      console.log(describeFailure(outcome));
      if (reshaped) console.log(`  (add ${shapeFlags} to the pnpm sim commands)`);
    }
    if (ran % 100 === 0) console.log(`… ${ran} schedules, ${failed} failed`);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(
    `ran ${ran} schedules (seeds ${from}..${from + count - 1}), ${failed} failed, in ${seconds.toFixed(1)} s`,
  );
  return failed > 0 ? 1 : 0;
}

async function replay(seed: number): Promise<number> {
  if (values.trace) {
    const lines: string[] = [];
    await runSimulation(scheduleForSeed(seed, shape), { ...options, traceLines: lines });
    for (const l of lines) console.log(l);
  }
  const outcome = await runSeed(seed, shape, options);
  console.log(`seed ${seed}: ${outcome.result.events} events, trace ${outcome.result.traceHash}`);
  if (outcome.violations.length === 0) {
    console.log("all checkers pass");
    return 0;
  }
  console.log(describeFailure(outcome));
  if (values.shrink) {
    const smallest = await shrinkSeed(seed, shape, options);
    if (smallest !== undefined) {
      console.log("smallest failing schedule:");
      console.log(JSON.stringify(smallest.schedule));
      for (const v of smallest.violations) console.log(`  [${v.checker}] ${v.message}`);
    }
  }
  return 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(2);
  },
);
