import { compareStamp, type Stamp } from "./dot.ts";
import { compareHlc } from "./hlc.ts";
import { type LifetimeRegister, lifetimeEnd, mergeLifetimes } from "./lifetime.ts";
import { type FieldRegister, mergeRegister } from "./register.ts";

/**
 * A register holding a time in ms since the epoch, joined by maximum (lastAccess) or by minimum
 * (the absolute deadline fixed at creation).
 */
export interface TimeRegister {
  readonly at: number;
  readonly stamp: Stamp;
}

/** A last-writer-wins register for session metadata (userId, idle timeout). */
export interface MetaRegister<T> {
  readonly value: T;
  readonly stamp: Stamp;
}

/**
 * A session as a state-based CRDT: named fields plus metadata registers. The same shape serves
 * as a stored session and as a delta (a fragment holding only what one write changed).
 *
 * @remarks Every part has a join that is commutative, associative and idempotent:
 * - `fields`: per-field {@link mergeRegister} (last-writer-wins, or Yjs merge);
 * - `lifetimes`: the expiry register, a union of the lifetimes writes gave the session (see
 *   {@link LifetimeRegister}); the soft expiry is the end of the run that starts earliest, so a
 *   touch made while the session lived always extends it and no write made after it expired,
 *   anywhere, brings it back;
 * - `lastAccess`: maximum;
 * - `deadline`: minimum; the absolute `maxLifetime` cap fixed at creation;
 * - `idleMs`, `userId`: last-writer-wins;
 * - `deleted`: remove-wins; once present it is never dropped, and reads treat the session as
 *   gone whatever the other registers say.
 */
export interface SessionState {
  readonly id: string;
  readonly fields: ReadonlyMap<string, FieldRegister>;
  readonly lifetimes?: LifetimeRegister;
  readonly lastAccess?: TimeRegister;
  readonly deadline?: TimeRegister;
  readonly idleMs?: MetaRegister<number | null>;
  readonly userId?: MetaRegister<string | null>;
  readonly deleted?: Stamp;
}

/** An empty fragment for `id`. */
export function emptySession(id: string): SessionState {
  return { id, fields: new Map() };
}

function maxTime(a?: TimeRegister, b?: TimeRegister): TimeRegister | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  if (a.at !== b.at) return a.at > b.at ? a : b;
  return compareStamp(a.stamp, b.stamp) >= 0 ? a : b;
}

function joinLifetimes(a?: LifetimeRegister, b?: LifetimeRegister): LifetimeRegister | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return mergeLifetimes(a, b);
}

function minTime(a?: TimeRegister, b?: TimeRegister): TimeRegister | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  if (a.at !== b.at) return a.at < b.at ? a : b;
  return compareStamp(a.stamp, b.stamp) >= 0 ? a : b;
}

function lww<T>(a?: MetaRegister<T>, b?: MetaRegister<T>): MetaRegister<T> | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return compareStamp(a.stamp, b.stamp) >= 0 ? a : b;
}

function firstStamp(a?: Stamp, b?: Stamp): Stamp | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return compareHlc(a.hlc, b.hlc) <= 0 ? a : b;
}

/**
 * Joins two states (or deltas) of the same session.
 *
 * @remarks The join of the session CRDT: commutative, associative, idempotent. Delivery order,
 * duplication and batching of deltas never change the result.
 */
export function mergeSession(a: SessionState, b: SessionState): SessionState {
  if (a.id !== b.id) throw new Error(`mergeSession: ids differ (${a.id} vs ${b.id})`);
  let fields: Map<string, FieldRegister>;
  if (b.fields.size === 0) fields = new Map(a.fields);
  else {
    fields = new Map(a.fields);
    for (const [name, reg] of b.fields) {
      const mine = fields.get(name);
      fields.set(name, mine === undefined ? reg : mergeRegister(mine, reg));
    }
  }
  return compact({
    id: a.id,
    fields,
    lifetimes: joinLifetimes(a.lifetimes, b.lifetimes),
    lastAccess: maxTime(a.lastAccess, b.lastAccess),
    deadline: minTime(a.deadline, b.deadline),
    idleMs: lww(a.idleMs, b.idleMs),
    userId: lww(a.userId, b.userId),
    deleted: firstStamp(a.deleted, b.deleted),
  });
}

