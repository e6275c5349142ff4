import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { VersionVector } from "../src/index.ts";
import { fcSeed } from "./seed.ts";

const ORIGINS = ["eu", "us", "ap"] as const;
type Model = Map<string, Set<number>>;

type VvOp =
  | { readonly kind: "add"; readonly origin: string; readonly seq: number }
  | { readonly kind: "range"; readonly origin: string; readonly lo: number; readonly hi: number };

const opArb: fc.Arbitrary<VvOp> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("add" as const),
      origin: fc.constantFrom(...ORIGINS),
      seq: fc.integer({ min: 1, max: 30 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({
        origin: fc.constantFrom(...ORIGINS),
        lo: fc.integer({ min: -2, max: 30 }),
        len: fc.integer({ min: -2, max: 6 }),
      })
      .map(({ origin, lo, len }) => ({ kind: "range" as const, origin, lo, hi: lo + len })),
  },
);

function run(ops: readonly VvOp[]): { vv: VersionVector; model: Model } {
  const vv = new VersionVector();
  const model: Model = new Map();
  for (const op of ops) apply(vv, model, op);
  return { vv, model };
}

function apply(vv: VersionVector, model: Model, op: VvOp): void {
  const set = model.get(op.origin) ?? new Set<number>();
  if (op.kind === "add") {
    expect(vv.add({ origin: op.origin, seq: op.seq })).toBe(!set.has(op.seq));
    set.add(op.seq);
  } else {
    vv.addRange(op.origin, op.lo, op.hi);
    for (let s = Math.max(op.lo, 1); s <= op.hi; s++) set.add(s);
  }
  if (set.size > 0) model.set(op.origin, set);
}

/** What a vector must say about one origin, computed from the plain set of sequence numbers. */
function expected(set: Set<number> | undefined) {
  const seqs = [...(set ?? [])].sort((a, b) => a - b);
  let base = 0;
  while (set?.has(base + 1)) base += 1;
  const ranges: [number, number][] = [];
  for (const s of seqs) {
    if (s <= base) continue;
    const last = ranges[ranges.length - 1];
    if (last !== undefined && s === last[1] + 1) last[1] = s;
    else ranges.push([s, s]);
  }
  return { base, ranges, max: seqs.length === 0 ? 0 : seqs[seqs.length - 1]! };
}

/** Compares everything the vector answers with what the model says it must answer. */
function expectMatches(vv: VersionVector, model: Model): void {
  const got: unknown[] = [];
  const want: unknown[] = [];
  for (const origin of ORIGINS) {
    const set = model.get(origin);
    const w = expected(set);
    got.push([origin, "base", vv.base(origin)], [origin, "max", vv.max(origin)]);
    want.push([origin, "base", w.base], [origin, "max", w.max]);
    for (let s = 1; s <= 40; s++) {
      got.push([origin, "has", s, vv.has({ origin, seq: s }), vv.hasSeq(origin, s)]);
      const held = set?.has(s) ?? false;
      want.push([origin, "has", s, held, held]);
    }
    for (let lo = -1; lo <= 36; lo += 3) {
      for (let hi = lo - 1; hi <= lo + 7; hi += 2) {
        let all = true;
        for (let s = Math.max(lo, 1); s <= hi; s++) all &&= set?.has(s) ?? false;
        got.push([origin, "coversRange", lo, hi, vv.coversRange(origin, lo, hi)]);
        want.push([origin, "coversRange", lo, hi, all]);
      }
    }
  }
  for (const [origin, coverage] of vv.entries()) got.push([origin, coverage]);
  for (const origin of [...model.keys()].sort()) {
    const w = expected(model.get(origin));
    want.push([origin, { base: w.base, ranges: w.ranges }]);
  }
  // Compare as text first: deep equality on every step of every run would dominate the test.
  if (JSON.stringify(got) !== JSON.stringify(want)) expect(got).toEqual(want);
}

const subset = (a: Model, b: Model) =>
  [...a].every(([origin, seqs]) => [...seqs].every((s) => b.get(origin)?.has(s) ?? false));

