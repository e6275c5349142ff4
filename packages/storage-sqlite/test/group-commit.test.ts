import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Delta, MemoryStore, type Store } from "@meridian/core";
import { canonicalAll, testDelta, testSessionId, testStamp } from "@meridian/core/testing";
import Database from "better-sqlite3";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { openSqliteStore, type SqliteStoreOptions } from "../src/index.ts";

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
