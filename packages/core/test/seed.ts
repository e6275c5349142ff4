import { relative } from "node:path";
import { expect } from "vitest";

/**
 * The seed for one randomized test: `SEED` from the environment when set (to replay a failure),
 * else a fresh random one. Either way it is printed with the command that replays it.
 *
 * @remarks Call it inside the test body so that the printed command names the right file.
 */
export function fcSeed(): number {
  const fromEnv = process.env.SEED;
  let seed: number;
  if (fromEnv !== undefined && fromEnv !== "") {
    seed = Number(fromEnv);
    if (!Number.isSafeInteger(seed)) throw new Error(`SEED must be an integer, got "${fromEnv}"`);
  } else {
    seed = Math.floor(Math.random() * 0x7fff_ffff);
  }
  const testPath = expect.getState().testPath;
  const file = testPath === undefined ? "<file>" : relative(process.cwd(), testPath);
  console.log(`seed=${seed} (replay: SEED=${seed} pnpm vitest run ${file})`);
  return seed;
}
