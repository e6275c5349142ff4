import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MemoryStore } from "../memory-store.ts";
import type { PurgedId } from "../purged.ts";
import type { Store } from "../store.ts";
import { VersionVector } from "../version-vector.ts";
import { TEST_EPOCH_MS } from "./arbitraries.ts";
import { testDelta, testSessionId, testStamp } from "./fixtures.ts";
import { propertyParams } from "./seed.ts";
import type { ConformanceContext } from "./store-conformance.ts";

const PROPERTY_TIMEOUT_MS = 600_000;

/** Every purged id `extractPurged` gives `peer`, page by page, checking the paging contract. */
export function readAllPurged(store: Store, peer: VersionVector, limit: number): PurgedId[] {
  const out: PurgedId[] = [];
  let after: string | undefined;
  for (let pages = 0; pages <= 10_000; pages++) {
    const page = store.extractPurged(peer, { limit, ...(after !== undefined ? { after } : {}) });
    expect(page.purged.length).toBeLessThanOrEqual(limit);
    for (const p of page.purged) {
      if (after !== undefined) expect(p.id > after).toBe(true);
      after = p.id;
      out.push(p);
    }
    if (page.next === null) return out;
    expect(page.next).toBe(after);
  }
  throw new Error("extractPurged paging does not terminate");
}

/** A plain copy of purged ids, comparable with `toEqual` whatever class an implementation uses. */
const plainPurged = (list: readonly PurgedId[]) =>
  list.map((p) => ({
    id: p.id,
    dot: p.dot === null ? null : { origin: p.dot.origin, seq: p.dot.seq },
  }));

/**
 * Purged ids as replicated state: `purgeSession` records the dot of the purged tombstone,
 * `extractPurged` offers a peer exactly the purges its vector does not show it holds, and
 * `applyPurged` makes a learned purge a permanent remove-wins tombstone.
 */
