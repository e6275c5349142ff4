import { setRegisterMergeOverride } from "@meridian/core/testing";
import { runSeed } from "@meridian/sim";
import { afterEach, describe, expect, it } from "vitest";

describe("the checkers catch a broken merge", () => {
  afterEach(() => setRegisterMergeOverride(undefined));

  it("arrival order instead of hlc order fails the oracle and convergence", async () => {
    // Whatever arrives last wins: commutativity is gone.
    setRegisterMergeOverride((_held, incoming) => incoming);
    const caught = new Set<string>();
    let failing: number | undefined;
    for (let seed = 1; seed <= 60 && caught.size < 2; seed++) {
      const outcome = await runSeed(seed);
      if (outcome.violations.length === 0) continue;
      failing ??= seed;
      for (const v of outcome.violations) caught.add(v.checker);
    }
    console.log(`broken merge first caught at seed ${failing}, by ${[...caught].join(", ")}`);
    expect(failing).toBeDefined();
    expect(caught.has("lww-oracle") || caught.has("convergence")).toBe(true);
  });

  it("the same seeds pass with the real merge", async () => {
    for (let seed = 1; seed <= 10; seed++) {
      expect((await runSeed(seed)).violations).toEqual([]);
    }
  });
});
