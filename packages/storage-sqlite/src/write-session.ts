import {
  compareHlc,
  effectiveExpiry,
  type FieldRegister,
  type SessionState,
  type Stamp,
} from "@meridian/core";
import { changedRows, isSecretRow, META_KEYS } from "./register-rows.ts";
import type { RowProtection } from "./row-protection.ts";
import type { Statements } from "./statements.ts";

const dotKey = (s: Stamp) => `${s.hlc.node}\u0000${s.seq}`;

function metaChanged(before: SessionState, after: SessionState): boolean {
  return (
    before.lifetimes !== after.lifetimes ||
    before.lastAccess !== after.lastAccess ||
    before.deadline !== after.deadline ||
    before.idleMs !== after.idleMs ||
    before.userId !== after.userId ||
    before.deleted !== after.deleted
  );
}

/** Keeps `register_stamps` listing exactly the stamps of the Yjs register now stored at `name`. */
function syncYjsStamps(
  q: Statements,
  id: string,
  name: string,
  prev: FieldRegister | undefined,
  reg: FieldRegister,
  noteOrigin: (origin: string) => void,
): void {
  const sameDoc =
    prev?.kind === "yjs" && reg.kind === "yjs" && compareHlc(prev.epoch, reg.epoch) === 0;
  if (prev?.kind === "yjs" && !sameDoc) q.deleteRegisterStamps.run(id, name);
  if (reg.kind !== "yjs") return;
  // Within one document stamps only accumulate, so only the new ones need a row.
  const known = new Set(sameDoc && prev?.kind === "yjs" ? prev.stamps.map(dotKey) : []);
  for (const s of reg.stamps) {
    if (known.has(dotKey(s))) continue;
    q.insertRegisterStamp.run(s.hlc.node, s.seq, id, name);
    noteOrigin(s.hlc.node);
  }
}

/**
 * Writes back the result of a merge: only the registers that changed, the stamp index of Yjs and
 * lifetime registers, and
 * the session row when the session is new or its metadata changed.
 *
 * @remarks Must run inside the caller's transaction. `after` must be the merge of `before` with
 * new writes (as returned by `mergeSession(before, …)`), so unchanged registers keep identity.
 * Secret payloads and the `user_id` column go through `protection`, so with a keyring no field
 * value or userId reaches the database (or its WAL) in the clear.
 */
export function writeSession(
  q: Statements,
  protection: RowProtection,
  before: SessionState | undefined,
  after: SessionState,
  noteOrigin: (origin: string) => void,
): void {
  const id = after.id;
  for (const r of changedRows(before, after)) {
    const payload = isSecretRow(r.kind, r.key) ? protection.seal(r.payload, id, r.key) : r.payload;
    q.upsertRegister.run(id, r.key, r.kind, r.origin, r.seq, payload);
    noteOrigin(r.origin);
  }
  for (const [name, reg] of after.fields) {
    const prev = before?.fields.get(name);
    if (prev !== reg && (reg.kind === "yjs" || prev?.kind === "yjs")) {
      syncYjsStamps(q, id, name, prev, reg, noteOrigin);
    }
  }
  if (after.lifetimes !== undefined && after.lifetimes !== before?.lifetimes) {
    // Lists are short and an element dropped by the join takes its stamp with it: rewrite all.
    q.deleteRegisterStamps.run(id, META_KEYS.expiresAt);
    for (const l of after.lifetimes) {
      q.insertRegisterStamp.run(l.stamp.hlc.node, l.stamp.seq, id, META_KEYS.expiresAt);
      noteOrigin(l.stamp.hlc.node);
    }
  }
  if (before === undefined || metaChanged(before, after)) {
    const userTag = protection.userTag(after.userId?.value ?? null);
    q.upsertSession.run(id, userTag, effectiveExpiry(after), after.deleted === undefined ? 0 : 1);
  }
}
