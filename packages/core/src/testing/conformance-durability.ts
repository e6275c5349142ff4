import { describe, expect, it } from "vitest";
import { HLC_ZERO } from "../hlc.ts";
import type { Store } from "../store.ts";
import { VersionVector } from "../version-vector.ts";
import { TEST_EPOCH_MS, yjsItems, yjsUpdate } from "./arbitraries.ts";
import { canonicalAll, fieldValue, testDelta, testSessionId, testStamp } from "./fixtures.ts";
import type { ConformanceContext } from "./store-conformance.ts";

/** With `reopen`: everything a store holds survives close and reopen. */
export function durabilityTests<S extends Store>(ctx: ConformanceContext<S>): void {
  const reopen = ctx.reopen;
  if (reopen === undefined) return;
  const a = testSessionId("a");
  const b = testSessionId("b");

  describe("close and reopen", () => {
    it("keeps sessions, version vector with gaps, clock and meta", async () => {
      let store = await ctx.make();
      try {
        store.applyDeltas(
          [
            testDelta(a, testStamp("eu", 1), { set: { cart: [1] }, userId: "alice", expiresAt: 9 }),
            testDelta(a, testStamp("eu", 3), {
              yjs: { draft: { epoch: HLC_ZERO, update: yjsUpdate(7, "kept") } },
            }),
            testDelta(b, testStamp("us", 2), { deleted: true }),
          ],
          { wall: TEST_EPOCH_MS + 50, logical: 2 },
        );
        store.applyStates([testDelta(b, testStamp("ap", 1), { set: { note: "repair" } }).session]);
        store.mergeVersionVector(VersionVector.from([["ap", { base: 0, ranges: [[5, 6]] }]]));
        store.setMeta("node-id", "eu-1");
        const digest = store.digest();
        const state = canonicalAll(store);
        const vv = store.versionVector().toString();
        expect(vv).toBe("ap:0+5-6,eu:1+3-3,us:0+2-2");

        store.close();
        store = await reopen(store);

        expect(store.digest()).toBe(digest);
        expect(canonicalAll(store)).toEqual(state);
        expect(store.versionVector().toString()).toBe(vv);
        expect(store.loadClock()).toEqual({ wall: TEST_EPOCH_MS + 50, logical: 2 });
        expect(store.getMeta("node-id")).toBe("eu-1");
        expect(store.sessionsOfUser("alice")).toEqual([a]);
        expect(store.sessionCount()).toBe(2);
        const draft = store.getSession(a)?.fields.get("draft");
        expect(draft?.kind === "yjs" ? yjsItems(draft.update) : draft).toEqual(["kept"]);
        expect(store.extractMissing(store.versionVector()).sessions.map((s) => s.id)).toEqual([b]);

        // The reopened store keeps going: the gap fills, lower clocks still lose.
        store.applyDeltas([testDelta(a, testStamp("eu", 2), { set: { cart: [2] } })], {
          wall: TEST_EPOCH_MS + 1,
          logical: 0,
        });
        expect(store.versionVector().toString()).toBe("ap:0+5-6,eu:3,us:0+2-2");
        expect(store.loadClock()).toEqual({ wall: TEST_EPOCH_MS + 50, logical: 2 });
        expect(fieldValue(store.getSession(a), "cart")).toEqual([2]);
        store.close();
        store = await reopen(store);
        expect(store.versionVector().toString()).toBe("ap:0+5-6,eu:3,us:0+2-2");
        // `holds` answers from the same vector, gaps included.
        expect([1, 2, 3].map((seq) => store.holds({ origin: "us", seq }))).toEqual([
          false,
          true,
          false,
        ]);
        expect(store.holds({ origin: "eu", seq: 3 })).toBe(true);
        expect(store.holds({ origin: "nowhere", seq: 1 })).toBe(false);
        expect(fieldValue(store.getSession(a), "cart")).toEqual([2]);
      } finally {
        store.close();
      }
    });
  });
}
