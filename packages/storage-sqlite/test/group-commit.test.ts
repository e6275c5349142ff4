import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Delta, MemoryStore, type Store, VersionVector } from "@meridian/core";
import {
  canonicalAll,
  deltasArb,
  propertyParams,
  readAllPages,
  testDelta,
  testSessionId,
  testStamp,
} from "@meridian/core/testing";
import Database from "better-sqlite3";
import fc from "fast-check";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { openSqliteStore, type SqliteStore, type SqliteStoreOptions } from "../src/index.ts";
import type { Statements } from "../src/statements.ts";
import { dotRows } from "./dot-rows.ts";
import { keyring, newKey } from "./keyring-kit.ts";

const dir = mkdtempSync(join(tmpdir(), "meridian-group-commit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

let files = 0;
const freshPath = () => join(dir, `store-${++files}.db`);

/** Counts the statements every connection of this process runs, while `fn` runs. */
function statementsRun(fn: () => void): number {
  const probe = new Database(":memory:");
  const proto = Object.getPrototypeOf(probe.prepare("SELECT 1")) as Record<string, unknown>;
  probe.close();
  const spies = (["run", "get", "all", "iterate"] as const).map((m) =>
    vi.spyOn(proto as { [k in typeof m]: (...a: unknown[]) => unknown }, m),
  );
  fn();
  const n = spies.reduce((sum, s) => sum + s.mock.calls.length, 0);
  for (const s of spies) s.mockRestore();
  return n;
}

/** `n` writes of one peer to sessions `tag0`, `tag1`… (one each), from sequence number `from`. */
function pushed(tag: string, n: number, from: number): Delta[] {
  return Array.from({ length: n }, (_, i) =>
    testDelta(testSessionId(`${tag}${i}`), testStamp("us", from + i), {
      set: { a: i },
      expiresAt: 1_000_000 + i,
    }),
  );
}

describe("SqliteStore group commit", () => {
  it("reads and writes a batch of sessions new to the store in a few statements, not some per session", () => {
    const store = openSqliteStore(freshPath());
    const batch = pushed("new", 200, 1);
    const statements = statementsRun(() => store.applyDeltas(batch));
    // One read for the prior states, multi-row inserts of the rows and their dots (200 = 128 +
    // 64 + 8: three each), the new origin, the version vector, the transaction itself; one or
    // more statements per session would be hundreds.
    expect(statements).toBeLessThanOrEqual(16);
    expect(store.getSession(testSessionId("new199"))).toBeDefined();
    store.close();
  });

  for (const [label, options] of [
    ["", {}],
    [" without a session cache", { cachedSessions: 0 }],
  ] as const) {
    it(`gives every kind of prior state its due in one batch${label}`, () => {
      const path = freshPath();
      const ref = new MemoryStore();
      let store: Store = openSqliteStore(path, options as SqliteStoreOptions);
      const both = (f: (s: Store) => void) => {
        f(store);
        f(ref);
      };
      // Stored before: sessions with rows, purged ids (with rows before their purge, or never).
      const stored = pushed("stored", 40, 1);
      both((s) => s.applyDeltas(stored));
      both((s) => {
        for (let i = 0; i < 5; i++) s.purgeSession(testSessionId(`stored${i}`));
        s.applyPurged([{ id: testSessionId("neverStored"), dot: null }]);
      });
      // Reopened: nothing cached, so every prior state comes from the database.
      (store as ReturnType<typeof openSqliteStore>).close();
      store = openSqliteStore(path, options as SqliteStoreOptions);
      // Known absent (cached as such by a read), then a batch that mixes everything: more than
      // one chunk of unread ids, writes to stored, purged and new sessions, one id twice.
      expect(store.getSession(testSessionId("fresh0"))).toBeUndefined();
      const batch: Delta[] = [
        ...pushed("fresh", 300, 100),
        ...pushed("stored", 40, 400).map((d, i) => ({
          ...d,
          session: { ...d.session, id: testSessionId(`stored${i}`) },
        })),
        testDelta(testSessionId("neverStored"), testStamp("eu", 1), { set: { b: 1 } }),
        testDelta(testSessionId("fresh7"), testStamp("eu", 2), { set: { b: 2 } }),
      ];
      both((s) => s.applyDeltas(batch));
      expect(canonicalAll(store)).toEqual(canonicalAll(ref));
      for (const id of ["stored0", "stored4", "neverStored"].map(testSessionId)) {
        expect(store.getSession(id)).toBeUndefined();
        expect(store.wasPurged(id)).toBe(true);
      }
      expect([...store.versionVector().entries()]).toEqual([...ref.versionVector().entries()]);
      (store as ReturnType<typeof openSqliteStore>).close();
      // And as stored, not only as cached.
      const reopened = openSqliteStore(path, options as SqliteStoreOptions);
      expect(canonicalAll(reopened)).toEqual(canonicalAll(ref));
      reopened.close();
    });
  }
});

const ring = keyring({ k1: newKey() }, "k1");
const variants = [
  ["cached", {}],
  ["uncached", { cachedSessions: 0 }],
  ["encrypted", { keyring: ring, cachedSessions: 7 }],
] as const satisfies readonly (readonly [string, SqliteStoreOptions])[];

/** Asserts that `store` holds what `ref` holds: sessions, index rows, version vector, count. */
function expectSame(store: SqliteStore, ref: MemoryStore, what: string): void {
  expect(canonicalAll(store), what).toEqual(canonicalAll(ref));
  const dots = dotRows(store);
  expect(dots.stored, `${what}: session_dots`).toEqual(dots.expected);
  expect([...store.versionVector().entries()], `${what}: vector`).toEqual([
    ...ref.versionVector().entries(),
  ]);
  expect(store.sessionCount(), `${what}: count`).toBe(ref.sessionCount());
}

describe("SqliteStore group commit at the edges of its chunks and inserts", () => {
  // New sessions and stored sessions no longer cached, on both sides of the 64-row INSERT and
  // the 256-id read; every session of the batch also written twice (a second origin).
  const sizes = [0, 1, 2, 63, 64, 65, 256, 257] as const;
  for (const [label, options] of variants) {
    it(`matches MemoryStore for batches of 0 to 257 new and stored ids (${label})`, () => {
      for (const fresh of sizes) {
        for (const stored of [0, 1, 64, 256, 257]) {
          const path = freshPath();
          const ref = new MemoryStore();
          let store = openSqliteStore(path, options);
          const old = pushed(`s${stored}x`, stored, 1);
          store.applyDeltas(old);
          ref.applyDeltas(old);
          store.close();
          store = openSqliteStore(path, options);
          const batch: Delta[] = [
            ...pushed(`n${fresh}x`, fresh, stored + 1),
            ...pushed(`s${stored}x`, stored, stored + fresh + 1),
          ];
          // The same sessions again, from another origin, in the same batch.
          const again = batch.map((d, i) =>
            testDelta(d.session.id, testStamp("ap", i + 1), { set: { b: i }, userId: "bob" }),
          );
          store.applyDeltas([...batch, ...again]);
          ref.applyDeltas([...batch, ...again]);
          const what = `${fresh} new, ${stored} stored`;
          expectSame(store, ref, what);
          store.close();
          store = openSqliteStore(path, options);
          expectSame(store, ref, `${what}, reopened`);
          store.close();
        }
      }
    });
  }

  it("joins random batches of deltas exactly as MemoryStore, with purges and reopens in between", () => {
    const origins = ["eu", "us", "ap", "sa", "af"];
    fc.assert(
      fc.property(
        deltasArb({ origins, maxWritesPerOrigin: 30, maxSessions: 90, yjs: false }),
        fc.array(fc.integer({ min: 1, max: 140 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.constantFrom(...variants),
        (deltas, cuts, purges, [label, options]) => {
          const path = freshPath();
          const ref = new MemoryStore();
          let store = openSqliteStore(path, options);
          try {
            let start = 0;
            for (const [i, n] of cuts.entries()) {
              // Each batch also repeats a few deltas of the ones before (already recorded).
              const batch = [...deltas.slice(start, start + n), ...deltas.slice(0, i * 3)];
              start += n;
              store.applyDeltas(batch);
              ref.applyDeltas(batch);
              const ids = [...ref.allSessions()].map((s) => s.id);
              const victim = ids[purges[i] ?? ids.length];
              if (victim !== undefined) {
                store.purgeSession(victim);
                ref.purgeSession(victim);
              }
              if (i % 2 === 1) {
                store.close();
                store = openSqliteStore(path, options);
              }
              expectSame(store, ref, `${label}, batch ${i}`);
            }
            const rest = deltas.slice(start);
            store.applyDeltas(rest);
            ref.applyDeltas(rest);
            expectSame(store, ref, `${label}, last batch`);
          } finally {
            store.close();
          }
        },
      ),
      propertyParams("group commit against MemoryStore", 40),
    );
  });
});

describe("SqliteStore group commit that fails", () => {
  for (const [label, options] of variants) {
    it(`leaves nothing of the batch behind, and its new origins are stored by the next commit (${label})`, () => {
      const path = freshPath();
      const ref = new MemoryStore();
      let store = openSqliteStore(path, options);
      const old = pushed("old", 70, 1);
      store.applyDeltas(old);
      ref.applyDeltas(old);
      store.close();
      store = openSqliteStore(path, options);
      // 70 new sessions and 70 stored ones, from an origin the store has never seen.
      const batch = [...pushed("new", 70, 1), ...pushed("old", 70, 1)].map((d, i) =>
        testDelta(d.session.id, testStamp("zz", i + 1), { set: { z: i } }),
      );
      const q = (store as unknown as { q: Statements }).q;
      const real = q.insertDots;
      // The dot INSERT after the first one throws: session rows are in, some dots too.
      let calls = 0;
      const spy = vi.spyOn(q, "insertDots").mockImplementation((rows) => {
        calls += 1;
        if (calls === 2) throw new Error("disk full");
        return real(rows);
      });
      expect(() => store.applyDeltas(batch)).toThrow("disk full");
      spy.mockRestore();
      expectSame(store, ref, "after the failed commit");
      // The clock is saved last: a failure there too rolls the whole batch back.
      const save = vi.spyOn(q.saveClock, "run").mockImplementation(() => {
        throw new Error("io error");
      });
      expect(() => store.applyDeltas(batch, { wall: 1, logical: 0 })).toThrow("io error");
      save.mockRestore();
      expectSame(store, ref, "after the second failed commit");
      // Then a commit of the new origin's writes to other sessions succeeds...
      const later = pushed("later", 3, 100).map((d, i) =>
        testDelta(d.session.id, testStamp("zz", 71 + i), { set: { z: i } }),
      );
      store.applyDeltas(later);
      ref.applyDeltas(later);
      expectSame(store, ref, "after a later commit");
      store.close();
      // ...and stores the origin, which extraction probes the index by after a restart.
      const raw = new Database(path, { readonly: true });
      const stored = raw.prepare("SELECT origin FROM origins ORDER BY origin").all();
      raw.close();
      expect(stored).toEqual([{ origin: "us" }, { origin: "zz" }]);
      store = openSqliteStore(path, options);
      const peer = new VersionVector();
      for (let i = 1; i <= 70; i++) peer.add({ origin: "us", seq: i });
      expect(readAllPages(store, peer).map((s) => s.id)).toEqual(
        [...ref.allSessions()].filter((s) => s.id.includes("later")).map((s) => s.id),
      );
      // The batch itself, applied again, goes in whole.
      store.applyDeltas(batch);
      ref.applyDeltas(batch);
      expectSame(store, ref, "after the retried batch");
      store.close();
    });
  }
});

describe("SqliteStore purge that fails", () => {
  it("does not count the origin of its dots as stored: the next purge by that origin stores it", () => {
    const path = freshPath();
    let store = openSqliteStore(path);
    const q = (store as unknown as { q: Statements }).q;
    const real = q.insertPurged.run.bind(q.insertPurged);
    let calls = 0;
    // The second purge of the batch throws, after the first inserted the origin.
    const insert = vi.spyOn(q.insertPurged, "run").mockImplementation((...args) => {
      calls += 1;
      if (calls === 2) throw new Error("disk full");
      return real(...args);
    });
    const purge = (tag: string, seq: number) => ({
      id: testSessionId(tag),
      dot: { origin: "pp", seq },
    });
    expect(() => store.applyPurged([purge("gone1", 1), purge("gone0", 3)])).toThrow("disk full");
    insert.mockRestore();
    store.applyPurged([purge("gone2", 2)]);
    store.close();
    const raw = new Database(path, { readonly: true });
    const stored = raw.prepare("SELECT origin FROM origins").all();
    raw.close();
    expect(stored).toEqual([{ origin: "pp" }]);
    store = openSqliteStore(path);
    expect(store.wasPurged(testSessionId("gone1"))).toBe(false);
    expect(store.wasPurged(testSessionId("gone2"))).toBe(true);
    store.close();
  });
});
