import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Delta } from "../delta.ts";
import { MemoryStore, missingFragment } from "../memory-store.ts";
import type { SessionState } from "../session.ts";
import type { Store } from "../store.ts";
import { VersionVector } from "../version-vector.ts";
import { deltasArb, versionVectorArb } from "./arbitraries.ts";
import { canonical, testDelta, testSessionId, testStamp } from "./fixtures.ts";
import { propertyParams } from "./seed.ts";
import type { ConformanceContext } from "./store-conformance.ts";

const PROPERTY_TIMEOUT_MS = 600_000;

/**
 * Reads every page of `extractMissing(peer)` with page size `limit`, checking the paging rules:
 * no page is larger than `limit`, a page that is not the last is full, and ids strictly increase
 * across pages (so every session comes at most once).
 */
export function readAllPages(store: Store, peer: VersionVector, limit?: number): SessionState[] {
  const out: SessionState[] = [];
  let after: string | undefined;
  for (let pages = 0; ; pages++) {
    if (pages > 10_000) throw new Error("extractMissing pagination does not terminate");
    const opts: { limit?: number; after?: string } = {};
    if (limit !== undefined) opts.limit = limit;
    if (after !== undefined) opts.after = after;
    const page = store.extractMissing(peer, opts);
    if (limit !== undefined) expect(page.sessions.length).toBeLessThanOrEqual(limit);
    for (const s of page.sessions) {
      const last = out[out.length - 1];
      if (last !== undefined) expect(s.id > last.id).toBe(true);
      out.push(s);
    }
    if (page.next === null) return out;
    if (limit !== undefined) expect(page.sessions.length).toBe(limit);
    expect(page.sessions.length).toBeGreaterThan(0);
    after = page.next;
  }
}

/** What a peer lacks, computed by the reference definition. */
function expectedMissing(ref: Store, peer: VersionVector): unknown[] {
  const out: unknown[] = [];
  for (const s of ref.allSessions()) {
    const f = missingFragment(s, peer);
    if (f !== undefined) out.push(canonical(f));
  }
  return out;
}

/** extractMissing: exactly the registers a peer lacks, paged by session id. */
export function extractTests<S extends Store>(ctx: ConformanceContext<S>): void {
  describe("extractMissing", () => {
    const a = testSessionId("a");
    const b = testSessionId("b");

    it("sends a peer only the registers whose writes it lacks, gaps included", async () => {
      await ctx.withStore((store) => {
        store.applyDeltas([
          testDelta(a, testStamp("eu", 1), { set: { x: 1 }, userId: "alice" }),
          testDelta(a, testStamp("eu", 2), { set: { y: 2 } }),
          testDelta(a, testStamp("eu", 3), { set: { z: 3 }, expiresAt: 100 }),
          testDelta(b, testStamp("us", 1), { set: { x: "b" } }),
        ]);
        const peer = VersionVector.from([
          ["eu", { base: 1, ranges: [[3, 3]] }],
          ["us", { base: 1, ranges: [] }],
        ]);
        const page = store.extractMissing(peer);
        expect(page.next).toBeNull();
        expect(page.sessions.map((s) => s.id)).toEqual([a]);
        const fragment = page.sessions[0]!;
        expect([...fragment.fields.keys()]).toEqual(["y"]);
        expect(fragment.userId).toBeUndefined();
        expect(fragment.lifetimes).toBeUndefined();
        const full = store.extractMissing(new VersionVector());
        expect(full.sessions.map((s) => canonical(s))).toEqual(
          [a, b].map((id) => canonical(store.getSession(id))),
        );
        expect(store.extractMissing(store.versionVector()).sessions).toEqual([]);
      });
    });

    it("pages by session id and starts after `after`", async () => {
      await ctx.withStore((store) => {
        const ids = ["a", "b", "c", "d", "e"].map((t) => testSessionId(t));
        store.applyDeltas(
          ids.map((id, i) => testDelta(id, testStamp("eu", i + 1), { set: { i } })),
        );
        const empty = new VersionVector();
        const first = store.extractMissing(empty, { limit: 2 });
        expect(first.sessions.map((s) => s.id)).toEqual(ids.slice(0, 2));
        expect(first.next).not.toBeNull();
        const rest = store.extractMissing(empty, { after: ids[1]! });
        expect(rest.sessions.map((s) => s.id)).toEqual(ids.slice(2));
        expect(rest.next).toBeNull();
        expect(readAllPages(store, empty, 2).map((s) => s.id)).toEqual(ids);
        expect(readAllPages(store, empty, 5).map((s) => s.id)).toEqual(ids);
        expect(store.extractMissing(empty, { after: ids[4]! })).toEqual({
          sessions: [],
          next: null,
        });
      });
    });

    it(
      "matches the reference definition of missing for random states and peers, on every page",
      async () => {
        const arb = fc.record({
          deltas: deltasArb(),
          asStates: fc.array(fc.boolean(), { maxLength: 18 }),
          peer: versionVectorArb(),
          limit: fc.integer({ min: 1, max: 3 }),
        });
        const prop = fc.asyncProperty(arb, async ({ deltas, asStates, peer, limit }) => {
          // Some writes arrive as deltas, others only as state (repair): content and version
          // vector then disagree, and extraction must follow the content.
          const viaDelta: Delta[] = [];
          const viaState: SessionState[] = [];
          deltas.forEach((d, i) => {
            if (asStates[i] === true) viaState.push(d.session);
            else viaDelta.push(d);
          });
          const ref = new MemoryStore();
          ref.applyDeltas(viaDelta);
          ref.applyStates(viaState);
          await ctx.withStore((store) => {
            store.applyDeltas(viaDelta);
            store.applyStates(viaState);
            const expected = expectedMissing(ref, peer);
            expect(readAllPages(store, peer).map(canonical)).toEqual(expected);
            expect(readAllPages(store, peer, limit).map(canonical)).toEqual(expected);
            // A peer holding exactly the writes `peer` covers converges from the extract.
            const replica = new MemoryStore();
            replica.applyDeltas(deltas.filter((d) => peer.has(d.dot)));
            replica.applyStates(store.extractMissing(peer).sessions);
            expect(replica.digest()).toBe(ref.digest());
          });
        });
        await fc.assert(prop, propertyParams(`${ctx.name}: extractMissing`, ctx.runs));
      },
      PROPERTY_TIMEOUT_MS,
    );
  });
}
