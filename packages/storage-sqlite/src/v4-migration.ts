import { effectiveExpiry } from "@meridian/core";
import type Database from "better-sqlite3";
import { isSecretRow, type StoredRow, sessionFromRows } from "./register-rows.ts";
import { isSealed, type RowProtection } from "./row-protection.ts";
import { expiryBucket } from "./schema.ts";
import { sessionBody } from "./session-body.ts";
import { sessionNewestDots } from "./session-dots.ts";

/**
 * The row step of schema version 4: packs each session's version 3 register rows into its
 * `body`, lists its newest dot per origin in `session_dots`, and sets its `expiry_bucket` as
 * `writeSession` computes it.
 *
 * @remarks Secret payloads are opened with `protection` and the session's secret part is sealed
 * again as a whole under the current key, bound to the session id. A session whose secret rows
 * were all still plain in an encrypted store (encryption turned on, `reencrypt` not yet run)
 * keeps its secret part plain, so it stays refused until `reencrypt({ adoptPlaintext })`, as
 * before; one with any sealed row is sealed whole (never the other way: nothing sealed is ever
 * written back in the clear). A sealed row the keyring cannot open throws its typed error and
 * rolls the whole migration back.
 */
export function packSessionRows(db: Database.Database, protection: RowProtection): void {
  const ids = db.prepare<[], { id: string }>("SELECT id FROM sessions ORDER BY id");
  const rowsOf = db.prepare<[string], StoredRow>(
    "SELECT key, kind, payload FROM registers WHERE session_id = ?",
  );
  const setBody = db.prepare<[Uint8Array, number | null, number | null, string]>(
    "UPDATE sessions SET body = ?, expires_at = ?, expiry_bucket = ? WHERE id = ?",
  );
  const addDot = db.prepare<[string, number, string]>(
    "INSERT INTO session_dots (origin, seq, session_id) VALUES (?, ?, ?)",
  );
  for (const { id } of ids.all()) {
    const rows = rowsOf.all(id);
    const session = sessionFromRows(id, rows, protection, true);
    const secrets = rows.filter((r) => isSecretRow(r.kind, r.key));
    const allPlain = secrets.length > 0 && secrets.every((r) => !isSealed(r.payload));
    const body = sessionBody(session, protection, protection.encrypted && allPlain);
    // The bucket a write would give: SQL's `>>` truncates a fraction towards zero and saturates
    // past 2^63, so a bucket it computed could sit above the sweep's for the same expiry.
    const expiry = effectiveExpiry(session);
    setBody.run(body, expiry, expiryBucket(expiry), id);
    for (const [origin, seq] of sessionNewestDots(session)) addDot.run(origin, seq, id);
  }
}
