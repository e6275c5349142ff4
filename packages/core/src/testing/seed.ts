/**
 * Seeds and budgets for randomized tests: every run prints its seed, and `SEED=<n>` replays it.
 *
 * @remarks This is test tooling, the one place in core that reads the environment and ambient
 * randomness; production code never imports it.
 */

/** Default number of runs of a property (CI's fixed budget). */
export const DEFAULT_RUNS = 1000;

/** `fc.assert` parameters for one property: its run budget and its seed. */
export interface PropertyParams {
  readonly numRuns: number;
  readonly seed: number;
}

/**
 * The seed and budget for the property `label`: seed from `SEED` if set, else random; runs from
 * `RUNS` if set, else `runs`. Logs the seed so that a failing run can be replayed.
 */
export function propertyParams(label: string, runs = DEFAULT_RUNS): PropertyParams {
  const fromEnv = process.env.SEED;
  const seed = fromEnv !== undefined && fromEnv !== "" ? Number(fromEnv) : randomSeed();
  if (!Number.isSafeInteger(seed)) throw new Error(`SEED must be an integer, got "${fromEnv}"`);
  const budget = process.env.RUNS;
  const numRuns = budget !== undefined && budget !== "" ? Number(budget) : runs;
  if (!Number.isSafeInteger(numRuns) || numRuns < 1) {
    throw new Error(`RUNS must be a positive integer, got "${budget}"`);
  }
  console.log(`[property] ${label}: seed=${seed} runs=${numRuns} (replay with SEED=${seed})`);
  return { numRuns, seed };
}

function randomSeed(): number {
  return Math.floor(Math.random() * 0x7fff_ffff);
}
