import { describe, expect, it } from "vitest";
import { SessionVersions } from "../src/session-versions.ts";
import { seededRng } from "../src/testing/index.ts";
import { testSeed } from "./seed.ts";

describe("SessionVersions", () => {
  it("answers the newest token of a session", () => {
    const v = new SessionVersions(10);
    v.remember("a", "1");
    v.remember("b", "2");
    v.remember("a", "3");
    expect(v.tokenOf("a")).toBe("3");
    expect(v.tokenOf("b")).toBe("2");
    expect(v.tokenOf("c")).toBeUndefined();
  });

  it("always remembers the last `capacity` sessions written, and at most twice as many", () => {
    const capacity = 50;
    const v = new SessionVersions(capacity);
    for (let i = 0; i < 1000; i++) {
      v.remember(`s${i}`, `t${i}`);
      for (let j = Math.max(0, i - capacity + 1); j <= i; j++) {
        expect(v.tokenOf(`s${j}`)).toBe(`t${j}`);
      }
      expect(v.size).toBeLessThanOrEqual(2 * capacity);
    }
    expect(v.tokenOf("s0")).toBeUndefined();
  });

  it("keeps a session written again and again while others come and go", () => {
    const v = new SessionVersions(8);
    for (let i = 0; i < 200; i++) {
      v.remember("hot", `h${i}`);
      v.remember(`cold${i}`, "c");
      expect(v.tokenOf("hot")).toBe(`h${i}`);
    }
    // A token from an older generation never hides a newer one.
    expect(v.tokenOf("hot")).toBe("h199");
  });

  it("against the strict LRU it replaces: never forgets what the LRU keeps, never answers a stale token", () => {
    const seed = testSeed();
    const rng = seededRng(seed);
    for (const capacity of [1, 2, 3, 7, 32]) {
      const v = new SessionVersions(capacity);
      /** The old SessionVersions: the `capacity` sessions written last, oldest first. */
      const lru = new Map<string, string>();
      const newest = new Map<string, string>();
      for (let i = 0; i < 3000; i++) {
        const [a, b] = rng.bytes(2);
        // Few sessions written often, many written once: repeats within and across generations.
        const id = a! % 4 === 0 ? `hot${b! % 4}` : `s${(a! * 256 + b!) % (capacity * 5)}`;
        const token = `t${i}`;
        v.remember(id, token);
        newest.set(id, token);
        lru.delete(id);
        lru.set(id, token);
        if (lru.size > capacity) lru.delete(lru.keys().next().value!);
        const where = `seed ${seed}, capacity ${capacity}, write ${i}`;
        for (const [kept, t] of lru) expect(v.tokenOf(kept), `${where}, ${kept}`).toBe(t);
        for (const [known, t] of newest) {
          const got = v.tokenOf(known);
          if (got !== undefined) expect(got, `${where}, ${known}`).toBe(t);
        }
        expect(v.size, where).toBeLessThanOrEqual(2 * capacity);
      }
    }
  });
});
