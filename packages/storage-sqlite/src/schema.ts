/**
 * The SQL schema, one constant per schema version. A version, once released, never changes:
 * later versions are new constants that `migrations.ts` applies in order.
 */

/**
 * Version 1.
 *
 * @remarks
 * - `sessions`: one row per stored session (tombstones included). `user_id` and `expires_at`
 *   mirror the session's registers (`expires_at` is core's `effectiveExpiry`) so that
 *   per-user lookups and expiry sweeps use an index instead of decoding sessions.
 * - `registers`: one row per register, fields and metadata alike, keyed `(session_id, key)`;
 *   metadata keys start with NUL, which field names never contain. `(origin, seq)` is the dot
 *   of the register's write, indexed so that extraction reads only rows newer than a peer's
 *   contiguous base.
 * - `yjs_stamps`: every stamp of every Yjs register (a Yjs register merges many writes), so that
 *   extraction finds a Yjs register whatever stamp the peer lacks (renamed in version 2).
 * - `origins`: every origin that appears in a register; extraction asks the index once per origin.
 * - `version_vector`: per origin, the contiguous base and the ranges above it (JSON pairs).
 * - `clock`: the hybrid clock's high-water mark, a single row.
 * - `meta`: small settings (node identity, for instance).
 * - `purged`: ids of sessions garbage-collected after a delete; nothing that arrives for them
 *   later is stored again, and writes to them are refused.
 */
export const SCHEMA_V1 = `
CREATE TABLE sessions (
  id TEXT NOT NULL PRIMARY KEY,
  user_id TEXT,
  expires_at INTEGER,
  deleted INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX sessions_by_user ON sessions (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX sessions_by_expiry ON sessions (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX sessions_deleted ON sessions (id) WHERE deleted = 1;

CREATE TABLE purged (
  id TEXT NOT NULL PRIMARY KEY
) WITHOUT ROWID;

CREATE TABLE registers (
  session_id TEXT NOT NULL,
  key TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('value', 'yjs', 'meta')),
  origin TEXT NOT NULL,
  seq INTEGER NOT NULL,
  payload BLOB NOT NULL,
  PRIMARY KEY (session_id, key)
) WITHOUT ROWID;
CREATE INDEX registers_by_dot ON registers (origin, seq);

CREATE TABLE yjs_stamps (
  origin TEXT NOT NULL,
  seq INTEGER NOT NULL,
  session_id TEXT NOT NULL,
  key TEXT NOT NULL,
  PRIMARY KEY (origin, seq, session_id, key)
) WITHOUT ROWID;
CREATE INDEX yjs_stamps_by_register ON yjs_stamps (session_id, key);

CREATE TABLE origins (
  origin TEXT NOT NULL PRIMARY KEY
) WITHOUT ROWID;

CREATE TABLE version_vector (
  origin TEXT NOT NULL PRIMARY KEY,
  base INTEGER NOT NULL,
  ranges TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE clock (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  wall INTEGER NOT NULL,
  logical INTEGER NOT NULL
);

CREATE TABLE meta (
  key TEXT NOT NULL PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
`;

/**
 * Version 2: purged ids replicate, so each remembers the dot of the delete whose tombstone was
 * purged.
 *
 * @remarks `purged.origin`/`purged.seq` hold that dot; NULL for ids purged under version 1,
 * whose dot is unknown (they are offered to every peer). `purged_by_dot` lets anti-entropy read
 * only the purges above a peer's contiguous base, as `registers_by_dot` does for writes.
 */
export const SCHEMA_V2 = `
ALTER TABLE purged ADD COLUMN origin TEXT;
ALTER TABLE purged ADD COLUMN seq INTEGER;
CREATE INDEX purged_by_dot ON purged (origin, seq);
`;

