import type Database from "better-sqlite3";

/** A row of the `purged` table; `origin` and `seq` are NULL when the dot is unknown. */
export interface PurgedRow {
  readonly id: string;
  readonly origin: string | null;
  readonly seq: number | null;
}

/**
 * Most rows of one multi-row INSERT of new sessions or index rows (see `new-session-rows.ts`);
 * a power of two.
 */
export const ROWS_PER_INSERT = 64;
/** Columns of a `sessions` row as `insertSessions` binds them. */
export const SESSION_COLUMNS = 6;
/** Columns of a `session_dots` row as `insertDots` binds them. */
export const DOT_COLUMNS = 3;

/** `(?, …), (?, …)…`: `rows` groups of `columns` placeholders. */
function rowsOf(columns: number, rows: number): string {
  const row = `(${Array.from({ length: columns }, () => "?").join(", ")})`;
  return Array.from({ length: rows }, () => row).join(", ");
}

/** A multi-row INSERT of `rows` rows, prepared on first use (see {@link rowInserts}). */
export type RowInsert = (rows: number) => Database.Statement<unknown[]>;

/**
 * The multi-row INSERTs `head (?, …), (?, …)…` of one table, for every power of two of rows up
 * to {@link ROWS_PER_INSERT}, each prepared the first time it is asked for.
 *
 * @remarks Any number of rows goes in with at most one statement per bit of that number (its
 * binary digits), so a group commit of a few sessions runs a couple of statements instead of
 * one per row, while the prepared statements stay few (seven per table).
 */
function rowInserts(db: Database.Database, head: string, columns: number): RowInsert {
  const prepared = new Map<number, Database.Statement<unknown[]>>();
  return (rows) => {
    let statement = prepared.get(rows);
    if (statement === undefined) {
      statement = db.prepare<unknown[]>(`${head} ${rowsOf(columns, rows)}`);
      prepared.set(rows, statement);
    }
    return statement;
  };
}

/**
 * Every statement the store runs, prepared once per connection.
 *
 * @remarks Extraction reads the `session_dots` primary key from a peer's contiguous base upwards
 * (`seq > ?`), never the whole table.
 */