export function purgedTests<S extends Store>(ctx: ConformanceContext<S>): void {
  const a = testSessionId("a");
  const b = testSessionId("b");
  const c = testSessionId("c");
  const at = (ms: number) => TEST_EPOCH_MS + ms;

  describe("purged ids", () => {
    it("purgeSession records the delete's dot; extractPurged offers it to peers without it", async () => {
      await ctx.withStore((store) => {
        store.applyDeltas([
          testDelta(a, testStamp("eu", 1), { set: { k: 1 } }),
          testDelta(a, testStamp("us", 4), { deleted: true }),
          testDelta(b, testStamp("eu", 2), { set: { k: 2 } }),
        ]);
        store.purgeSession(a);
        // Purged without a tombstone (nothing the janitor does, but allowed): the dot is unknown.
        store.purgeSession(c);
        const all = [
          { id: a, dot: { origin: "us", seq: 4 } },
          { id: c, dot: null },
        ];
        expect(plainPurged(store.extractPurged(new VersionVector()).purged)).toEqual(all);
        const holds = VersionVector.from([["us", { base: 4, ranges: [] }]]);
        expect(plainPurged(store.extractPurged(holds).purged)).toEqual([all[1]]);
        const gap = VersionVector.from([["us", { base: 3, ranges: [[5, 5]] }]]);
        expect(plainPurged(store.extractPurged(gap).purged)).toEqual(all);
        expect(
          store.extractPurged(new VersionVector(), { after: a }).purged.map((p) => p.id),
        ).toEqual([c]);
      });
    });

    it("applyPurged drops any state, even a later local write, and keeps out whatever arrives", async () => {
      await ctx.withStore((store) => {
        // What a node restarted on a wiped disk holds: a write to an id the others purged.
        const local = testDelta(a, testStamp("ap2", 1, 900), {
          set: { k: 1 },
          expiresAt: at(1e9),
          userId: "alice",
        });
        store.applyDeltas([local, testDelta(b, testStamp("ap2", 2), { set: { k: 2 } })]);
        const vv = store.versionVector().toString();
        store.applyPurged([{ id: a, dot: { origin: "eu", seq: 3 } }]);
        expect(store.getSession(a)).toBeUndefined();
        expect(store.wasPurged(a)).toBe(true);
        expect(store.wasPurged(b)).toBe(false);
        expect(store.sessionsOfUser("alice")).toEqual([]);
        expect(store.sessionCount()).toBe(1);
        expect(store.expiredBefore(at(2e9), 10)).toEqual([]);
        expect(store.versionVector().toString()).toBe(vv);
        // The delete itself, a write nobody had seen, and anti-entropy state all arrive late.
        const del = testDelta(a, testStamp("eu", 3), { deleted: true });
        const late = testDelta(a, testStamp("us", 1), { set: { late: 1 } });
        store.applyDeltas([del, late]);
        store.applyStates([late.session, local.session]);
        expect(store.getSession(a)).toBeUndefined();
        expect(store.tombstones(10)).toEqual([]);
        expect(store.versionVector().has(late.dot)).toBe(true);
        const ref = new MemoryStore();
        ref.applyStates([store.getSession(b)!]);
        expect(store.digest()).toBe(ref.digest());
      });
    });

    it("applyPurged is idempotent and keeps a known dot over an unknown one", async () => {
      await ctx.withStore((store) => {
        store.applyPurged([{ id: a, dot: null }]);
        store.applyPurged([
          { id: a, dot: { origin: "eu", seq: 2 } },
          { id: b, dot: { origin: "us", seq: 1 } },
        ]);
        store.applyPurged([
          { id: a, dot: null },
          { id: b, dot: { origin: "ap", seq: 9 } },
          { id: b, dot: { origin: "us", seq: 1 } },
        ]);
        expect(plainPurged(store.extractPurged(new VersionVector()).purged)).toEqual([
          { id: a, dot: { origin: "eu", seq: 2 } },
          { id: b, dot: { origin: "us", seq: 1 } },
        ]);
        expect(store.sessionCount()).toBe(0);
        expect(store.versionVector().toString()).toBe("");
      });
    });

    it(
      "extractPurged pages through exactly the purges a peer lacks, like the reference",
      async () => {
        const item = fc.record({
          tag: fc.integer({ min: 0, max: 60 }),
          dot: fc.option(
            fc.record({
              origin: fc.constantFrom("eu", "us", "ap"),
              seq: fc.integer({ min: 1, max: 8 }),
            }),
            { nil: null },
          ),
        });
        const peerArb = fc.array(
          fc.tuple(
            fc.constantFrom("eu", "us", "ap"),
            fc.integer({ min: 0, max: 6 }),
            fc.option(fc.integer({ min: 2, max: 8 }), { nil: undefined }),
          ),
          { maxLength: 3 },
        );
        await fc.assert(
          fc.asyncProperty(
            fc.array(fc.array(item, { maxLength: 12 }), { maxLength: 4 }),
            peerArb,
            fc.integer({ min: 1, max: 7 }),
            async (batches, peerEntries, limit) => {
              const peer = new VersionVector();
              for (const [origin, base, extra] of peerEntries) {
                for (let seq = 1; seq <= base; seq++) peer.add({ origin, seq });
                if (extra !== undefined) peer.add({ origin, seq: extra });
              }
              const ref = new MemoryStore();
              await ctx.withStore((store) => {
                for (const batch of batches) {
                  const list = batch.map((x) => ({ id: testSessionId(`p${x.tag}`), dot: x.dot }));
                  store.applyPurged(list);
                  ref.applyPurged(list);
                }
                expect(plainPurged(readAllPurged(store, peer, limit))).toEqual(
                  plainPurged(ref.extractPurged(peer).purged),
                );
              });
            },
          ),
          propertyParams(`${ctx.name}: extractPurged`, Math.max(1, Math.floor(ctx.runs / 10))),
        );
      },
      PROPERTY_TIMEOUT_MS,
    );

    if (ctx.reopen !== undefined) {
      const reopen = ctx.reopen;
      it("survive close and reopen, with their dots", async () => {
        let store = await ctx.make();
        try {
          store.applyDeltas([testDelta(a, testStamp("eu", 1), { deleted: true })]);
          store.purgeSession(a);
          store.applyPurged([{ id: b, dot: { origin: "us", seq: 2 } }]);
          store.close();
          store = await reopen(store);
          expect(store.wasPurged(a)).toBe(true);
          expect(store.wasPurged(b)).toBe(true);
          expect(plainPurged(store.extractPurged(new VersionVector()).purged)).toEqual([
            { id: a, dot: { origin: "eu", seq: 1 } },
            { id: b, dot: { origin: "us", seq: 2 } },
          ]);
        } finally {
          store.close();
        }
      });
    }
  });
}
