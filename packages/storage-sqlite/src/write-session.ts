import { effectiveExpiry, type SessionState } from "@meridian/core";
import type { RowProtection } from "./row-protection.ts";
import { expiryBucket } from "./schema.ts";
import { sessionBody } from "./session-body.ts";
import { dotChanges, sessionNewestDots } from "./session-dots.ts";
import type { Statements } from "./statements.ts";

const NO_DOTS: ReadonlyMap<string, number> = new Map();

/**
 * Writes back the result of a merge: the session's row (its whole body) and the `session_dots`
 * rows of the origins whose newest dot moved.
 *
 * @remarks Must run inside the caller's transaction. `after` must be the merge of `before` with
 * new writes (as returned by `mergeSession(before, …)`); when the merge changed nothing (same
 * object) nothing is written. The statement names only the columns that may have changed, so
 * the user, tombstone and expiry-bucket index entries are rewritten only when their value moves
 * (the bucket moves about once a minute however often a sliding expiry does). The secret part
 * of the body and the `user_id` column go through `protection`, so with a keyring no field value
 * or userId reaches the database (or its WAL) in the clear.
 */
export function writeSession(
  q: Statements,
  protection: RowProtection,
  before: SessionState | undefined,
  after: SessionState,
  noteOrigin: (origin: string) => void,
): void {
  if (after === before) return;
  const id = after.id;
  const body = sessionBody(after, protection);
  const expiry = effectiveExpiry(after);
  const bucket = expiryBucket(expiry);
  if (before === undefined || before.userId !== after.userId || before.deleted !== after.deleted) {
    const userTag = protection.userTag(after.userId?.value ?? null);
    q.upsertSession.run(id, userTag, expiry, bucket, after.deleted === undefined ? 0 : 1, body);
  } else if (expiryBucket(effectiveExpiry(before)) !== bucket) {
    q.updateBodyBucket.run(body, expiry, bucket, id);
  } else {
    q.updateBody.run(body, expiry, id);
  }
  const { removed, added } = dotChanges(
    before === undefined ? NO_DOTS : sessionNewestDots(before),
    sessionNewestDots(after),
  );
  for (const [origin, seq] of removed) q.deleteDot.run(origin, seq, id);
  for (const [origin, seq] of added) {
    q.insertDot.run(origin, seq, id);
    noteOrigin(origin);
  }
}