export function prepareStatements(db: Database.Database) {
  return {
    sessionBody: db.prepare<[string], { body: Uint8Array }>(
      "SELECT body FROM sessions WHERE id = ?",
    ),
    // One lookup for a session that may be new: its row, else whether its id was purged.
    sessionOrPurged: db.prepare<[string, string], { body: Uint8Array | null; purged: number }>(
      `SELECT (SELECT body FROM sessions WHERE id = ?) AS body,
              EXISTS (SELECT 1 FROM purged WHERE id = ?) AS purged`,
    ),
    sessionBodiesAfter: db.prepare<[string, number], { id: string; body: Uint8Array }>(
      "SELECT id, body FROM sessions WHERE id > ? ORDER BY id LIMIT ?",
    ),
    // Bulk reads take their ids as one JSON array: one statement per chunk of sessions instead
    // of one per session, whose fixed cost (bind, step, reset) outweighs a B-tree probe.
    sessionBodiesOf: db.prepare<[string], { id: string; body: Uint8Array }>(
      "SELECT id, body FROM sessions WHERE id IN (SELECT value FROM json_each(?))",
    ),
    // The prior state of each id of a group commit or anti-entropy chunk: its row, else whether
    // it was purged (a row for every id given).
    priorOf: db.prepare<[string], { id: string; body: Uint8Array | null; purged: number }>(
      `SELECT j.value AS id, s.body AS body,
              EXISTS (SELECT 1 FROM purged AS p WHERE p.id = j.value) AS purged
       FROM json_each(?) AS j LEFT JOIN sessions AS s ON s.id = j.value`,
    ),
    insertSessions: rowInserts(
      db,
      "INSERT INTO sessions (id, user_id, expires_at, expiry_bucket, deleted, body) VALUES",
      SESSION_COLUMNS,
    ),
    insertDots: rowInserts(
      db,
      "INSERT OR IGNORE INTO session_dots (origin, seq, session_id) VALUES",
      DOT_COLUMNS,
    ),
    upsertSession: db.prepare<
      [string, string | null, number | null, number | null, number, Uint8Array]
    >(
      `INSERT INTO sessions (id, user_id, expires_at, expiry_bucket, deleted, body)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id,
         expires_at = excluded.expires_at, expiry_bucket = excluded.expiry_bucket,
         deleted = excluded.deleted, body = excluded.body`,
    ),
    // The two updates below name only the columns that may have changed: SQLite then leaves the
    // index entries of the others (user, tombstone, expiry bucket) untouched, pages included.
    // expires_at is not indexed (its bucket is), so it changes along with the body for free.
    updateBody: db.prepare<[Uint8Array, number | null, string]>(
      "UPDATE sessions SET body = ?, expires_at = ? WHERE id = ?",
    ),
    updateBodyBucket: db.prepare<[Uint8Array, number | null, number | null, string]>(
      "UPDATE sessions SET body = ?, expires_at = ?, expiry_bucket = ? WHERE id = ?",
    ),
    resealBody: db.prepare<[Uint8Array, string]>("UPDATE sessions SET body = ? WHERE id = ?"),
    insertDot: db.prepare<[string, number, string]>(
      "INSERT OR IGNORE INTO session_dots (origin, seq, session_id) VALUES (?, ?, ?)",
    ),
    deleteDot: db.prepare<[string, number, string]>(
      "DELETE FROM session_dots WHERE origin = ? AND seq = ? AND session_id = ?",
    ),
    candidates: db.prepare<
      { origin: string; base: number; after: string; cap: number },
      { id: string }
    >(
      `SELECT session_id AS id FROM session_dots
         WHERE origin = $origin AND seq > $base AND session_id > $after
       LIMIT $cap`,
    ),
    sessionsOfUser: db.prepare<[string], { id: string }>(
      "SELECT id FROM sessions WHERE user_id = ? ORDER BY id",
    ),
    sessionPage: db.prepare<
      [string, number],
      { id: string; user_id: string | null; body: Uint8Array }
    >("SELECT id, user_id, body FROM sessions WHERE id > ? ORDER BY id LIMIT ?"),
    sessionIds: db.prepare<[string, number], { id: string }>(
      "SELECT id FROM sessions WHERE id > ? ORDER BY id LIMIT ?",
    ),
    updateUserTag: db.prepare<[string | null, string]>(
      "UPDATE sessions SET user_id = ? WHERE id = ?",
    ),
    secretParts: db.prepare<[], { id: string; body: Uint8Array }>("SELECT id, body FROM sessions"),
    sessionCount: db.prepare<[], { n: number }>("SELECT count(*) AS n FROM sessions"),
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
    // Reads the buckets up to the one holding `t` through the index, then the exact expiry.
    expiredBefore: db.prepare<{ t: number; bucket: number; limit: number }, { id: string }>(
      `SELECT id FROM sessions
       WHERE expiry_bucket <= $bucket AND deleted = 0 AND expires_at < $t
       ORDER BY expires_at, id LIMIT $limit`,
    ),
    tombstones: db.prepare<[string, number], { id: string }>(
      "SELECT id FROM sessions WHERE deleted = 1 AND id > ? ORDER BY id LIMIT ?",
    ),
    origins: db.prepare<[], { origin: string }>("SELECT origin FROM origins"),
    insertOrigin: db.prepare<[string]>("INSERT OR IGNORE INTO origins (origin) VALUES (?)"),
    versionVector: db.prepare<[], { origin: string; base: number; ranges: string }>(
      "SELECT origin, base, ranges FROM progress WHERE origin <> ''",
    ),
    upsertCoverage: db.prepare<[string, number, string]>(
      `INSERT INTO progress (origin, base, ranges) VALUES (?, ?, ?)
       ON CONFLICT (origin) DO UPDATE SET base = excluded.base, ranges = excluded.ranges`,
    ),
    // The clock is the row of origin '': base holds the wall time, ranges the logical counter.
    loadClock: db.prepare<[], { wall: number; logical: number }>(
      "SELECT base AS wall, CAST(ranges AS INTEGER) AS logical FROM progress WHERE origin = ''",
    ),
    // Never backwards: a lower value leaves the stored one in place.
    saveClock: db.prepare<[number, string]>(
      `INSERT INTO progress (origin, base, ranges) VALUES ('', ?, ?)
       ON CONFLICT (origin) DO UPDATE SET base = excluded.base, ranges = excluded.ranges
       WHERE (excluded.base, CAST(excluded.ranges AS INTEGER))
         > (progress.base, CAST(progress.ranges AS INTEGER))`,
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
