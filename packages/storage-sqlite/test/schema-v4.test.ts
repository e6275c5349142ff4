import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Delta, MemoryStore, sessionStamps, VersionVector } from "@meridian/core";
import {
  canonical,
  TEST_EPOCH_MS,
  testDelta,
  testSessionId,
  testStamp,
  yjsUpdate,
} from "@meridian/core/testing";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { openSqliteStore } from "../src/index.ts";
import { EXPIRY_BUCKET_MS } from "../src/schema.ts";
import { prepareStatements } from "../src/statements.ts";
import { SealedRows } from "../src/sealed-rows.ts";
import { keyring, newKey, plaintextFound } from "./keyring-kit.ts";
import { writeV3File } from "./v3-file.ts";

const dir = mkdtempSync(join(tmpdir(), "meridian-v4-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = () => join(dir, `v4-${++files}.db`);

const a = testSessionId("v3a");
const b = testSessionId("v3b");
const c = testSessionId("v3c");
const SECRETS = ["v3-card-secret", "v3-yjs-secret", "v3-user@example.com"];
const epoch = { wall: 0, logical: 0, node: "" };

/** Writes covering every register kind: values, a Yjs document from two regions, metadata. */
const WRITES: Delta[] = [
  testDelta(a, testStamp("eu", 1), {
    set: { card: SECRETS[0], n: 1 },
    userId: SECRETS[2],
    expiresAt: TEST_EPOCH_MS + 60_000,
    idleMs: 30_000,
    lastAccess: TEST_EPOCH_MS + 1,
    deadline: TEST_EPOCH_MS + 90_000,
  }),
  testDelta(a, testStamp("eu", 2), { set: { n: 2 }, expiresAt: TEST_EPOCH_MS + 70_000 }),
  testDelta(b, testStamp("us", 1), { yjs: { doc: { epoch, update: yjsUpdate(1, SECRETS[1]!) } } }),
  testDelta(b, testStamp("eu", 3), { yjs: { doc: { epoch, update: yjsUpdate(2, "more") } } }),
  testDelta(c, testStamp("us", 2), { set: { x: 1 }, userId: SECRETS[2] }),
  testDelta(c, testStamp("us", 3), { deleted: true }),
];

/** The reference store and the v3 file holding the same writes. */
function v3Fixture(path: string, protection?: SealedRows): MemoryStore {
  const ref = new MemoryStore();
  ref.applyDeltas(WRITES);
  const clock = { wall: TEST_EPOCH_MS + 5, logical: 2 };
  writeV3File(path, [...ref.allSessions()], ref.versionVector(), clock, protection);
  return ref;
}

function tables(path: string): string[] {
  const raw = new Database(path, { readonly: true });
  try {
    const rows = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all();
    return (rows as { name: string }[]).map((r) => r.name).sort();
  } finally {
    raw.close();
  }
}

function dotRows(path: string): unknown[] {
  const raw = new Database(path, { readonly: true });
  try {
    return raw.prepare("SELECT origin, seq, session_id FROM session_dots ORDER BY 3, 1").all();
  } finally {
    raw.close();
  }
}

describe("schema 3 to 4", () => {
  it("packs every register into one row per session, keeping every read the same", () => {
    const path = freshPath();
    const ref = v3Fixture(path);
    const store = openSqliteStore(path);
    try {
      for (const id of [a, b, c])
        expect(canonical(store.getSession(id))).toEqual(canonical(ref.getSession(id)));
      expect(store.digest()).toBe(ref.digest());
      expect(store.versionVector().toString()).toBe(ref.versionVector().toString());
      expect(store.loadClock()).toEqual({ wall: TEST_EPOCH_MS + 5, logical: 2 });
      expect(store.sessionsOfUser(SECRETS[2]!)).toEqual(ref.sessionsOfUser(SECRETS[2]!));
      expect(store.tombstones(10)).toEqual([c]);
      expect(store.expiredBefore(TEST_EPOCH_MS + 1e9, 10)).toEqual([a]);
      // Extraction finds each session through its newest dot per origin.
      const peer = VersionVector.from([
        ["eu", { base: 2, ranges: [] }],
        ["us", { base: 3, ranges: [] }],
      ]);
      expect(store.extractMissing(peer).sessions.map((s) => s.id)).toEqual([b]);
      const ids = (p: VersionVector) => store.extractMissing(p).sessions.map((s) => s.id);
      expect(ids(new VersionVector())).toEqual([a, b, c].sort());
      // Writes after the migration join as before.
      store.applyDeltas([testDelta(a, testStamp("eu", 4), { set: { n: 3 } })]);
      ref.applyDeltas([testDelta(a, testStamp("eu", 4), { set: { n: 3 } })]);
      expect(store.digest()).toBe(ref.digest());
    } finally {
      store.close();
    }
    expect(tables(path)).toEqual([
      "meta",
      "origins",
      "progress",
      "purged",
      "session_dots",
      "sessions",
    ]);
    expect(dotRows(path)).toEqual(
      [
        { origin: "eu", seq: 4, session_id: a },
        { origin: "eu", seq: 3, session_id: b },
        { origin: "us", seq: 1, session_id: b },
        { origin: "us", seq: 3, session_id: c },
      ].sort((x, y) => (x.session_id < y.session_id ? -1 : x.session_id > y.session_id ? 1 : 0)),
    );
  });

  it("seals each session's secrets as one part under the current key, never in the clear", () => {
    const k1 = newKey();
    const ring = keyring({ k1 }, "k1");
    const path = freshPath();
    const ref = v3Fixture(path, new SealedRows(ring));
    // Migrating opens sealed values: without the key it stops, and leaves the file at schema 3.
    expect(() => openSqliteStore(path)).toThrow(
      expect.objectContaining({ code: "MERIDIAN_ERR_STORAGE_UNKNOWN_KEY" }),
    );
    expect(tables(path)).toContain("registers");
    const store = openSqliteStore(path, { keyring: ring });
    try {
      for (const id of [a, b, c])
        expect(canonical(store.getSession(id))).toEqual(canonical(ref.getSession(id)));
      expect(store.sessionsOfUser(SECRETS[2]!)).toEqual(ref.sessionsOfUser(SECRETS[2]!));
      // card, n, userId of a; doc of b; x, userId of c.
      expect([...store.keyUsage()]).toEqual([["k1", 6]]);
      expect(store.checkpoint()).toBe(true);
      expect(plaintextFound(path, SECRETS)).toEqual([]);
    } finally {
      store.close();
    }
  });

  it("keeps plain values of an encrypted store refused until reencrypt adopts them", () => {
    const ring = keyring({ k1: newKey() }, "k1");
    const path = freshPath();
    const ref = v3Fixture(path);
    const store = openSqliteStore(path, { keyring: ring });
    try {
      expect(() => store.getSession(a)).toThrow(
        expect.objectContaining({ code: "MERIDIAN_ERR_STORAGE_PLAINTEXT" }),
      );
      expect([...store.keyUsage()]).toEqual([[null, 6]]);
      expect(store.reencrypt({ adoptPlaintext: true })).toEqual({
        sessions: 3,
        payloads: 6,
        userTags: 2,
      });
      expect([...store.keyUsage()]).toEqual([["k1", 6]]);
      expect(store.sessionsOfUser(SECRETS[2]!)).toEqual(ref.sessionsOfUser(SECRETS[2]!));
    } finally {
      store.close();
    }
  });
});

describe("schema 4 writes", () => {
  const pageFrames = (path: string) => statSync(`${path}-wal`).size / (4096 + 24);

  it("stays flat under overwrites of one field: one dot row per origin, no new pages", () => {
    const store = openSqliteStore(freshPath());
    const id = testSessionId("flat");
    // Regions in turn, each numbering its own writes 1, 2, 3…
    const overwrite = (n: number) =>
      store.applyDeltas([
        testDelta(id, testStamp(n % 2 ? "eu" : "us", (n + 1) >> 1, n), {
          set: { cart: `cart ${n}` },
          expiresAt: TEST_EPOCH_MS + 60_000 + n,
        }),
      ]);
    let seq = 0;
    store.applyDeltas([testDelta(id, testStamp("ap", 1), { set: { user: "u" } })]);
    while (seq < 500) overwrite(++seq);
    store.checkpoint();
    const pages = () => {
      const raw = new Database(store.path, { readonly: true });
      try {
        const count = raw.pragma("page_count", { simple: true }) as number;
        return count - (raw.pragma("freelist_count", { simple: true }) as number);
      } finally {
        raw.close();
      }
    };
    const early = pages();
    while (seq < 5000) overwrite(++seq);
    store.checkpoint();
    expect(pages()).toBe(early);
    // One row per origin, at the newest stamp of that origin the session still carries (ap's
    // field user; us's last write; eu's newest lifetime the join kept).
    const newest = new Map<string, number>();
    for (const st of sessionStamps(store.getSession(id)!)) {
      newest.set(st.hlc.node, Math.max(st.seq, newest.get(st.hlc.node) ?? 0));
    }
    expect(newest.get("us")).toBe(2500);
    expect(dotRows(store.path)).toEqual(
      ["ap", "eu", "us"].map((origin) => ({ origin, seq: newest.get(origin), session_id: id })),
    );
    store.close();
  });

  it("drops a purged session's dot rows, without needing its key", () => {
    const path = freshPath();
    const sealed = openSqliteStore(path, { keyring: keyring({ k1: newKey() }, "k1") });
    sealed.applyDeltas(WRITES);
    sealed.close();
    const store = openSqliteStore(path);
    try {
      store.purgeSession(c);
      store.applyPurged([{ id: b, dot: null }]);
      expect(dotRows(path)).toEqual([{ origin: "eu", seq: 2, session_id: a }]);
      expect(store.sessionIds(undefined, 10)).toEqual([a]);
    } finally {
      store.close();
    }
  });

  it("dirties few pages per overwrite: the row, two dot-index pages and progress", () => {
    const store = openSqliteStore(freshPath());
    const ids = Array.from({ length: 3000 }, (_, i) => testSessionId(`pages${i}`));
    // Expiries that slide within one expiry bucket, as a sliding TTL does between two writes.
    const bucketStart = Math.ceil((TEST_EPOCH_MS + 1e6) / EXPIRY_BUCKET_MS) * EXPIRY_BUCKET_MS;
    let seq = 0;
    for (let i = 0; i < ids.length; i += 500) {
      store.applyDeltas(
        ids.slice(i, i + 500).map((id) =>
          testDelta(id, testStamp("eu", ++seq), {
            set: { user: "u", cart: [1, 2], n: 1 },
            userId: `user-${i}`,
            lifetime: [TEST_EPOCH_MS, bucketStart + seq],
          }),
        ),
      );
    }
    store.checkpoint();
    const commits = 50;
    for (let k = 0; k < commits; k++) {
      const id = ids[(k * 7919) % ids.length]!;
      ++seq;
      store.applyDeltas(
        [
          testDelta(id, testStamp("eu", seq), {
            set: { n: k },
            lifetime: [TEST_EPOCH_MS, bucketStart + seq],
          }),
        ],
        { wall: TEST_EPOCH_MS + seq, logical: 0 },
      );
    }
    // Schema 3 wrote 13 pages per such commit (register, stamp and session indexes, vector, clock).
    expect(pageFrames(store.path) / commits).toBeLessThanOrEqual(4.5);
    store.close();
  });

  it("reads the expiry sweep through the bucket index, never a scan", () => {
    const store = openSqliteStore(freshPath());
    const raw = new Database(store.path);
    try {
      const sql = prepareStatements(raw).expiredBefore.source;
      const plan = raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all({ t: 5, bucket: 0, limit: 10 }) as {
        detail: string;
      }[];
      const details = plan.map((p) => p.detail).join("\n");
      expect(details).toMatch(/SEARCH sessions USING INDEX sessions_by_expiry_bucket/);
      expect(details).not.toMatch(/SCAN sessions/);
    } finally {
      raw.close();
      store.close();
    }
  });

  it("sweeps expiries across bucket boundaries exactly like the reference", () => {
    const store = openSqliteStore(freshPath());
    const ref = new MemoryStore();
    const b0 = Math.ceil(TEST_EPOCH_MS / EXPIRY_BUCKET_MS) * EXPIRY_BUCKET_MS;
    const ends = [b0 - 1, b0, b0 + 1, b0 + EXPIRY_BUCKET_MS - 1, b0 + EXPIRY_BUCKET_MS, b0 + 5];
    const writes = ends.map((end, i) =>
      testDelta(testSessionId(`sweep${i}`), testStamp("eu", i + 1), {
        lifetime: [TEST_EPOCH_MS, end],
      }),
    );
    // Then two of them slide: one within its bucket, one into the next.
    writes.push(
      testDelta(testSessionId("sweep1"), testStamp("eu", 10), {
        lifetime: [TEST_EPOCH_MS, b0 + 3],
      }),
      testDelta(testSessionId("sweep2"), testStamp("eu", 11), {
        lifetime: [TEST_EPOCH_MS, b0 + EXPIRY_BUCKET_MS + 2],
      }),
    );
    for (const w of writes) {
      store.applyDeltas([w]);
      ref.applyDeltas([w]);
    }
    const times = [b0 - 1, b0, b0 + 1, b0 + 2, b0 + 4, b0 + 6, b0 + 5.5];
    for (const t of [...times, b0 + EXPIRY_BUCKET_MS, b0 + EXPIRY_BUCKET_MS + 3]) {
      for (const limit of [1, 2, 10]) {
        expect(store.expiredBefore(t, limit), `t ${t - b0} limit ${limit}`).toEqual(
          ref.expiredBefore(t, limit),
        );
      }
    }
    store.close();
  });
});

describe("schema 3 to 4, expiry buckets", () => {
  it("gives migrated sessions the bucket a write would, so the sweep finds the same ones", () => {
    // Expiries where SQL's integer shift and the store's floor division part ways: fractions
    // below zero, and times past 2^63 ms.
    const ends = [-65_536.5, -1.5, -0.5, 0.5, 2 ** 64, -(2 ** 64)];
    const writes = ends.map((end, i) =>
      testDelta(testSessionId(`mig-sweep${i}`), testStamp("eu", i + 1), {
        lifetime: [end - 2, end],
      }),
    );
    const ref = new MemoryStore();
    ref.applyDeltas(writes);
    const path = freshPath();
    writeV3File(path, [...ref.allSessions()], ref.versionVector(), { wall: 1, logical: 0 });
    const migrated = openSqliteStore(path);
    const written = openSqliteStore(freshPath());
    written.applyDeltas(writes);
    try {
      for (const t of [-65_536.25, -1.25, -0.25, 0, 1, 2 ** 64 + 2 ** 20, -(2 ** 64) + 2 ** 20]) {
        expect(written.expiredBefore(t, 10), `written, t ${t}`).toEqual(ref.expiredBefore(t, 10));
        expect(migrated.expiredBefore(t, 10), `migrated, t ${t}`).toEqual(ref.expiredBefore(t, 10));
      }
    } finally {
      migrated.close();
      written.close();
    }
  });
});
