import { describe, expect, it } from "vitest";
import { HLC_ZERO } from "../hlc.ts";
import { MemoryStore } from "../memory-store.ts";
import type { Store } from "../store.ts";
import { VersionVector } from "../version-vector.ts";
import { TEST_EPOCH_MS, yjsItems, yjsUpdate } from "./arbitraries.ts";
import {
  canonical,
  canonicalAll,
  fieldValue,
  testDelta,
  testSessionId,
  testStamp,
} from "./fixtures.ts";
import type { ConformanceContext } from "./store-conformance.ts";

/** Reads, version vectors, purge, clock, meta and Yjs fields. */
export function readTests<S extends Store>(ctx: ConformanceContext<S>): void {
  const a = testSessionId("a");
  const b = testSessionId("b");
  const c = testSessionId("c");

  describe("reads", () => {
    it("answers undefined for an unknown session, and an empty store digests like the reference", async () => {
      await ctx.withStore((store) => {
        expect(store.getSession(a)).toBeUndefined();
        expect(store.sessionCount()).toBe(0);
        expect([...store.allSessions()]).toEqual([]);
        expect(store.digest()).toBe(new MemoryStore().digest());
        store.applyDeltas([testDelta(a, testStamp("eu", 1), { set: { k: 1 } })]);
        expect(store.getSession(b)).toBeUndefined();
      });
    });

    it("lists every session in id order and counts tombstones", async () => {
      await ctx.withStore((store) => {
        const ref = new MemoryStore();
        const batch = [
          testDelta(c, testStamp("eu", 1), { set: { k: "c" } }),
          testDelta(a, testStamp("eu", 2), { set: { k: "a" } }),
          testDelta(b, testStamp("us", 1), { deleted: true }),
        ];
        store.applyDeltas(batch);
        ref.applyDeltas(batch);
        expect([...store.allSessions()].map((s) => s.id)).toEqual([a, b, c]);
        expect(canonicalAll(store)).toEqual(canonicalAll(ref));
        expect(store.sessionCount()).toBe(3);
        expect(store.getSession(b)?.deleted).toEqual(testStamp("us", 1));
      });
    });

    it("finds the sessions of a user by the winning userId register", async () => {
      await ctx.withStore((store) => {
        store.applyDeltas([
          testDelta(b, testStamp("eu", 1), { userId: "alice" }),
          testDelta(a, testStamp("eu", 2), { userId: "alice" }),
          testDelta(c, testStamp("us", 1), { userId: "bob" }),
        ]);
        expect(store.sessionsOfUser("alice")).toEqual([a, b]);
        expect(store.sessionsOfUser("bob")).toEqual([c]);
        expect(store.sessionsOfUser("carol")).toEqual([]);
        // A later write moves b to bob; an older one arriving late does not move it back.
        store.applyDeltas([testDelta(b, testStamp("us", 3, 10), { userId: "bob" })]);
        store.applyDeltas([testDelta(b, testStamp("us", 2, 9), { userId: "alice" })]);
        expect(store.sessionsOfUser("alice")).toEqual([a]);
        expect(store.sessionsOfUser("bob")).toEqual([b, c]);
        store.applyDeltas([testDelta(a, testStamp("eu", 3, 11), { userId: null })]);
        expect(store.sessionsOfUser("alice")).toEqual([]);
      });
    });
  });

  describe("version vector", () => {
    it("merges a vector with gaps and hands out copies", async () => {
      await ctx.withStore((store) => {
        store.applyDeltas([testDelta(a, testStamp("eu", 2), { set: { k: 1 } })]);
        const other = VersionVector.from([
          ["eu", { base: 1, ranges: [[4, 5]] }],
          ["ap", { base: 3, ranges: [] }],
        ]);
        store.mergeVersionVector(other);
        expect(store.versionVector().toString()).toBe("ap:3,eu:2+4-5");
        const copy = store.versionVector();
        copy.add({ origin: "eu", seq: 3 });
        copy.add({ origin: "us", seq: 1 });
        expect(store.versionVector().toString()).toBe("ap:3,eu:2+4-5");
        store.mergeVersionVector(new VersionVector());
        expect(store.versionVector().toString()).toBe("ap:3,eu:2+4-5");
        // Merging records coverage only; it changes no session.
        expect(fieldValue(store.getSession(a), "k")).toBe(1);
        expect(store.sessionCount()).toBe(1);
      });
    });
  });

  describe("purgeSession", () => {
    it("removes the whole session and nothing else", async () => {
      await ctx.withStore((store) => {
        store.applyDeltas([
          testDelta(a, testStamp("eu", 1), { set: { k: 1 }, userId: "alice" }),
          testDelta(b, testStamp("eu", 2), { set: { k: 2 }, userId: "alice" }),
          testDelta(a, testStamp("us", 1), { deleted: true }),
        ]);
        const before = store.versionVector().toString();
        const keep = canonical(store.getSession(b));
        store.purgeSession(a);
        store.purgeSession(testSessionId("never"));
        expect(store.getSession(a)).toBeUndefined();
        expect(store.sessionCount()).toBe(1);
        expect(store.sessionsOfUser("alice")).toEqual([b]);
        expect(canonical(store.getSession(b))).toEqual(keep);
        expect(store.versionVector().toString()).toBe(before);
        expect(store.extractMissing(new VersionVector()).sessions.map((s) => s.id)).toEqual([b]);
        const ref = new MemoryStore();
        ref.applyStates([store.getSession(b)!]);
        expect(store.digest()).toBe(ref.digest());
      });
    });

    it("does not bring a purged session back when one of its writes is delivered again", async () => {
      await ctx.withStore((store) => {
        const write = testDelta(a, testStamp("eu", 1), { set: { k: 1 } });
        const del = testDelta(a, testStamp("us", 1), { deleted: true });
        store.applyDeltas([write, del]);
        store.purgeSession(a);
        store.applyDeltas([write]);
        store.applyDeltas([del, write]);
        expect(store.getSession(a)).toBeUndefined();
        expect(store.sessionCount()).toBe(0);
        expect(store.versionVector().toString()).toBe("eu:1,us:1");
      });
    });
  });

  describe("clock and meta", () => {
    it("never moves the persisted clock backwards", async () => {
      await ctx.withStore((store) => {
        expect(store.loadClock()).toBeUndefined();
        store.saveClock({ wall: TEST_EPOCH_MS, logical: 5 });
        expect(store.loadClock()).toEqual({ wall: TEST_EPOCH_MS, logical: 5 });
        store.saveClock({ wall: TEST_EPOCH_MS, logical: 4 });
        store.saveClock({ wall: TEST_EPOCH_MS - 1, logical: 99 });
        expect(store.loadClock()).toEqual({ wall: TEST_EPOCH_MS, logical: 5 });
        store.saveClock({ wall: TEST_EPOCH_MS, logical: 6 });
        expect(store.loadClock()).toEqual({ wall: TEST_EPOCH_MS, logical: 6 });
        store.saveClock({ wall: TEST_EPOCH_MS + 1, logical: 0 });
        expect(store.loadClock()).toEqual({ wall: TEST_EPOCH_MS + 1, logical: 0 });
      });
    });

    it("reads back meta settings and overwrites them", async () => {
      await ctx.withStore((store) => {
        expect(store.getMeta("node-id")).toBeUndefined();
        store.setMeta("node-id", "eu-1");
        store.setMeta("other", "");
        expect(store.getMeta("node-id")).toBe("eu-1");
        expect(store.getMeta("other")).toBe("");
        store.setMeta("node-id", "eu-2");
        expect(store.getMeta("node-id")).toBe("eu-2");
      });
    });
  });

  describe("Yjs fields", () => {
    const draft = (client: number, text: string) => ({
      draft: { epoch: HLC_ZERO, update: yjsUpdate(client, text) },
    });
    const eu = testDelta(a, testStamp("eu", 1), { yjs: draft(1001, "from eu") });
    const us = testDelta(a, testStamp("us", 1), { yjs: draft(2001, "from us") });

    it("merges concurrent Yjs updates and keeps every stamp", async () => {
      await ctx.withStore((store) => {
        store.applyDeltas([eu]);
        store.applyDeltas([us, eu]);
        const reg = store.getSession(a)?.fields.get("draft");
        expect(reg?.kind).toBe("yjs");
        if (reg?.kind !== "yjs") return;
        expect(yjsItems(reg.update).sort()).toEqual(["from eu", "from us"]);
        expect(reg.stamps).toEqual([testStamp("eu", 1), testStamp("us", 1)]);
        const ref = new MemoryStore();
        ref.applyDeltas([us, eu]);
        expect(store.digest()).toBe(ref.digest());
      });
    });

    it("extracts a Yjs field while any of its stamps is missing at the peer", async () => {
      await ctx.withStore((store) => {
        store.applyDeltas([eu, us]);
        const hasEu = VersionVector.from([["eu", { base: 1, ranges: [] }]]);
        const page = store.extractMissing(hasEu);
        expect(page.sessions.map((s) => s.id)).toEqual([a]);
        expect(canonical(page.sessions[0])).toEqual(canonical(store.getSession(a)));
        // Whichever of the register's stamps the peer lacks, the register goes.
        const hasUs = VersionVector.from([["us", { base: 1, ranges: [] }]]);
        expect(store.extractMissing(hasUs).sessions.map((s) => s.id)).toEqual([a]);
        hasEu.add({ origin: "us", seq: 1 });
        expect(store.extractMissing(hasEu).sessions).toEqual([]);
        // The peer that had only eu's edit converges from what was extracted.
        const peer = new MemoryStore();
        peer.applyDeltas([eu]);
        peer.applyStates(page.sessions);
        expect(peer.digest()).toBe(store.digest());
      });
    });

    it("lets a later value write replace a Yjs document", async () => {
      await ctx.withStore((store) => {
        store.applyDeltas([eu, us, testDelta(a, testStamp("ap", 1), { set: { draft: "plain" } })]);
        expect(fieldValue(store.getSession(a), "draft")).toBe("plain");
        const both = VersionVector.from([
          ["eu", { base: 1, ranges: [] }],
          ["us", { base: 1, ranges: [] }],
        ]);
        const page = store.extractMissing(both);
        expect(fieldValue(page.sessions[0], "draft")).toBe("plain");
        both.add({ origin: "ap", seq: 1 });
        expect(store.extractMissing(both).sessions).toEqual([]);
      });
    });
  });
}
