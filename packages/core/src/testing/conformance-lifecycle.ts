import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Store } from "../store.ts";
import { sessionIdArb, TEST_EPOCH_MS } from "./arbitraries.ts";
import { testDelta, testSessionId, testStamp } from "./fixtures.ts";
import { propertyParams } from "./seed.ts";
import type { ConformanceContext } from "./store-conformance.ts";

const PROPERTY_TIMEOUT_MS = 600_000;

/**
 * Every id `sessionIds` gives when walked page by page with `limit`, checking that each page
 * holds at most `limit` ids, all strictly after the cursor and increasing.
 */
function walkSessionIds(store: Store, limit: number): string[] {
  const out: string[] = [];
  let after: string | undefined;
  for (let pages = 0; pages <= 10_000; pages++) {
    const page = store.sessionIds(after, limit);
    expect(page.length).toBeLessThanOrEqual(limit);
    for (const id of page) {
      if (after !== undefined) expect(id > after).toBe(true);
      after = id;
      out.push(id);
    }
    if (page.length < limit) return out;
  }
  throw new Error("sessionIds paging does not terminate");
}

/**
 * Expiry sweeps, the id cursor over every stored session, tombstone listing and the purged-id
 * memory that keeps GC from resurrecting.
 */
export function lifecycleTests<S extends Store>(ctx: ConformanceContext<S>): void {
  const a = testSessionId("a");
  const b = testSessionId("b");
  const c = testSessionId("c");
  const at = (ms: number) => TEST_EPOCH_MS + ms;

  describe("expiredBefore", () => {
    it("lists sessions not deleted whose effective expiry is past, soonest first, up to a limit", async () => {
      await ctx.withStore((store) => {
        store.applyDeltas([
          testDelta(a, testStamp("eu", 1), { set: { k: 1 }, expiresAt: at(300) }),
          testDelta(b, testStamp("eu", 2), { set: { k: 1 }, expiresAt: at(100) }),
          testDelta(c, testStamp("eu", 3), { set: { k: 1 }, expiresAt: at(200) }),
          testDelta(c, testStamp("eu", 4), { deleted: true }),
        ]);
        expect(store.expiredBefore(at(50), 10)).toEqual([]);
        expect(store.expiredBefore(at(250), 10)).toEqual([b]);
        expect(store.expiredBefore(at(1000), 10)).toEqual([b, a]);
        expect(store.expiredBefore(at(1000), 1)).toEqual([b]);
      });
    });

    it("counts the idle timeout: lastAccess plus idle", async () => {
      await ctx.withStore((store) => {
        store.applyDeltas([
          testDelta(a, testStamp("eu", 1), {
            set: { k: 1 },
            lastAccess: at(0),
            idleMs: 50,
            expiresAt: at(10_000),
          }),
        ]);
        expect(store.expiredBefore(at(40), 10)).toEqual([]);
        expect(store.expiredBefore(at(60), 10)).toEqual([a]);
        // A later access moves it.
        store.applyDeltas([testDelta(a, testStamp("us", 1), { lastAccess: at(100) })]);
        expect(store.expiredBefore(at(60), 10)).toEqual([]);
      });
    });
  });

  describe("sessionIds", () => {
    // Digits, upper case, "_" and lower case sort by code unit ("0" < "B" < "_" < "a"), and a
    // longer id after its own prefix: a case-folding or locale collation would get these wrong.
    const digit = testSessionId("0");
    const upper = testSessionId("B");
    const under = "sess__".padEnd(16, "-");
    const longer = `${a}x`;

    it("lists stored ids in id order, tombstones and expired sessions included, after a cursor", async () => {
      await ctx.withStore((store) => {
        store.applyDeltas([
          testDelta(longer, testStamp("eu", 1), { set: { k: 1 } }),
          testDelta(a, testStamp("eu", 2), { set: { k: 1 }, expiresAt: at(1) }),
          testDelta(under, testStamp("eu", 3), { deleted: true }),
          testDelta(upper, testStamp("eu", 4), { set: { k: 1 } }),
          testDelta(digit, testStamp("eu", 5), { set: { k: 1 } }),
        ]);
        const all = [digit, upper, under, a, longer];
        expect(store.sessionIds(undefined, 10)).toEqual(all);
        expect(store.sessionIds(undefined, 2)).toEqual([digit, upper]);
        expect(store.sessionIds(upper, 2)).toEqual([under, a]);
        expect(store.sessionIds(a, 10)).toEqual([longer]);
        // A cursor that is not itself stored still splits the order where it falls.
        expect(store.sessionIds("sess_A---------x", 10)).toEqual([upper, under, a, longer]);
        expect(store.sessionIds(longer, 10)).toEqual([]);
        expect(store.sessionIds(undefined, 0)).toEqual([]);
      });
    });

    it("leaves purged ids out", async () => {
      await ctx.withStore((store) => {
        store.applyDeltas([
          testDelta(a, testStamp("eu", 1), { set: { k: 1 } }),
          testDelta(b, testStamp("eu", 2), { deleted: true }),
          testDelta(c, testStamp("eu", 3), { set: { k: 1 } }),
        ]);
        store.purgeSession(b);
        expect(store.sessionIds(undefined, 10)).toEqual([a, c]);
        expect(store.sessionIds(a, 10)).toEqual([c]);
      });
    });

    it(
      "pages through every stored id exactly once, whatever the page size and the cursor",
      async () => {
        const prop = fc.asyncProperty(
          fc.uniqueArray(sessionIdArb(), { maxLength: 30 }),
          fc.integer({ min: 1, max: 7 }),
          sessionIdArb(),
          async (ids, limit, cursor) => {
            await ctx.withStore((store) => {
              store.applyDeltas(
                ids.map((id, i) =>
                  testDelta(id, testStamp("eu", i + 1), i % 3 === 0 ? { deleted: true } : {}),
                ),
              );
              const sorted = [...ids].sort();
              expect(walkSessionIds(store, limit)).toEqual(sorted);
              expect(store.sessionIds(cursor, limit)).toEqual(
                sorted.filter((id) => id > cursor).slice(0, limit),
              );
            });
          },
        );
        const runs = Math.ceil(ctx.runs / 5);
        await fc.assert(prop, propertyParams(`${ctx.name}: sessionIds`, runs));
      },
      PROPERTY_TIMEOUT_MS,
    );
  });

  describe("tombstones and purge", () => {
    it("lists deleted sessions in id order with paging", async () => {
      await ctx.withStore((store) => {
        store.applyDeltas([
          testDelta(c, testStamp("eu", 1), { deleted: true }),
          testDelta(a, testStamp("eu", 2), { deleted: true }),
          testDelta(b, testStamp("eu", 3), { set: { k: 1 } }),
        ]);
        expect(store.tombstones(10)).toEqual([a, c]);
        expect(store.tombstones(1)).toEqual([a]);
        expect(store.tombstones(10, a)).toEqual([c]);
      });
    });

    it("remembers purged ids and drops whatever still arrives for them", async () => {
      await ctx.withStore((store) => {
        const write = testDelta(a, testStamp("eu", 1), { set: { k: 1 } });
        store.applyDeltas([write, testDelta(a, testStamp("us", 1), { deleted: true })]);
        expect(store.wasPurged(a)).toBe(false);
        store.purgeSession(a);
        expect(store.wasPurged(a)).toBe(true);
        expect(store.wasPurged(b)).toBe(false);
        // A concurrent write nobody had seen yet arrives late, as a delta and as sync state.
        const late = testDelta(a, testStamp("ap", 1), { set: { late: 1 }, expiresAt: at(1e9) });
        store.applyDeltas([late]);
        store.applyStates([late.session]);
        expect(store.getSession(a)).toBeUndefined();
        expect(store.sessionCount()).toBe(0);
        expect(store.versionVector().has(late.dot)).toBe(true);
        expect(store.tombstones(10)).toEqual([]);
      });
    });
  });
}
