import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ClockSkewError,
  compareHlc,
  type Hlc,
  HLC_ZERO,
  HybridClock,
  maxHlc,
} from "../src/index.ts";
import { FakeClock, smallHlcArb } from "./arbitraries.ts";
import { fcSeed } from "./seed.ts";

const MAX_LOGICAL = 0xffff_ffff;

describe("compareHlc", () => {
  it("orders by wall, then logical, then node id", () => {
    const sorted: Hlc[] = [
      HLC_ZERO,
      { wall: 1, logical: 0, node: "b" },
      { wall: 1, logical: 1, node: "a" },
      { wall: 2, logical: 0, node: "a" },
      { wall: 2, logical: 0, node: "b" },
      { wall: 2, logical: 0, node: "b\u0000" },
      { wall: 2, logical: 0, node: "c" },
    ];
    const shuffled = [
      sorted[4]!,
      sorted[6]!,
      sorted[0]!,
      sorted[2]!,
      sorted[5]!,
      sorted[1]!,
      sorted[3]!,
    ];
    expect(shuffled.sort(compareHlc)).toEqual(sorted);
  });

  it("breaks ties between two nodes that issue at the same physical time by node id", () => {
    const clock = new FakeClock(1000);
    const eu = new HybridClock("eu", clock).now();
    const us = new HybridClock("us", clock).now();
    expect(eu).toEqual({ wall: 1000, logical: 0, node: "eu" });
    expect(compareHlc(eu, us)).toBeLessThan(0);
    expect(compareHlc(us, eu)).toBeGreaterThan(0);
    expect(maxHlc(eu, us)).toBe(us);
    expect(maxHlc(us, eu)).toBe(us);
  });

  it("is a total order: antisymmetric, transitive, zero only on equal timestamps", () => {
    fc.assert(
      fc.property(smallHlcArb(), smallHlcArb(), smallHlcArb(), (a, b, c) => {
        const ab = compareHlc(a, b);
        expect(Math.sign(ab) + Math.sign(compareHlc(b, a))).toBe(0);
        expect(ab === 0).toBe(a.wall === b.wall && a.logical === b.logical && a.node === b.node);
        if (ab <= 0 && compareHlc(b, c) <= 0) expect(compareHlc(a, c)).toBeLessThanOrEqual(0);
        expect(compareHlc(maxHlc(a, b), a)).toBeGreaterThanOrEqual(0);
        expect(compareHlc(maxHlc(a, b), b)).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 1000, seed: fcSeed() },
    );
  });
});

describe("HybridClock.now", () => {
  it("is strictly increasing when the physical clock stands still or goes backwards", () => {
    const clock = new FakeClock(5000);
    const hlc = new HybridClock("eu", clock);
    const issued: Hlc[] = [];
    for (const t of [5000, 5000, 5000, 4000, 0, 4999, 5000, 5001, 5001, 3000]) {
      clock.t = t;
      issued.push(hlc.now());
    }
    for (let i = 1; i < issued.length; i++) {
      expect(compareHlc(issued[i - 1]!, issued[i]!)).toBeLessThan(0);
    }
    expect(issued[0]).toEqual({ wall: 5000, logical: 0, node: "eu" });
    expect(issued[1]).toEqual({ wall: 5000, logical: 1, node: "eu" });
    expect(issued[4]).toEqual({ wall: 5000, logical: 4, node: "eu" });
    expect(issued[7]).toEqual({ wall: 5001, logical: 0, node: "eu" });
    expect(issued[9]).toEqual({ wall: 5001, logical: 2, node: "eu" });
  });

  it("moves the wall forward instead of overflowing the logical counter", () => {
    const clock = new FakeClock(10);
    const hlc = new HybridClock("eu", clock, { highWater: { wall: 10, logical: MAX_LOGICAL } });
    expect(hlc.now()).toEqual({ wall: 11, logical: 0, node: "eu" });
    expect(hlc.now()).toEqual({ wall: 11, logical: 1, node: "eu" });
  });
});

describe("HybridClock.receive", () => {
  it("returns a time greater than both the local clock and the remote timestamp", () => {
    const clock = new FakeClock(1000);
    const hlc = new HybridClock("eu", clock);
    const local = hlc.now();
    // Remote ahead (within the skew limit), behind, and equal in wall with a larger counter.
    const remotes: Hlc[] = [
      { wall: 3000, logical: 7, node: "us" },
      { wall: 10, logical: 99, node: "ap" },
      { wall: 3000, logical: 9, node: "ap" },
    ];
    let last = local;
    for (const remote of remotes) {
      const got = hlc.receive(remote);
      expect(compareHlc(got, last)).toBeGreaterThan(0);
      expect(compareHlc(got, remote)).toBeGreaterThan(0);
      expect(got.node).toBe("eu");
      last = got;
    }
    expect(last).toEqual({ wall: 3000, logical: 10, node: "eu" });
    expect(compareHlc(hlc.now(), last)).toBeGreaterThan(0);
  });

  it("takes physical time when it is ahead of both", () => {
    const clock = new FakeClock(1000);
    const hlc = new HybridClock("eu", clock);
    hlc.now();
    clock.t = 2000;
    expect(hlc.receive({ wall: 1500, logical: 3, node: "us" })).toEqual({
      wall: 2000,
      logical: 0,
      node: "eu",
    });
  });

  it("refuses a timestamp more than maxClockSkewMs ahead and leaves the clock unchanged", () => {
    const clock = new FakeClock(10_000);
    const hlc = new HybridClock("eu", clock, { maxClockSkewMs: 5000 });
    hlc.now();
    hlc.now();
    const before = hlc.highWater();
    const ahead = { wall: 15_001, logical: 0, node: "us" };
    expect(() => hlc.receive(ahead)).toThrow(ClockSkewError);
    try {
      hlc.receive(ahead);
    } catch (e) {
      expect(e).toBeInstanceOf(ClockSkewError);
      expect((e as ClockSkewError).code).toBe("MERIDIAN_ERR_CLOCK_SKEW");
      expect((e as ClockSkewError).remoteWall).toBe(15_001);
      expect((e as ClockSkewError).localWall).toBe(10_000);
    }
    expect(() => hlc.check(ahead)).toThrow(ClockSkewError);
    expect(hlc.highWater()).toEqual(before);
    expect(hlc.now()).toEqual({ wall: 10_000, logical: 2, node: "eu" });
    // Exactly at the limit is accepted.
    expect(hlc.receive({ wall: 15_000, logical: 0, node: "us" })).toEqual({
      wall: 15_000,
      logical: 1,
      node: "eu",
    });
  });

  it("defaults maxClockSkewMs to 5 s", () => {
    const clock = new FakeClock(0);
    const hlc = new HybridClock("eu", clock);
    expect(hlc.maxClockSkewMs).toBe(5000);
    expect(() => hlc.receive({ wall: 5001, logical: 0, node: "us" })).toThrow(ClockSkewError);
    expect(hlc.receive({ wall: 5000, logical: 0, node: "us" }).wall).toBe(5000);
  });
});

describe("HybridClock restart", () => {
  it("never issues a timestamp at or below one issued before the restart", () => {
    const clock = new FakeClock(50_000);
    const before = new HybridClock("eu", clock);
    const issuedBefore = [
      before.now(),
      before.now(),
      before.receive({ wall: 52_000, logical: 4, node: "us" }),
    ];
    // The machine comes back with its physical clock 30 s behind.
    clock.t = 20_000;
    const after = new HybridClock("eu", clock, { highWater: before.highWater() });
    const first = after.now();
    for (const old of issuedBefore) expect(compareHlc(first, old)).toBeGreaterThan(0);
    expect(first).toEqual({ wall: 52_000, logical: 6, node: "eu" });
  });

  it("without the high-water mark it would go backwards (the mark is what protects it)", () => {
    const clock = new FakeClock(50_000);
    const before = new HybridClock("eu", clock).now();
    clock.t = 20_000;
    expect(compareHlc(new HybridClock("eu", clock).now(), before)).toBeLessThan(0);
  });
});

type ClockOp =
  | { readonly kind: "now" }
  | { readonly kind: "jump"; readonly by: number }
  | {
      readonly kind: "receive";
      readonly ahead: number;
      readonly logical: number;
      readonly node: string;
    }
  | { readonly kind: "restart"; readonly back: number };

const clockOpArb: fc.Arbitrary<ClockOp> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: "now" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("jump" as const),
      by: fc.integer({ min: -3000, max: 3000 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("receive" as const),
      // Relative to physical time; beyond +5000 is over the default skew limit.
      ahead: fc.integer({ min: -4000, max: 7000 }),
      logical: fc.oneof(fc.nat({ max: 5 }), fc.constant(MAX_LOGICAL)),
      node: fc.constantFrom("ap", "eu", "us"),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("restart" as const), back: fc.nat({ max: 60_000 }) }),
  },
);

