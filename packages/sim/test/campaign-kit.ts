import { describeFailure, runSeed } from "@meridian/sim";
import { expect, it } from "vitest";

/**
 * Registers one test per seed of a campaign block, or only the seed in `SEED` when it is set
 * (the replay command a failure prints).
 */
export function campaignBlock(file: string, from: number, count: number): void {
  const replay = process.env.SEED;
  const seeds =
    replay !== undefined ? [Number(replay)] : Array.from({ length: count }, (_, i) => from + i);
  console.log(
    replay !== undefined
      ? `replaying seed ${replay}`
      : `simulation seeds ${from}..${from + count - 1} (replay one with SEED=<seed>)`,
  );
  for (const seed of seeds) {
    it(`seed ${seed}`, async () => {
      const outcome = await runSeed(seed);
      if (outcome.violations.length > 0) {
        console.log(
          `${describeFailure(outcome)}\n  SEED=${seed} pnpm vitest run packages/sim/test/${file}`,
        );
      }
      expect(outcome.violations).toEqual([]);
    });
  }
}
