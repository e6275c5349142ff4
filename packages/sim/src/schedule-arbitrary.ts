import fc from "fast-check";
import type { FaultSpec, OpSpec, Schedule, SimConsistency, Step } from "./schedule.ts";

/** Size and mix of generated schedules. */
export interface ScheduleShape {
  readonly regions?: readonly string[];
  readonly minOps?: number;
  readonly maxOps?: number;
  readonly maxFaults?: number;
  /** Steps happen within this many virtual ms from the start. */
  readonly horizonMs?: number;
}

const FIELDS = ["a", "b", "c", "d"] as const;

/**
 * An integer in [min, max]: mostly uniform, sometimes with fast-check's bias towards the small
 * end. Unbiased alone, no two operations would share a tick; biased alone, operations crowd the
 * first milliseconds (before links are up) and region 0.
 */
const spread = (min: number, max: number) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.noBias(fc.integer({ min, max })) },
    { weight: 1, arbitrary: fc.integer({ min, max }) },
  );

const consistency: fc.Arbitrary<SimConsistency> = fc.oneof(
  { arbitrary: fc.constant("local" as const), weight: 3 },
  { arbitrary: fc.constant("quorum" as const), weight: 2 },
  { arbitrary: fc.constant("all" as const), weight: 1 },
);
const fields = fc.subarray([...FIELDS], { minLength: 1 });
const key = spread(0, 4);
const ttlS = fc.oneof(fc.constant(null), spread(2, 40));
const user = fc.option(fc.nat({ max: 1 }), { nil: undefined });

const op: fc.Arbitrary<OpSpec> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc
      .record({
        consistency,
        set: fields,
        ttlS,
        idleS: fc.option(fc.integer({ min: 2, max: 20 }), { nil: undefined, freq: 4 }),
        maxLifetimeS: fc.option(fc.integer({ min: 3, max: 30 }), { nil: undefined, freq: 4 }),
        user,
      })
      .map(({ idleS, maxLifetimeS, user: u, ...rest }) => ({
        type: "create" as const,
        ...rest,
        ...(idleS !== undefined ? { idleS } : {}),
        ...(maxLifetimeS !== undefined ? { maxLifetimeS } : {}),
        ...(u !== undefined ? { user: u } : {}),
      })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({ key, consistency, set: fields, ttlS, user })
      .map(({ user: u, ...rest }) => ({
        type: "put" as const,
        ...rest,
        ...(u !== undefined ? { user: u } : {}),
      })),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({
        key,
        consistency,
        set: fields,
        unset: fc.subarray([...FIELDS], { maxLength: 2 }),
        ttlS: fc.option(spread(2, 40), { nil: undefined, freq: 3 }),
      })
      .map(({ ttlS: t, unset, set, ...rest }) => ({
        type: "patch" as const,
        ...rest,
        set,
        unset: unset.filter((f) => !set.includes(f)),
        ...(t !== undefined ? { ttlS: t } : {}),
      })),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({
        key,
        consistency,
        ttlS: fc.option(spread(2, 40), { nil: undefined }),
      })
      .map(({ ttlS: t, ...rest }) => ({
        type: "touch" as const,
        ...rest,
        ...(t !== undefined ? { ttlS: t } : {}),
      })),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant("delete" as const), key, consistency }) },
  {
    weight: 5,
    arbitrary: fc.record({
      type: fc.constant("get" as const),
      key,
      consistency,
      after: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant("revoke" as const),
      user: fc.nat({ max: 1 }),
      consistency,
    }),
  },
);

const region = spread(0, 11);
const perMille = (max: number) => fc.integer({ min: 0, max }).map((n) => n / 1000);

const fault: fc.Arbitrary<FaultSpec> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      type: fc.constant("partition" as const),
      shape: fc.constantFrom("halves", "isolate", "one-way", "ring", "bridge"),
      target: region,
      durationMs: spread(500, 15_000),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant("chaos" as const),
      // Per mille, as integers: fast-check's doubles crowd near zero, which makes no chaos.
      loss: perMille(300),
      duplicate: perMille(200),
      reorder: perMille(300),
      durationMs: spread(500, 10_000),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant("skew" as const),
      region,
      // Mostly within the limit (pairwise under maxClockSkew), sometimes beyond it.
      ms: fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: -2_000, max: 2_000 }) },
        { weight: 1, arbitrary: fc.integer({ min: -9_000, max: 9_000 }) },
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant("jump" as const),
      region,
      ms: fc.integer({ min: -3_000, max: 3_000 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant("pause" as const),
      region,
      durationMs: spread(100, 6_000),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant("crash" as const),
      region,
      downMs: spread(50, 8_000),
      wipe: fc.boolean(),
    }),
  },
);

/**
 * Generated schedules: a workload of client operations at random regions and consistency levels,
 * interleaved with faults, for fast-check to generate and shrink.
 *
 * @remarks A schedule is plain data, so fast-check shrinks it like any array (fewer steps,
 * shorter faults, smaller skews) and a counterexample prints as JSON that replays as is.
 */
export function scheduleArbitrary(shape: ScheduleShape = {}): fc.Arbitrary<Schedule> {
  const horizon = shape.horizonMs ?? 20_000;
  const at = spread(0, horizon);
  const opStep: fc.Arbitrary<Step> = fc
    .record({ at, region, op })
    .map((s) => ({ kind: "op" as const, ...s }));
  const faultStep: fc.Arbitrary<Step> = fc
    .record({ at, fault })
    .map((s) => ({ kind: "fault" as const, ...s }));
  return fc
    .record({
      seed: fc.nat(),
      // SQLite (crashes keep the file unless wiped) or the in-memory store (a crash wipes it).
      storage: fc.constantFrom("memory" as const, "sqlite" as const),
      ops: fc.array(opStep, { minLength: shape.minOps ?? 15, maxLength: shape.maxOps ?? 50 }),
      faults: fc.array(faultStep, { maxLength: shape.maxFaults ?? 6 }),
    })
    .map(({ seed, storage, ops, faults }) => ({
      seed,
      regions: shape.regions ?? ["eu", "us", "ap"],
      storage,
      steps: [...ops, ...faults],
    }));
}

/**
 * The schedule a campaign seed stands for: the first value fast-check generates with that seed.
 *
 * @remarks Stable for a given fast-check version, so `pnpm sim --seed S` replays what a campaign
 * ran, and shrinking that seed with fast-check starts from the same schedule.
 */
export function scheduleForSeed(seed: number, shape: ScheduleShape = {}): Schedule {
  return fc.sample(scheduleArbitrary(shape), { seed, numRuns: 1 })[0]!;
}
