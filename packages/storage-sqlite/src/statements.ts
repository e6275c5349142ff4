import type Database from "better-sqlite3";
import type { JoinedRow, StoredRow } from "./register-rows.ts";

/** A row of the `purged` table; `origin` and `seq` are NULL when the dot is unknown. */
export interface PurgedRow {
  readonly id: string;
  readonly origin: string | null;
  readonly seq: number | null;
}

/**
 * Every statement the store runs, prepared once per connection.
 *
 * @remarks Extraction reads `registers_by_dot` and the `register_stamps` primary key from a peer's
 * contiguous base upwards (`seq > ?`), never the whole table.
 */
export function prepareStatements(db: Database.Database) {
  return {
    sessionRows: db.prepare<[string], JoinedRow>(
      `SELECT s.id, r.key, r.kind, r.payload
       FROM sessions s LEFT JOIN registers r ON r.session_id = s.id
       WHERE s.id = ?`,
    ),
    sessionRowsAfter: db.prepare<[string, number], JoinedRow>(
      `SELECT s.id, r.key, r.kind, r.payload
       FROM (SELECT id FROM sessions WHERE id > ? ORDER BY id LIMIT ?) s
       LEFT JOIN registers r ON r.session_id = s.id
       ORDER BY s.id`,
    ),
    upsertSession: db.prepare<[string, string | null, number | null, number]>(
      `INSERT INTO sessions (id, user_id, expires_at, deleted) VALUES (?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET
         user_id = excluded.user_id, expires_at = excluded.expires_at, deleted = excluded.deleted`,
    ),
    upsertRegister: db.prepare<[string, string, string, string, number, Uint8Array]>(
      `INSERT INTO registers (session_id, key, kind, origin, seq, payload) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (session_id, key) DO UPDATE SET
         kind = excluded.kind, origin = excluded.origin, seq = excluded.seq,
         payload = excluded.payload`,
    ),
    insertRegisterStamp: db.prepare<[string, number, string, string]>(
      "INSERT OR IGNORE INTO register_stamps (origin, seq, session_id, key) VALUES (?, ?, ?, ?)",
    ),
    deleteRegisterStamps: db.prepare<[string, string]>(
      "DELETE FROM register_stamps WHERE session_id = ? AND key = ?",
    ),
    candidates: db.prepare<
      { origin: string; base: number; after: string; cap: number },
      { id: string }
    >(
      `SELECT session_id AS id FROM registers
         WHERE origin = $origin AND seq > $base AND session_id > $after
       UNION
       SELECT session_id AS id FROM register_stamps
         WHERE origin = $origin AND seq > $base AND session_id > $after
       LIMIT $cap`,
    ),
    sessionsOfUser: db.prepare<[string], { id: string }>(
      "SELECT id FROM sessions WHERE user_id = ? ORDER BY id",
    ),
    sessionPage: db.prepare<[string, number], { id: string; user_id: string | null }>(
      "SELECT id, user_id FROM sessions WHERE id > ? ORDER BY id LIMIT ?",
    ),
    sessionIds: db.prepare<[string, number], { id: string }>(
      "SELECT id FROM sessions WHERE id > ? ORDER BY id LIMIT ?",
    ),
    registersOf: db.prepare<[string], StoredRow>(
      "SELECT key, kind, payload FROM registers WHERE session_id = ?",
    ),
    updatePayload: db.prepare<[Uint8Array, string, string]>(
      "UPDATE registers SET payload = ? WHERE session_id = ? AND key = ?",
    ),
    updateUserTag: db.prepare<[string | null, string]>(
      "UPDATE sessions SET user_id = ? WHERE id = ?",
    ),
    secretPayloads: db.prepare<[string], { payload: Uint8Array }>(
      "SELECT payload FROM registers WHERE kind <> 'meta' OR key = ?",
    ),
    sessionCount: db.prepare<[], { n: number }>("SELECT count(*) AS n FROM sessions"),
    purgeRegisters: db.prepare<[string]>("DELETE FROM registers WHERE session_id = ?"),
    purgeRegisterStamps: db.prepare<[string]>("DELETE FROM register_stamps WHERE session_id = ?"),
    purgeSession: db.prepare<[string]>("DELETE FROM sessions WHERE id = ?"),
    // A known dot replaces an unknown one; otherwise the first dot recorded stays.
    insertPurged: db.prepare<[string, string | null, number | null]>(
      `INSERT INTO purged (id, origin, seq) VALUES (?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET origin = excluded.origin, seq = excluded.seq
       WHERE purged.origin IS NULL AND excluded.origin IS NOT NULL`,
    ),
    purgedAbove: db.prepare<
      { origin: string; base: number; after: string; cap: number },
      PurgedRow
    >(
      `SELECT id, origin, seq FROM purged
       WHERE origin = $origin AND seq > $base AND id > $after LIMIT $cap`,
    ),
    purgedWithoutDot: db.prepare<{ after: string; cap: number }, PurgedRow>(
      "SELECT id, origin, seq FROM purged WHERE origin IS NULL AND id > $after LIMIT $cap",
    ),
    purgedAfter: db.prepare<[string, number], PurgedRow>(
      "SELECT id, origin, seq FROM purged WHERE id > ? ORDER BY id LIMIT ?",
    ),
    wasPurged: db.prepare<[string], { one: number }>("SELECT 1 AS one FROM purged WHERE id = ?"),
    expiredBefore: db.prepare<[number, number], { id: string }>(
      "SELECT id FROM sessions WHERE expires_at < ? AND deleted = 0 ORDER BY expires_at, id LIMIT ?",
    ),
    tombstones: db.prepare<[string, number], { id: string }>(
      "SELECT id FROM sessions WHERE deleted = 1 AND id > ? ORDER BY id LIMIT ?",
    ),
    origins: db.prepare<[], { origin: string }>("SELECT origin FROM origins"),
    insertOrigin: db.prepare<[string]>("INSERT OR IGNORE INTO origins (origin) VALUES (?)"),
    versionVector: db.prepare<[], { origin: string; base: number; ranges: string }>(
      "SELECT origin, base, ranges FROM version_vector",
    ),
    upsertCoverage: db.prepare<[string, number, string]>(
      `INSERT INTO version_vector (origin, base, ranges) VALUES (?, ?, ?)
       ON CONFLICT (origin) DO UPDATE SET base = excluded.base, ranges = excluded.ranges`,
    ),
    loadClock: db.prepare<[], { wall: number; logical: number }>(
      "SELECT wall, logical FROM clock WHERE id = 1",
    ),
    // Never backwards: a lower value leaves the stored one in place.
    saveClock: db.prepare<[number, number]>(
      `INSERT INTO clock (id, wall, logical) VALUES (1, ?, ?)
       ON CONFLICT (id) DO UPDATE SET wall = excluded.wall, logical = excluded.logical
       WHERE (excluded.wall, excluded.logical) > (clock.wall, clock.logical)`,
    ),
    getMeta: db.prepare<[string], { value: string }>("SELECT value FROM meta WHERE key = ?"),
    setMeta: db.prepare<[string, string]>(
      `INSERT INTO meta (key, value) VALUES (?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    ),
  };
}

/** The prepared statements of one connection. */
export type Statements = ReturnType<typeof prepareStatements>;
