import { relative } from "node:path";
import { expect } from "vitest";

/**
 * The seed of one randomized test: `SEED` from the environment to replay a failure, else a fresh
 * one. Printed with the command that replays it.
 */
export function testSeed(): number {
  const fromEnv = process.env.SEED;
  const seed =
    fromEnv !== undefined && fromEnv !== ""
      ? Number(fromEnv)
      : Math.floor(Math.random() * 0x7fff_ffff);
  if (!Number.isSafeInteger(seed)) throw new Error(`SEED must be an integer, got "${fromEnv}"`);
  const testPath = expect.getState().testPath;
  const file = testPath === undefined ? "<file>" : relative(process.cwd(), testPath);
  console.log(`seed=${seed} (replay: SEED=${seed} npx vitest run ${file})`);
  return seed;
}
