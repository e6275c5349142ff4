import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  isCanonicalLifetimes,
  type Lifetime,
  type LifetimeRegister,
  legacyLifetime,
  lifetimeEnd,
  MAX_LIFETIMES,
  mergeLifetimes,
  mergeSession,
  normalizeLifetimes,
  packValue,
  planWrite,
  type SessionState,
  SessionExpiredError,
  type Stamp,
  sessionStatus,
  softExpiry,
} from "../src/index.ts";
import { lifetimesArb } from "./arbitraries.ts";
import { fcSeed } from "./seed.ts";

const ID = "lifetime-session-001";
const stamp = (wall: number, node: string, seq = 1): Stamp => ({
  hlc: { wall, logical: 0, node },
  seq,
});
const life = (from: number, until: number, s: Stamp): Lifetime => ({ from, until, stamp: s });
const state = (...lifetimes: Lifetime[]): SessionState => ({
  id: ID,
  fields: new Map(),
  lifetimes: normalizeLifetimes(lifetimes),
});

function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [[...xs]];
  return xs.flatMap((x, i) =>
    permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest]),
  );
}

/** The end of the run holding the earliest start, by brute force: grow it to a fixpoint. */
function modelEnd(all: readonly Lifetime[]): number {
  let end = all.reduce((m, l) => (l.from < m.from ? l : m)).until;
  for (;;) {
    const next = Math.max(end, ...all.filter((l) => l.from <= end).map((l) => l.until));
    if (next === end) return end;
    end = next;
  }
}

describe("lifetime join: concrete intervals", () => {
  // A: created at 3 s with a 3 s ttl. B: created at 8 s for 60 s by a region that never saw A.
  // C: a touch made at 5 s, while A lived, for 4 s; it reaches into B.
  const A = life(3000, 6000, stamp(3000, "eu"));
  const B = life(8000, 68_000, stamp(8000, "ap"));
  const C = life(3000, 9000, stamp(5000, "us"));

  it("A and B: expired at 6000 in every arrival order; B does not revive it", () => {
    for (const order of permutations([A, B])) {
      const s = order.map((l) => state(l)).reduce(mergeSession);
      expect(softExpiry(s)).toBe(6000);
      expect(sessionStatus(s, 6000)).toBe("live");
      expect(sessionStatus(s, 6001)).toBe("expired");
      expect(sessionStatus(s, 9000)).toBe("expired");
    }
  });

  it("C bridges the gap: expiry 68000 in every arrival order and grouping", () => {
    for (const order of permutations([A, B, C])) {
      const left = order.map((l) => state(l)).reduce(mergeSession);
      const right = order.map((l) => state(l)).reduceRight((acc, s) => mergeSession(s, acc));
      for (const s of [left, right]) {
        expect(softExpiry(s)).toBe(68_000);
        // C contains A, so A's element is dropped: the union is unchanged.
        expect(s.lifetimes).toEqual([C, B]);
      }
    }
  });

  it("a write made exactly at the expiry moment still extends the session (inclusive times)", () => {
    expect(lifetimeEnd([life(0, 10, stamp(0, "eu")), life(10, 20, stamp(10, "us"))])).toBe(20);
    expect(lifetimeEnd([life(0, 10, stamp(0, "eu")), life(11, 20, stamp(11, "us"))])).toBe(10);
  });
});