/**
 * Version 3: the expiry register holds lifetimes (see core's `LifetimeRegister`).
 *
 * @remarks
 * - `yjs_stamps` becomes `register_stamps`: every stamp of every register that merges several
 *   writes (Yjs documents, and the lifetime register `\0exp`, whose elements each keep their
 *   own write's stamp), so that extraction finds such a register whatever stamp a peer lacks.
 * - The `\0exp` row's payload changes from `[at, stamp]` to `[[from, until, stamp]+]`; the
 *   migration's code step (`migrations.ts`) rewrites the stored rows. `sessions.expires_at`
 *   keeps holding core's `effectiveExpiry`, which a single lifetime leaves unchanged.
 */
export const SCHEMA_V3 = `
ALTER TABLE yjs_stamps RENAME TO register_stamps;
DROP INDEX yjs_stamps_by_register;
CREATE INDEX register_stamps_by_register ON register_stamps (session_id, key);
`;

/**
 * Version 4: a session is one row, so a write dirties a handful of pages instead of a dozen.
 *
 * @remarks
 * - `sessions.body`: every register of the session in one msgpack value (`session-body.ts`),
 *   its secret payloads (field values, Yjs documents, the userId) packed as one part, sealed
 *   as a whole with a keyring. `registers` and `register_stamps` go away; the migration's code
 *   step (`v4-migration.ts`) packs their rows into the bodies before this schema's `after` SQL
 *   drops them.
 * - `session_dots`: per session and origin, the newest dot the session carries, keyed
 *   `(origin, seq, session_id)`: extraction reads it from a peer's contiguous base upwards. A
 *   write only touches the rows of origins whose newest dot moved, and overwriting a field
 *   replaces its row, so the table holds at most one row per (session, origin).
 * - `progress`: the version vector (one row per origin: `base`, `ranges` as JSON) and the
 *   clock high-water mark (the row of origin `''`, which no node id is: `base` the wall time,
 *   `ranges` the logical counter) in one small table, so a commit that records dots and moves
 *   the clock dirties one page for both. `version_vector` and `clock` go away.
 * - `sessions.expiry_bucket`: `expires_at` divided by {@link EXPIRY_BUCKET_MS}, rounded down,
 *   indexed (live sessions only) instead of `expires_at`. Sliding expiry moves `expires_at` on
 *   every write, which rewrote two index pages per write; the bucket moves about once a minute,
 *   and the expiry sweep reads the buckets up to the one holding its time and filters on the
 *   exact `expires_at`, still in the row.
 */
export const SCHEMA_V4 = `
ALTER TABLE sessions ADD COLUMN body BLOB NOT NULL DEFAULT x'';
ALTER TABLE sessions ADD COLUMN expiry_bucket INTEGER;
UPDATE sessions SET expiry_bucket = expires_at >> 16 WHERE expires_at IS NOT NULL;
DROP INDEX sessions_by_expiry;
CREATE INDEX sessions_by_expiry_bucket ON sessions (expiry_bucket)
  WHERE expiry_bucket IS NOT NULL AND deleted = 0;

CREATE TABLE session_dots (
  origin TEXT NOT NULL,
  seq INTEGER NOT NULL,
  session_id TEXT NOT NULL,
  PRIMARY KEY (origin, seq, session_id)
) WITHOUT ROWID;

CREATE TABLE progress (
  origin TEXT NOT NULL PRIMARY KEY,
  base INTEGER NOT NULL,
  ranges TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO progress (origin, base, ranges) SELECT origin, base, ranges FROM version_vector;
INSERT INTO progress (origin, base, ranges) SELECT '', wall, CAST(logical AS TEXT) FROM clock;
DROP TABLE version_vector;
DROP TABLE clock;
`;

/**
 * Width of an expiry bucket of schema 4, in ms (about a minute): `expiry_bucket` is
 * `expires_at >> 16`.
 */
export const EXPIRY_BUCKET_MS = 65_536;

/** The `expiry_bucket` of an expiry (`null` for none), as schema 4 stores it. */
export function expiryBucket(expiresAt: number | null): number | null {
  return expiresAt === null ? null : Math.floor(expiresAt / EXPIRY_BUCKET_MS);
}

/** What version 4 drops once its code step has packed the register rows into bodies. */
export const SCHEMA_V4_AFTER = `
DROP TABLE register_stamps;
DROP TABLE registers;
`;
