import { describe, expect, it } from "vitest";
import type { Store } from "../store.ts";
import { TEST_EPOCH_MS } from "./arbitraries.ts";
import { testDelta, testSessionId, testStamp } from "./fixtures.ts";
import type { ConformanceContext } from "./store-conformance.ts";

/** Expiry sweeps, tombstone listing and the purged-id memory that keeps GC from resurrecting. */
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
