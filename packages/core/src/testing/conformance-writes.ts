import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MemoryStore } from "../memory-store.ts";
import { softExpiry } from "../session.ts";
import { VersionVector } from "../version-vector.ts";
import type { Store } from "../store.ts";
import { deliveryArb, deltasArb, TEST_EPOCH_MS } from "./arbitraries.ts";
import {
  canonical,
  canonicalAll,
  fieldValue,
  referenceStore,
  testDelta,
  testSessionId,
  testStamp,
} from "./fixtures.ts";
import { propertyParams } from "./seed.ts";
import type { ConformanceContext } from "./store-conformance.ts";

/** Long enough for a thousand runs against a file-backed store. */
const PROPERTY_TIMEOUT_MS = 600_000;

/** applyDeltas and applyStates: joins, dots, idempotence, and order-insensitivity. */
export function writeTests<S extends Store>(ctx: ConformanceContext<S>): void {
  const id = testSessionId("writes");

  describe("applyDeltas", () => {
    it("joins a write into its session and records its dot", async () => {
      await ctx.withStore((store) => {
        const d = testDelta(id, testStamp("eu", 1), { set: { cart: [1, 2] }, userId: "alice" });
        store.applyDeltas([d]);
        expect(canonical(store.getSession(id))).toEqual(canonical(d.session));
        expect(store.versionVector().has({ origin: "eu", seq: 1 })).toBe(true);
        expect(store.versionVector().has({ origin: "eu", seq: 2 })).toBe(false);
        expect(store.versionVector().has({ origin: "us", seq: 1 })).toBe(false);
      });
    });

    it("keeps every field of concurrent writes and the later write of each field, in any order", async () => {
      const a = testDelta(id, testStamp("eu", 1, 5), { set: { x: "eu", y: "eu" } });
      const b = testDelta(id, testStamp("us", 1, 7), { set: { y: "us", z: null } });
      const c = testDelta(id, testStamp("eu", 2, 9), { set: { z: "eu2" }, expiresAt: 42 });
      for (const order of [
        [a, b, c],
        [c, b, a],
        [b, c, a],
      ]) {
        await ctx.withStore((store) => {
          for (const d of order) store.applyDeltas([d]);
          const s = store.getSession(id);
          expect(fieldValue(s, "x")).toBe("eu");
          expect(fieldValue(s, "y")).toBe("us");
          expect(fieldValue(s, "z")).toBe("eu2");
          expect(s === undefined ? undefined : softExpiry(s)).toBe(42);
          expect(store.versionVector().toString()).toBe("eu:2,us:1");
        });
      }
    });

    it("reports the field writes its join rejected, batch order included", async () => {
      await ctx.withStore((store) => {
        const a = testDelta(id, testStamp("eu", 1, 5), { set: { x: 1, y: 1 } });
        const b = testDelta(id, testStamp("us", 1, 3), { set: { x: 2, z: 2 } });
        expect(store.applyDeltas([a])).toEqual({ rejectedFieldWrites: 0 });
        // b's x is older than a's; its z is new.
        expect(store.applyDeltas([b])).toEqual({ rejectedFieldWrites: 1 });
        // A delta already recorded is skipped, so it loses nothing a second time.
        expect(store.applyDeltas([b])).toEqual({ rejectedFieldWrites: 0 });
        // Within a batch, a later delta meets what the earlier ones left.
        const c = testDelta(id, testStamp("eu", 2, 9), { set: { y: 3 } });
        const d = testDelta(id, testStamp("us", 2, 7), { set: { y: 4 } });
        expect(store.applyDeltas([c, d])).toEqual({ rejectedFieldWrites: 1 });
        expect(fieldValue(store.getSession(id), "y")).toBe(3);
        // States count every losing register (b's x, a's y); a's x is the stored write itself.
        expect(store.applyStates([b.session, a.session])).toEqual({ rejectedFieldWrites: 2 });
        store.purgeSession(id);
        const e = testDelta(id, testStamp("us", 3, 1), { set: { x: 5 } });
        expect(store.applyDeltas([e])).toEqual({ rejectedFieldWrites: 0 });
      });
    });

    it("keeps an unset that is later than a set, whatever the arrival order", async () => {
      const set = testDelta(id, testStamp("eu", 1, 1), { set: { flash: "hello" } });
      const unset = testDelta(id, testStamp("us", 1, 2), { set: { flash: null } });
      await ctx.withStore((store) => {
        store.applyDeltas([unset, set]);
        expect(fieldValue(store.getSession(id), "flash")).toBeNull();
      });
    });

    it("is idempotent: applying the same batch again changes nothing", async () => {
      await ctx.withStore((store) => {
        const batch = [
          testDelta(id, testStamp("eu", 1), { set: { a: 1 }, lastAccess: TEST_EPOCH_MS }),
          testDelta(id, testStamp("us", 1), { set: { a: 2, b: true } }),
        ];
        store.applyDeltas(batch);
        const digest = store.digest();
        const state = canonicalAll(store);
        const vv = store.versionVector().toString();
        store.applyDeltas(batch);
        store.applyDeltas([batch[1]!, batch[0]!, batch[1]!]);
        expect(store.digest()).toBe(digest);
        expect(canonicalAll(store)).toEqual(state);
        expect(store.versionVector().toString()).toBe(vv);
        expect(store.sessionCount()).toBe(1);
      });
    });

    it("records dots received out of order with their gaps", async () => {
      await ctx.withStore((store) => {
        store.applyDeltas([
          testDelta(id, testStamp("eu", 3), { set: { a: 3 } }),
          testDelta(id, testStamp("eu", 1), { set: { a: 1 } }),
          testDelta(id, testStamp("eu", 6), { set: { a: 6 } }),
        ]);
        const vv = store.versionVector();
        expect(vv.toString()).toBe("eu:1+3-3+6-6");
        expect(vv.has({ origin: "eu", seq: 2 })).toBe(false);
        store.applyDeltas([testDelta(id, testStamp("eu", 2), { set: { b: 2 } })]);
        expect(store.versionVector().toString()).toBe("eu:3+6-6");
      });
    });

    it("ends a session with its first run of lifetimes, and counts a late write that bridges a gap, in any order", async () => {
      const t = (ms: number) => TEST_EPOCH_MS + ms;
      // A: created at 3 s for 3 s. B: a region that never saw it creates it at 8 s for 60 s.
      // C: a touch made at 5 s, while A was alive, for 4 s: it reaches B, so B counts.
      const a = testDelta(id, testStamp("eu", 1, 3000), {
        set: { k: 1 },
        lifetime: [t(3000), t(6000)],
      });
      const b = testDelta(id, testStamp("ap", 1, 8000), {
        set: { k: 2 },
        lifetime: [t(8000), t(68_000)],
      });
      const c = testDelta(id, testStamp("us", 1, 5000), { lifetime: [t(3000), t(9000)] });
      for (const order of [
        [a, b],
        [b, a],
      ]) {
        await ctx.withStore((store) => {
          for (const d of order) store.applyDeltas([d]);
          expect(softExpiry(store.getSession(id)!)).toBe(t(6000));
          expect(store.expiredBefore(t(6001), 10)).toEqual([id]);
        });
      }
      for (const order of [
        [a, b, c],
        [a, c, b],
        [b, a, c],
        [b, c, a],
        [c, a, b],
        [c, b, a],
      ]) {
        await ctx.withStore((store) => {
          for (const d of order) store.applyDeltas([d]);
          expect(softExpiry(store.getSession(id)!)).toBe(t(68_000));
          expect(store.expiredBefore(t(60_000), 10)).toEqual([]);
          expect(store.getSession(id)?.lifetimes?.length).toBe(2);
          // A peer that holds A and B but not the bridge is sent exactly the bridge.
          const peer = VersionVector.from([
            ["eu", { base: 1, ranges: [] }],
            ["ap", { base: 1, ranges: [] }],
          ]);
          const page = store.extractMissing(peer);
          expect(page.sessions.map((s) => s.lifetimes)).toEqual([[c.session.lifetimes![0]]]);
        });
      }
    });

    it("persists the clock high-water mark given with a batch", async () => {
      await ctx.withStore((store) => {
        const d = testDelta(id, testStamp("eu", 1), { set: { a: 1 } });
        store.applyDeltas([d], { wall: TEST_EPOCH_MS + 10, logical: 3 });
        expect(store.loadClock()).toEqual({ wall: TEST_EPOCH_MS + 10, logical: 3 });
        store.applyDeltas([], { wall: TEST_EPOCH_MS + 5, logical: 9 });
        expect(store.loadClock()).toEqual({ wall: TEST_EPOCH_MS + 10, logical: 3 });
      });
    });

    it(
      "converges to the reference for any permutation, duplication and batching of the same writes",
      async () => {
        const arb = deltasArb().chain((deltas) =>
          fc.tuple(fc.constant(deltas), deliveryArb(deltas)),
        );
        const prop = fc.asyncProperty(arb, async ([deltas, batches]) => {
          const ref = referenceStore([deltas]);
          await ctx.withStore((store) => {
            for (const batch of batches) store.applyDeltas(batch);
            expect(store.digest()).toBe(ref.digest());
            expect(canonicalAll(store)).toEqual(canonicalAll(ref));
            expect(store.versionVector().toString()).toBe(ref.versionVector().toString());
            expect(store.sessionCount()).toBe(ref.sessionCount());
            for (const d of deltas) expect(store.versionVector().has(d.dot)).toBe(true);
          });
        });
        await fc.assert(prop, propertyParams(`${ctx.name}: delivery order`, ctx.runs));
      },
      PROPERTY_TIMEOUT_MS,
    );
  });

  describe("applyStates", () => {
    it("joins state fragments without recording any dot", async () => {
      await ctx.withStore((store) => {
        const d = testDelta(id, testStamp("eu", 4), { set: { a: "x" }, userId: "bob" });
        store.applyStates([d.session]);
        expect(canonical(store.getSession(id))).toEqual(canonical(d.session));
        expect(store.versionVector().has(d.dot)).toBe(false);
        expect(store.versionVector().toString()).toBe("");
        store.applyStates([testDelta(id, testStamp("us", 1, 99), { set: { a: "y" } }).session]);
        expect(fieldValue(store.getSession(id), "a")).toBe("y");
        expect(store.versionVector().toString()).toBe("");
      });
    });

    it(
      "gives the same state as applying the writes as deltas, whatever the grouping",
      async () => {
        const arb = deltasArb().chain((deltas) =>
          fc.tuple(fc.constant(deltas), deliveryArb(deltas)),
        );
        const prop = fc.asyncProperty(arb, async ([deltas, batches]) => {
          const ref = new MemoryStore();
          ref.applyDeltas(deltas);
          await ctx.withStore((store) => {
            for (const batch of batches) store.applyStates(batch.map((d) => d.session));
            expect(store.digest()).toBe(ref.digest());
            expect(store.versionVector().toString()).toBe("");
          });
        });
        await fc.assert(prop, propertyParams(`${ctx.name}: applyStates`, Math.ceil(ctx.runs / 5)));
      },
      PROPERTY_TIMEOUT_MS,
    );
  });
}
