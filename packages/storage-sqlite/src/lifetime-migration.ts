import { legacyLifetime, packValue, unpackValue } from "@meridian/core";
import type Database from "better-sqlite3";
import { StorageCorruptError } from "./errors.ts";
import { lifetimesOut, META_KEYS, type StampTuple, stampIn } from "./register-rows.ts";

/**
 * The row step of schema version 2: rewrites every stored expiry register from its version 1
 * form, one max-merged time `[at, stamp]`, to a lifetime register of one element, and lists
 * that element's stamp in `register_stamps`.
 *
 * @remarks The version 1 value was set by the write `stamp` at its wall time, so it stands for
 * the lifetime `[stamp wall, at]` (core's `legacyLifetime`). The max register kept only the
 * winning write, so that one lifetime is all the old data allows; its end, hence
 * `sessions.expires_at`, is unchanged. The payload is metadata, never sealed, so the rewrite
 * needs no key.
 */
export function lifetimesFromV1(db: Database.Database): void {
  const rows = db
    .prepare<[string], { session_id: string; payload: Uint8Array }>(
      "SELECT session_id, payload FROM registers WHERE key = ?",
    )
    .all(META_KEYS.expiresAt);
  const update = db.prepare<[Uint8Array, string, string]>(
    "UPDATE registers SET payload = ? WHERE session_id = ? AND key = ?",
  );
  const listStamp = db.prepare<[string, number, string, string]>(
    "INSERT OR IGNORE INTO register_stamps (origin, seq, session_id, key) VALUES (?, ?, ?, ?)",
  );
  for (const row of rows) {
    const old = unpackValue(row.payload);
    if (!Array.isArray(old) || old.length !== 2 || typeof old[0] !== "number") {
      throw new StorageCorruptError(`expiry of ${row.session_id} is not a version 1 time`);
    }
    const stamp = stampIn(old[1] as StampTuple);
    const lifetime = legacyLifetime(old[0], stamp);
    update.run(packValue(lifetimesOut([lifetime])), row.session_id, META_KEYS.expiresAt);
    listStamp.run(stamp.hlc.node, stamp.seq, row.session_id, META_KEYS.expiresAt);
  }
}
