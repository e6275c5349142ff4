import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VersionVector } from "@meridian/core";
import { storeConformance, testDelta, testSessionId, testStamp } from "@meridian/core/testing";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { crashWriter, expectAcknowledgedWrites } from "./crash-kit.ts";
import { openSqliteStore, SCHEMA_VERSION, type SqliteStoreOptions } from "../src/index.ts";
import { SCHEMA_V1 } from "../src/schema.ts";
import { prepareStatements } from "../src/statements.ts";

const dir = mkdtempSync(join(tmpdir(), "meridian-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
const freshPath = () => join(dir, `store-${++files}.db`);
const fresh = (options?: SqliteStoreOptions) => openSqliteStore(freshPath(), options);

storeConformance("SqliteStore", () => fresh(), {
  reopen: (closed) => openSqliteStore(closed.path),
});

// A session cache of two entries: nearly every read misses or evicts; results must not change.
storeConformance("SqliteStore with a tiny session cache", () => fresh({ cachedSessions: 2 }), {
  runs: 200,
});

// Every extraction takes the scan path instead of the dot index; results must not change.
storeConformance("SqliteStore extracting by scan", () => fresh({ indexedExtractLimit: 0 }), {
  runs: 200,
});

describe("SqliteStore on disk", () => {
  it("keeps the WAL bounded under continuous writes (checkpoints let it restart)", () => {
    const store = fresh();
    const payload = "x".repeat(400);
    for (let i = 0; i < 30_000; i += 100) {
      const deltas = [];
      for (let j = i; j < i + 100; j++) {
        deltas.push(
          testDelta(testSessionId(`wal${j}`), testStamp("eu", j + 1), { set: { a: payload } }),
        );
      }
      store.applyDeltas(deltas);
    }
    // Over 12 MB of values went through; the WAL restarts after each checkpoint instead.
    expect(statSync(`${store.path}-wal`).size).toBeLessThan(8 * 1024 * 1024);
    store.close();
  });

  it("keeps the database in WAL mode at the current schema version", () => {
    const store = fresh();
    store.applyDeltas([testDelta(testSessionId("wal"), testStamp("eu", 1), { set: { a: 1 } })]);
    const raw = new Database(store.path, { readonly: true });
    try {
      expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(raw.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    } finally {
      raw.close();
      store.close();
    }
  });

  it("refuses a database written by a newer schema", () => {
    const path = freshPath();
    const raw = new Database(path);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => openSqliteStore(path)).toThrow(
      expect.objectContaining({ code: "MERIDIAN_ERR_STORAGE_VERSION" }),
    );
  });

  it("forgets that a session was absent once any path writes or purges it", () => {
    const store = fresh();
    const ids = ["byDeltas", "byStates", "byPurge", "byPurged"].map((n) => testSessionId(n));
    const [byDeltas, byStates, byPurge, byPurged] = ids as [string, string, string, string];
    // Each lookup of an absent, unpurged id leaves it cached as absent.
    for (const id of ids) {
      expect(store.getSession(id)).toBeUndefined();
      expect(store.wasPurged(id)).toBe(false);
    }
    store.applyDeltas([testDelta(byDeltas, testStamp("eu", 1), { set: { a: 1 } })]);
    const fragment = testDelta(byStates, testStamp("eu", 2), { set: { b: 2 } }).session;
    store.applyStates([fragment]);
    store.purgeSession(byPurge);
    store.applyPurged([{ id: byPurged, dot: null }]);
    expect(store.getSession(byDeltas)?.fields.has("a")).toBe(true);
    expect(store.getSession(byStates)?.fields.has("b")).toBe(true);
    for (const id of [byPurge, byPurged]) {
      expect(store.getSession(id)).toBeUndefined();
      expect(store.wasPurged(id)).toBe(true);
    }
    // A write to a purged id stays dropped, whatever the cache said before.
    store.applyDeltas([testDelta(byPurge, testStamp("eu", 3), { set: { c: 3 } })]);
    expect(store.getSession(byPurge)).toBeUndefined();
    store.close();
  });

  it("applies a batch all or nothing", () => {
    let store = fresh();
    const id = testSessionId("atomic");
    const good = testDelta(id, testStamp("eu", 1), { set: { a: 1 } });
    const broken = testDelta(id, testStamp("eu", 2), { set: { b: 2 } });
    // A register no codec would produce: writing it throws half-way through the batch.
    (broken.session.fields as Map<string, unknown>).set("b", { kind: "bogus" });
    expect(() => store.applyDeltas([good, broken], { wall: 5, logical: 0 })).toThrow();
    const check = () => {
      expect(store.getSession(id)).toBeUndefined();
      expect(store.versionVector().toString()).toBe("");
      expect(store.loadClock()).toBeUndefined();
    };
    check();
    store.close();
    store = openSqliteStore(store.path);
    check();
    store.applyDeltas([good]);
    expect(store.versionVector().toString()).toBe("eu:1");
    store.close();
  });

  it("reads only index rows above a peer's base when extracting", () => {
    const store = fresh();
    const raw = new Database(store.path);
    try {
      const sql = prepareStatements(raw).candidates.source;
      const plan = raw
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all({ origin: "eu", base: 10, after: "", cap: 100 }) as { detail: string }[];
      const details = plan.map((p) => p.detail).join("\n");
      expect(details).toMatch(/SEARCH session_dots USING PRIMARY KEY \(origin=\? AND seq>\?\)/);
      expect(details).not.toMatch(/SCAN session_dots/);
    } finally {
      raw.close();
      store.close();
    }
  });

  it("reads only purged ids above a peer's base when extracting purges", () => {
    const store = fresh();
    const raw = new Database(store.path);
    try {
      const sql = prepareStatements(raw).purgedAbove.source;
      const plan = raw
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all({ origin: "eu", base: 10, after: "", cap: 100 }) as { detail: string }[];
      const details = plan.map((p) => p.detail).join("\n");
      expect(details).toMatch(
        /SEARCH purged USING (COVERING )?INDEX purged_by_dot \(origin=\? AND seq>\?\)/,
      );
      expect(details).not.toMatch(/SCAN purged/);
    } finally {
      raw.close();
      store.close();
    }
  });

  it("migrates a version 1 database: its purged ids stay purged, offered to every peer", () => {
    const path = freshPath();
    const raw = new Database(path);
    raw.exec(SCHEMA_V1);
    raw.pragma("user_version = 1");
    const old = testSessionId("v1purged");
    raw.prepare("INSERT INTO purged (id) VALUES (?)").run(old);
    raw.close();
    const store = openSqliteStore(path);
    try {
      expect(store.wasPurged(old)).toBe(true);
      const everything = VersionVector.from([["eu", { base: 1000, ranges: [] }]]);
      expect(store.extractPurged(everything).purged).toEqual([{ id: old, dot: null }]);
      store.applyStates([testDelta(old, testStamp("eu", 1), { set: { k: 1 } }).session]);
      expect(store.getSession(old)).toBeUndefined();
    } finally {
      store.close();
    }
  });

  it("finds what a slightly-behind peer lacks among many sessions, by both paths", () => {
    const writes = Array.from({ length: 500 }, (_, i) =>
      testDelta(testSessionId(`bulk${i}`), testStamp(i % 2 ? "eu" : "us", (i >> 1) + 1), {
        set: { i },
      }),
    );
    for (const options of [{}, { indexedExtractLimit: 0 }]) {
      const store = fresh(options);
      try {
        store.applyDeltas(writes);
        const lacking = writes.filter((_, i) => i % 97 === 3);
        const without = new VersionVector();
        for (const w of writes) if (!lacking.includes(w)) without.add(w.dot);
        const expected = lacking.map((w) => w.session.id).sort();
        expect(expected.length).toBe(6);
        const page = store.extractMissing(without, { limit: 2 });
        expect(page.sessions.map((s) => s.id)).toEqual(expected.slice(0, 2));
        expect(page.next).toBe(expected[1]);
        const all = store.extractMissing(without);
        expect(all.sessions.map((s) => s.id)).toEqual(expected);
      } finally {
        store.close();
      }
    }
  });

  it("loses no acknowledged write when the writing process is killed with SIGKILL", async () => {
    const path = freshPath();
    const acked = await crashWriter(path, ["FULL"], ([seq]) => (seq ?? 0) >= 300);
    expect(acked).toBeGreaterThanOrEqual(300);
    expectAcknowledgedWrites(path, acked);
  });
});
