import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packValue, softExpiry, VersionVector } from "@meridian/core";
import { canonical, testDelta, testSessionId, testStamp } from "@meridian/core/testing";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { openSqliteStore, SCHEMA_VERSION } from "../src/index.ts";
import { SCHEMA_V1 } from "../src/schema.ts";

const dir = mkdtempSync(join(tmpdir(), "meridian-migration-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const EXP = "\u0000exp";
const stampTuple = (wall: number, node: string, seq: number) => [wall, 0, node, seq];

/** A database exactly as schema 1 code left it: one session with a field and an expiry. */
function writeV1(path: string, id: string): void {
  const db = new Database(path);
  db.exec(SCHEMA_V1);
  db.pragma("user_version = 1");
  const reg = db.prepare(
    "INSERT INTO registers (session_id, key, kind, origin, seq, payload) VALUES (?, ?, ?, ?, ?, ?)",
  );
  reg.run(id, "cart", "value", "eu", 1, packValue([stampTuple(3000, "eu", 1), packValue([1])]));
  // Schema 1's expiry: one max-merged time, set by eu's write 2 at wall 4000.
  reg.run(id, EXP, "meta", "eu", 2, packValue([64_000, stampTuple(4000, "eu", 2)]));
  db.prepare("INSERT INTO sessions (id, user_id, expires_at, deleted) VALUES (?, NULL, ?, 0)").run(
    id,
    64_000,
  );
  db.prepare("INSERT INTO origins (origin) VALUES ('eu')").run();
  db.prepare("INSERT INTO version_vector (origin, base, ranges) VALUES ('eu', 2, '[]')").run();
  db.close();
}

describe("schema 1 to 4", () => {
  it("turns each stored expiry into the lifetime of the write that set it, keeping the expiry", () => {
    const path = join(dir, "v1.db");
    const id = testSessionId("old");
    writeV1(path, id);
    const store = openSqliteStore(path);
    try {
      expect(SCHEMA_VERSION).toBe(4);
      const s = store.getSession(id)!;
      expect(s.lifetimes).toEqual([
        {
          from: 4000,
          until: 64_000,
          stamp: { hlc: { wall: 4000, logical: 0, node: "eu" }, seq: 2 },
        },
      ]);
      expect(softExpiry(s)).toBe(64_000);
      expect(store.expiredBefore(64_001, 10)).toEqual([id]);
      expect(store.expiredBefore(64_000, 10)).toEqual([]);
      // Extraction finds the migrated register through its stamp.
      const peer = VersionVector.from([["eu", { base: 1, ranges: [] }]]);
      expect(store.extractMissing(peer).sessions.map((x) => x.lifetimes)).toEqual([s.lifetimes]);
      // A write made by a region that never saw the session, after it expired, does not revive
      // it; a touch made while it lived extends it.
      store.applyDeltas([
        testDelta(
          id,
          { hlc: { wall: 70_000, logical: 0, node: "ap" }, seq: 1 },
          {
            lifetime: [70_000, 130_000],
          },
        ),
      ]);
      expect(softExpiry(store.getSession(id)!)).toBe(64_000);
      store.applyDeltas([
        testDelta(
          id,
          { hlc: { wall: 60_000, logical: 0, node: "us" }, seq: 1 },
          {
            lifetime: [4000, 80_000],
          },
        ),
      ]);
      expect(softExpiry(store.getSession(id)!)).toBe(130_000);
      expect(store.expiredBefore(100_000, 10)).toEqual([]);
    } finally {
      store.close();
    }
    const raw = new Database(path, { readonly: true });
    try {
      expect(raw.pragma("user_version", { simple: true })).toBe(4);
      // The lifetime of eu's write 2 was absorbed: eu's newest dot is the cart's again.
      const dots = raw
        .prepare("SELECT origin, seq FROM session_dots WHERE session_id = ? ORDER BY origin")
        .all(id);
      expect(dots).toEqual([
        { origin: "ap", seq: 1 },
        { origin: "eu", seq: 1 },
        { origin: "us", seq: 1 },
      ]);
    } finally {
      raw.close();
    }
  });

  it("reopens a migrated database unchanged, and a fresh one starts at the latest schema", () => {
    const path = join(dir, "v1-twice.db");
    const id = testSessionId("twice");
    writeV1(path, id);
    const first = openSqliteStore(path);
    const state = canonical(first.getSession(id));
    first.close();
    const again = openSqliteStore(path);
    expect(canonical(again.getSession(id))).toEqual(state);
    again.close();
    const fresh = openSqliteStore(join(dir, "fresh.db"));
    fresh.applyDeltas([testDelta(id, testStamp("eu", 1), { expiresAt: 10 })]);
    expect(fresh.getSession(id)?.lifetimes?.length).toBe(1);
    fresh.close();
  });
});
