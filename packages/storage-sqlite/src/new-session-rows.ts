import { effectiveExpiry, type SessionState } from "@meridian/core";
import type { RowProtection } from "./row-protection.ts";
import { expiryBucket } from "./schema.ts";
import { sessionBody } from "./session-body.ts";
import { sessionNewestDots } from "./session-dots.ts";
import {
  DOT_COLUMNS,
  ROWS_PER_INSERT,
  type RowInsert,
  SESSION_COLUMNS,
  type Statements,
} from "./statements.ts";

/**
 * Writes sessions the store holds no row of: each one's row and its `session_dots` rows (every
 * newest dot is new), in multi-row INSERTs of up to {@link ROWS_PER_INSERT} rows.
 *
 * @remarks What `writeSession(q, protection, undefined, s, noteOrigin)` writes for each of
 * `states`, in fewer statements: an anti-entropy chunk is mostly sessions the requester never
 * saw, a group commit of new sessions (the usual write) holds nothing else, and the fixed cost of
 * a statement outweighs the insert itself. Must run inside the
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
  insertRows(sessions, SESSION_COLUMNS, q.insertSessions);
  insertRows(dots, DOT_COLUMNS, q.insertDots);
}

/**
 * Inserts the rows of `values` (`columns` values each) with as few statements as the powers of
 * two up to {@link ROWS_PER_INSERT} allow: 24 rows go in as 16 and 8.
 */
function insertRows(values: readonly unknown[], columns: number, insert: RowInsert): void {
  let start = 0;
  for (let left = values.length / columns; left > 0; ) {
    const rows = left >= ROWS_PER_INSERT ? ROWS_PER_INSERT : 2 ** (31 - Math.clz32(left));
    const end = start + rows * columns;
    insert(rows).run(start === 0 && end === values.length ? values : values.slice(start, end));
    start = end;
    left -= rows;
  }
}