describe("lifetime join: properties", () => {
  const reg = () => lifetimesArb();

  it("is commutative, associative and idempotent, and ends the first run", () => {
    fc.assert(
      fc.property(reg(), reg(), reg(), (a, b, c) => {
        expect(mergeLifetimes(a, b)).toEqual(mergeLifetimes(b, a));
        expect(mergeLifetimes(mergeLifetimes(a, b), c)).toEqual(
          mergeLifetimes(a, mergeLifetimes(b, c)),
        );
        expect(mergeLifetimes(a, a)).toBe(a);
        const ab = mergeLifetimes(a, b);
        expect(isCanonicalLifetimes(ab)).toBe(true);
        expect(lifetimeEnd(ab)).toBe(modelEnd([...a, ...b]));
      }),
      { numRuns: 2000, seed: fcSeed() },
    );
  });

  it("any permutation and duplication of the same lifetimes gives the same register", () => {
    const arb = fc
      .array(
        fc
          .tuple(fc.nat({ max: 30 }), fc.integer({ min: 1, max: 12 }), fc.nat({ max: 5 }))
          .map(([from, len, n]) => life(from, from + len, stamp(from, `n${n}`, from + 1))),
        { minLength: 1, maxLength: 8 },
      )
      .chain((ls) =>
        fc.tuple(
          fc.constant(ls),
          fc.shuffledSubarray([...ls, ...ls], { minLength: 2 * ls.length }),
        ),
      );
    fc.assert(
      fc.property(arb, ([ls, delivered]) => {
        const once = ls.map((l) => [l] as LifetimeRegister).reduce(mergeLifetimes);
        const again = delivered.map((l) => [l] as LifetimeRegister).reduce(mergeLifetimes);
        expect(again).toEqual(once);
        expect(lifetimeEnd(once)).toBe(modelEnd(ls));
      }),
      { numRuns: 2000, seed: fcSeed() },
    );
  });

  it("the canonical check refuses empty, inverted, unsorted, nested and oversized lists", () => {
    const s = stamp(1, "eu");
    expect(isCanonicalLifetimes([])).toBe(false);
    expect(isCanonicalLifetimes([life(5, 5, s)])).toBe(false);
    expect(isCanonicalLifetimes([life(6, 5, s)])).toBe(false);
    expect(isCanonicalLifetimes([life(5, 9, s), life(1, 3, s)])).toBe(false);
    expect(isCanonicalLifetimes([life(1, 9, s), life(2, 5, s)])).toBe(false);
    expect(isCanonicalLifetimes([life(1, 5, s), life(1, 9, s)])).toBe(false);
    expect(isCanonicalLifetimes([life(1, 5, s), life(3, 9, s), life(20, 30, s)])).toBe(true);
    const many = Array.from({ length: MAX_LIFETIMES + 1 }, (_, i) => life(i, i + 1, s));
    expect(isCanonicalLifetimes(many)).toBe(false);
    expect(isCanonicalLifetimes(many.slice(1))).toBe(true);
  });

  it("past the cap a join keeps the earliest-starting lifetimes, the first run among them", () => {
    const s = (i: number) => stamp(i, "eu", i + 1);
    const run = life(0, 50, s(0));
    // Disjoint revival attempts after the run ended, more than any decoder accepts.
    const later = Array.from({ length: MAX_LIFETIMES + 20 }, (_, i) =>
      life(100 + 10 * i, 105 + 10 * i, s(i + 1)),
    );
    const merged = [run, ...later].map((l) => [l] as LifetimeRegister).reduce(mergeLifetimes);
    expect(merged).toHaveLength(MAX_LIFETIMES);
    expect(merged[0]).toBe(run);
    expect(isCanonicalLifetimes(merged)).toBe(true);
    expect(lifetimeEnd(merged)).toBe(50);
  });

  it("reads an old single expiry as the lifetime of the write that set it", () => {
    expect(legacyLifetime(9000, stamp(3000, "eu"))).toEqual(life(3000, 9000, stamp(3000, "eu")));
    expect(legacyLifetime(5, stamp(3000, "eu"))).toEqual(life(4, 5, stamp(3000, "eu")));
    expect(legacyLifetime(0, stamp(3000, "eu")).until).toBe(1);
  });
});

describe("planWrite and lifetimes", () => {
  const put = (ttlMs: number) =>
    ({ op: "replace", data: new Map([["k", packValue(1)]]), ttlMs }) as const;

  it("a region that never saw the session creates [now, now + ttl]; after the merge it stays expired", () => {
    const a = planWrite(undefined, put(3000), stamp(3000, "eu"), 3000, ID);
    expect(a.lifetimes).toEqual([life(3000, 6000, stamp(3000, "eu"))]);
    const b = planWrite(undefined, put(60_000), stamp(8000, "ap"), 8000, ID);
    const merged = mergeSession(a, b);
    expect(sessionStatus(merged, 25_000)).toBe("expired");
    // And a region that holds the merge refuses further writes.
    expect(() => planWrite(merged, put(1000), stamp(25_000, "us"), 25_000, ID)).toThrow(
      SessionExpiredError,
    );
  });

  it("a touch while live extends the run it saw from its start, and a shorter one adds nothing", () => {
    const created = planWrite(undefined, put(3000), stamp(3000, "eu"), 3000, ID);
    const touch = planWrite(
      created,
      { op: "touch", ttlMs: 4000, defaultTtlMs: null },
      stamp(5000, "us"),
      5000,
      ID,
    );
    expect(touch.lifetimes).toEqual([life(3000, 9000, stamp(5000, "us"))]);
    const shorter = planWrite(
      mergeSession(created, touch),
      { op: "touch", ttlMs: 1000, defaultTtlMs: null },
      stamp(6000, "us", 2),
      6000,
      ID,
    );
    expect(shorter.lifetimes).toBeUndefined();
    expect(shorter.lastAccess?.at).toBe(6000);
  });

  it("a node whose clock is behind the run's start does not stretch the run back in time", () => {
    const seen = state(life(10_000, 20_000, stamp(10_000, "eu")));
    const touch = planWrite(
      seen,
      { op: "touch", ttlMs: 15_000, defaultTtlMs: null },
      stamp(9000, "us"),
      9000,
      ID,
    );
    expect(touch.lifetimes).toEqual([life(10_000, 24_000, stamp(9000, "us"))]);
  });
});