/** Drops keys whose value is undefined so that equal states are structurally equal. */
function compact(s: {
  id: string;
  fields: Map<string, FieldRegister>;
  lifetimes?: LifetimeRegister | undefined;
  lastAccess?: TimeRegister | undefined;
  deadline?: TimeRegister | undefined;
  idleMs?: MetaRegister<number | null> | undefined;
  userId?: MetaRegister<string | null> | undefined;
  deleted?: Stamp | undefined;
}): SessionState {
  const out: {
    -readonly [K in keyof SessionState]: SessionState[K];
  } = { id: s.id, fields: s.fields };
  if (s.lifetimes !== undefined) out.lifetimes = s.lifetimes;
  if (s.lastAccess !== undefined) out.lastAccess = s.lastAccess;
  if (s.deadline !== undefined) out.deadline = s.deadline;
  if (s.idleMs !== undefined) out.idleMs = s.idleMs;
  if (s.userId !== undefined) out.userId = s.userId;
  if (s.deleted !== undefined) out.deleted = s.deleted;
  return out;
}

/** Every write stamp a session state carries, fields and metadata alike. */
export function sessionStamps(s: SessionState): Stamp[] {
  const out: Stamp[] = [];
  for (const reg of s.fields.values()) {
    if (reg.kind === "value") out.push(reg.stamp);
    else out.push(...reg.stamps);
  }
  for (const l of s.lifetimes ?? []) out.push(l.stamp);
  if (s.lastAccess) out.push(s.lastAccess.stamp);
  if (s.deadline) out.push(s.deadline.stamp);
  if (s.idleMs) out.push(s.idleMs.stamp);
  if (s.userId) out.push(s.userId.stamp);
  if (s.deleted) out.push(s.deleted);
  return out;
}

/** The soft expiry the lifetimes give (see {@link lifetimeEnd}); `null` without a register. */
export function softExpiry(s: SessionState): number | null {
  return s.lifetimes === undefined ? null : lifetimeEnd(s.lifetimes);
}

/** The moment a session stops being readable, ignoring idle timeout; `null` when never. */
export function hardExpiry(s: SessionState): number | null {
  const soft = softExpiry(s);
  const cap = s.deadline?.at;
  if (soft === null) return cap ?? null;
  if (cap === undefined) return soft;
  return Math.min(soft, cap);
}

/** How a session reads at a given moment. */
export type SessionStatus = "live" | "absent" | "expired" | "deleted";

/**
 * The status of a session at physical time `now` (ms).
 *
 * @remarks Deleted beats everything (remove-wins). Expired when `now` is past the earlier of
 * the soft expiry ({@link softExpiry}) and the creation deadline, or past `lastAccess + idle`. A state with no live field
 * and no metadata is absent.
 */
export function sessionStatus(s: SessionState | undefined, now: number): SessionStatus {
  if (s === undefined) return "absent";
  if (s.deleted !== undefined) return "deleted";
  const until = hardExpiry(s);
  if (until !== null && now > until) return "expired";
  const idle = s.idleMs?.value;
  if (idle != null && s.lastAccess !== undefined && now > s.lastAccess.at + idle) return "expired";
  // Any register but a field counts as presence: a session created empty and without expiry
  // exists (it holds lastAccess from its creation).
  if (
    s.fields.size === 0 &&
    s.lifetimes === undefined &&
    s.userId === undefined &&
    s.lastAccess === undefined &&
    s.idleMs === undefined &&
    s.deadline === undefined
  ) {
    return "absent";
  }
  return "live";
}

/** When an idle-timed session will expire if nobody touches it, combined with the hard expiry. */
export function effectiveExpiry(s: SessionState): number | null {
  const hard = hardExpiry(s);
  const idle = s.idleMs?.value;
  if (idle == null || s.lastAccess === undefined) return hard;
  const idleUntil = s.lastAccess.at + idle;
  return hard === null ? idleUntil : Math.min(hard, idleUntil);
}