describe("HybridClock under random histories", () => {
  it("every timestamp it issues is greater than everything issued or received before", () => {
    fc.assert(
      fc.property(fc.array(clockOpArb, { maxLength: 60 }), (ops) => {
        const clock = new FakeClock(100_000);
        let hlc = new HybridClock("eu", clock);
        let highest: Hlc = HLC_ZERO;
        const issue = (t: Hlc) => {
          expect(compareHlc(t, highest)).toBeGreaterThan(0);
          expect(t.node).toBe("eu");
          highest = t;
        };
        for (const op of ops) {
          switch (op.kind) {
            case "now":
              issue(hlc.now());
              break;
            case "jump":
              clock.t = Math.max(0, clock.t + op.by);
              break;
            case "restart":
              clock.t = Math.max(0, clock.t - op.back);
              hlc = new HybridClock("eu", clock, { highWater: hlc.highWater() });
              break;
            case "receive": {
              const remote = {
                wall: Math.max(0, clock.t + op.ahead),
                logical: op.logical,
                node: op.node,
              };
              if (remote.wall - clock.t > hlc.maxClockSkewMs) {
                const mark = hlc.highWater();
                expect(() => hlc.receive(remote)).toThrow(ClockSkewError);
                expect(hlc.highWater()).toEqual(mark);
              } else {
                const got = hlc.receive(remote);
                expect(compareHlc(got, remote)).toBeGreaterThan(0);
                issue(got);
              }
              break;
            }
          }
          expect(hlc.highWater()).toEqual({ wall: highest.wall, logical: highest.logical });
        }
      }),
      { numRuns: 1000, seed: fcSeed() },
    );
  });
});
