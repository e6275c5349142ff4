import { describe, expect, it } from "vitest";
import { backoffDelay, DEFAULT_BACKOFF, uniform } from "../src/backoff.ts";
import { seededRng } from "../src/testing/index.ts";
import { testSeed } from "./seed.ts";

describe("capped exponential backoff with full jitter", () => {
  it("draws every delay from [0, min(cap, base * 2^retry)) and spreads over the whole window", () => {
    const rng = seededRng(testSeed());
    for (let retry = 0; retry < 12; retry++) {
      const ceiling = Math.min(DEFAULT_BACKOFF.capMs, DEFAULT_BACKOFF.baseMs * 2 ** retry);
      const draws = Array.from({ length: 400 }, () => backoffDelay(retry, DEFAULT_BACKOFF, rng));
      for (const d of draws) {
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(ceiling);
      }
      // Full jitter: the draws cover the low and the high end of the window, not just its top.
      expect(Math.min(...draws)).toBeLessThan(ceiling * 0.1);
      expect(Math.max(...draws)).toBeGreaterThan(ceiling * 0.9 - 1);
    }
  });

  it("never waits past the cap, however many retries", () => {
    const rng = seededRng(testSeed());
    const backoff = { baseMs: 10, capMs: 300 };
    for (const retry of [10, 31, 100, 10_000]) {
      expect(backoffDelay(retry, backoff, rng)).toBeLessThan(300);
    }
  });

  it("gives the same delays for the same seed", () => {
    const seed = testSeed();
    const run = () => {
      const rng = seededRng(seed);
      return Array.from({ length: 20 }, (_, i) => backoffDelay(i % 6, DEFAULT_BACKOFF, rng));
    };
    expect(run()).toEqual(run());
  });

  it("maps 32 random bits onto [0, 1)", () => {
    expect(uniform({ bytes: (n) => new Uint8Array(n) })).toBe(0);
    expect(uniform({ bytes: (n) => new Uint8Array(n).fill(255) })).toBeLessThan(1);
  });
});