describe("VersionVector gaps", () => {
  it("holds writes received out of order above the contiguous base", () => {
    const vv = new VersionVector();
    for (const seq of [1, 2, 4, 5]) expect(vv.add({ origin: "eu", seq })).toBe(true);
    expect(vv.base("eu")).toBe(2);
    expect(vv.max("eu")).toBe(5);
    expect([...vv.entries()]).toEqual([["eu", { base: 2, ranges: [[4, 5]] }]]);
    expect(vv.has({ origin: "eu", seq: 3 })).toBe(false);
    expect(vv.has({ origin: "eu", seq: 4 })).toBe(true);
    expect(vv.coversRange("eu", 1, 5)).toBe(false);
    expect(vv.coversRange("eu", 4, 5)).toBe(true);
    expect(vv.toString()).toBe("eu:2+4-5");
    expect(vv.add({ origin: "eu", seq: 4 })).toBe(false);
    expect(vv.add({ origin: "eu", seq: 3 })).toBe(true);
    expect(vv.base("eu")).toBe(5);
    expect([...vv.entries()]).toEqual([["eu", { base: 5, ranges: [] }]]);
    expect(vv.coversRange("eu", 1, 5)).toBe(true);
    expect(vv.toString()).toBe("eu:5");
  });

  it("knows nothing of an origin it never saw", () => {
    const vv = new VersionVector();
    expect(vv.base("us")).toBe(0);
    expect(vv.max("us")).toBe(0);
    expect(vv.has({ origin: "us", seq: 1 })).toBe(false);
    expect(vv.coversRange("us", 1, 1)).toBe(false);
    expect(vv.covers(new VersionVector())).toBe(true);
    expect(vv.originIds()).toEqual([]);
  });

  it("agrees with a plain set of sequence numbers after any adds, in any order", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
        const vv = new VersionVector();
        const model: Model = new Map();
        for (const op of ops) {
          apply(vv, model, op);
          expectMatches(vv, model);
        }
      }),
      { numRuns: 1000, seed: fcSeed() },
    );
  });

  it("regression: an empty range is covered whether the origin is known or not", () => {
    // coversRange answered `hi < lo` for an unknown origin but could answer false for a known
    // one, and false for [0, 0] (no write has sequence number 0).
    const vv = new VersionVector();
    vv.add({ origin: "eu", seq: 1 });
    vv.add({ origin: "eu", seq: 3 });
    expect(vv.coversRange("eu", 9, 8)).toBe(true);
    expect(vv.coversRange("us", 9, 8)).toBe(true);
    expect(vv.coversRange("us", 0, 0)).toBe(true);
    expect(vv.coversRange("eu", 0, 1)).toBe(true);
    expect(vv.coversRange("eu", 0, 2)).toBe(false);
  });
});

describe("VersionVector merge, covers, from, entries", () => {
  it("merge is the union; covers is inclusion", () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 25 }),
        fc.array(opArb, { maxLength: 25 }),
        (xs, ys) => {
          const a = run(xs);
          const b = run(ys);
          expect(a.vv.covers(b.vv)).toBe(subset(b.model, a.model));
          expect(b.vv.covers(a.vv)).toBe(subset(a.model, b.model));
          expect(a.vv.covers(a.vv)).toBe(true);
          const union: Model = new Map();
          for (const m of [a.model, b.model]) {
            for (const [o, seqs] of m) union.set(o, new Set([...(union.get(o) ?? []), ...seqs]));
          }
          const merged = a.vv.clone();
          merged.merge(b.vv);
          expectMatches(merged, union);
          expect(merged.covers(a.vv) && merged.covers(b.vv)).toBe(true);
          // merge is commutative and idempotent
          const other = b.vv.clone();
          other.merge(a.vv);
          other.merge(a.vv);
          expect(other.toString()).toBe(merged.toString());
          // clone is deep: the merge left the original alone
          expectMatches(a.vv, a.model);
        },
      ),
      { numRuns: 1000, seed: fcSeed() },
    );
  });

  it("merges vectors with many gaps without going quadratic", () => {
    const odd = VersionVector.from([
      [
        "eu",
        {
          base: 0,
          ranges: Array.from({ length: 100_000 }, (_, i) => [2 * i + 1, 2 * i + 1] as const),
        },
      ],
    ]);
    expect(odd.base("eu")).toBe(1);
    const even = new VersionVector();
    even.merge(
      VersionVector.from([
        [
          "eu",
          {
            base: 0,
            ranges: Array.from({ length: 100_000 }, (_, i) => [2 * i + 2, 2 * i + 2] as const),
          },
        ],
      ]),
    );
    even.merge(odd);
    expect([...even.entries()]).toEqual([["eu", { base: 200_000, ranges: [] }]]);
  });

  it("from(entries()) round-trips, and from normalises overlapping or adjacent ranges", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
        const { vv, model } = run(ops);
        const back = VersionVector.from(vv.entries());
        expect([...back.entries()]).toEqual([...vv.entries()]);
        expectMatches(back, model);
      }),
      { numRuns: 1000, seed: fcSeed() },
    );
    const vv = VersionVector.from([
      [
        "us",
        {
          base: 2,
          ranges: [
            [3, 4],
            [7, 9],
            [6, 6],
            [8, 12],
          ],
        },
      ],
      ["eu", { base: 0, ranges: [[5, 5]] }],
    ]);
    expect([...vv.entries()]).toEqual([
      ["eu", { base: 0, ranges: [[5, 5]] }],
      ["us", { base: 4, ranges: [[6, 12]] }],
    ]);
    expect(vv.toString()).toBe("eu:0+5-5,us:4+6-12");
  });
});
