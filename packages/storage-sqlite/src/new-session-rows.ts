import { effectiveExpiry, type SessionState } from "@meridian/core";
import type { RowProtection } from "./row-protection.ts";
import { expiryBucket } from "./schema.ts";
import { sessionBody } from "./session-body.ts";
import { sessionNewestDots } from "./session-dots.ts";
import { DOT_COLUMNS, ROWS_PER_INSERT, SESSION_COLUMNS, type Statements } from "./statements.ts";

/**
 * Writes sessions the store holds no row of: each one's row and its `session_dots` rows (every
 * newest dot is new), {@link ROWS_PER_INSERT} rows per statement.
 *
 * @remarks What `writeSession(q, protection, undefined, s, noteOrigin)` writes for each of
 * `states`, in fewer statements: an anti-entropy chunk is mostly sessions the requester never
 * saw, and the fixed cost of a statement outweighs the insert itself. Must run inside the
 * caller's transaction, after it made sure that no id of `states` has a row and that each occurs
 * once; a row that does exist fails the INSERT (and the transaction) rather than being
 * overwritten.
 */
export function insertNewSessions(
  q: Statements,
  protection: RowProtection,
  states: readonly SessionState[],
  noteOrigin: (origin: string) => void,
): void {
  const sessions: unknown[] = [];
  const dots: unknown[] = [];
  for (const s of states) {
    const expiry = effectiveExpiry(s);
    const userTag = protection.userTag(s.userId?.value ?? null);
    const deleted = s.deleted === undefined ? 0 : 1;
    sessions.push(s.id, userTag, expiry, expiryBucket(expiry), deleted, sessionBody(s, protection));
    for (const [origin, seq] of sessionNewestDots(s)) {
      dots.push(origin, seq, s.id);
      noteOrigin(origin);
    }
  }
  insertRows(sessions, SESSION_COLUMNS, q.insertSessions, (row) => q.insertSession.run(row));
  insertRows(dots, DOT_COLUMNS, q.insertDots, ([origin, seq, id]) =>
    q.insertDot.run(origin as string, seq as number, id as string),
  );
}

/** Runs `many` on each full group of rows of `values`, then `one` on each row left. */
function insertRows(
  values: readonly unknown[],
  columns: number,
  many: Statements["insertSessions"],
  one: (row: unknown[]) => void,
): void {
  const group = columns * ROWS_PER_INSERT;
  let i = 0;
  for (; i + group <= values.length; i += group) many.run(values.slice(i, i + group));
  for (; i < values.length; i += columns) one(values.slice(i, i + columns));
}
