import { SessionDeletedError, SessionExpiredError, SessionNotFoundError } from "./errors.ts";
import type { Stamp } from "./dot.ts";
import { firstRun, plannedLifetime } from "./lifetime.ts";
import { type FieldRegister, yjsEpochAfter } from "./register.ts";
import { type SessionState, type TimeRegister, sessionStatus } from "./session.ts";

/** A client write to one session, in the units of the data model (ms, msgpack-encoded values). */
export type SessionWrite =
  | {
      readonly op: "create";
      readonly data: ReadonlyMap<string, Uint8Array>;
      readonly ttlMs: number | null;
      readonly idleMs?: number | null;
      readonly maxLifetimeMs?: number | null;
      readonly userId?: string | null;
    }
  | {
      readonly op: "replace";
      readonly data: ReadonlyMap<string, Uint8Array>;
      readonly ttlMs: number | null;
      readonly idleMs?: number | null;
      /** Used only when the write creates the session. */
      readonly maxLifetimeMs?: number | null;
      readonly userId?: string | null;
    }
  | {
      readonly op: "patch";
      readonly set?: ReadonlyMap<string, Uint8Array>;
      readonly unset?: readonly string[];
      readonly yjs?: ReadonlyMap<string, Uint8Array>;
      /** New time to live; `undefined` keeps the current expiry (as Redis HSET does). */
      readonly ttlMs?: number | null;
      /** Used only when the patch creates the session. */
      readonly defaultTtlMs: number | null;
      /** Sets (or with null clears) the user the session belongs to. */
      readonly userId?: string | null;
    }
  | { readonly op: "touch"; readonly ttlMs?: number | null; readonly defaultTtlMs: number | null }
  | { readonly op: "access" }
  | { readonly op: "delete" };

/**
 * Turns a client write into the delta it makes, given the session as this node sees it.
 *
 * @remarks Pure: the caller supplies the stamp (hlc and sequence number) and physical time.
 * Refuses writes to deleted sessions ({@link SessionDeletedError}) and to expired ones
 * ({@link SessionExpiredError}); an expired session never comes back. Every register in the
 * returned fragment carries `stamp`. A write that sets a time to live contributes the lifetime
 * {@link plannedLifetime} gives, starting at `now` (the write's hybrid wall time, so the
 * same instant the liveness check used) or at the start of the live run it extends.
 */
export function planWrite(
  current: SessionState | undefined,
  write: SessionWrite,
  stamp: Stamp,
  now: number,
  id: string,
): SessionState {
  const status = sessionStatus(current, now);
  if (status === "deleted") throw new SessionDeletedError(id);
  if (status === "expired" && write.op !== "delete") throw new SessionExpiredError(id);
  const at = (ms: number): TimeRegister => ({ at: ms, stamp });
  const live = (ttl: number) => {
    const l = plannedLifetime(current?.lifetimes, now, ttl, stamp);
    if (l !== undefined) out.lifetimes = [l];
  };
  const fields = new Map<string, FieldRegister>();
  const out: { -readonly [K in keyof SessionState]: SessionState[K] } = { id, fields };
  const idleActive = current?.idleMs?.value != null;

  switch (write.op) {
    case "delete":
      out.deleted = stamp;
      return out;
    case "access":
      if (status !== "live") throw new SessionNotFoundError(id);
      out.lastAccess = at(now);
      return out;
    case "touch": {
      if (status !== "live") throw new SessionNotFoundError(id);
      const ttl =
        write.ttlMs === undefined ? previousTtl(current, write.defaultTtlMs) : write.ttlMs;
      if (ttl !== null) live(ttl);
      out.lastAccess = at(now);
      return out;
    }
    case "create":
    case "replace": {
      for (const [name, value] of write.data) {
        fields.set(name, { kind: "value", stamp, value });
      }
      if (write.op === "replace" && current !== undefined) {
        for (const [name, reg] of current.fields) {
          const live = reg.kind === "yjs" || reg.value !== null;
          if (live && !write.data.has(name))
            fields.set(name, { kind: "value", stamp, value: null });
        }
      }
      if (write.ttlMs !== null) live(write.ttlMs);
      if (write.idleMs !== undefined) out.idleMs = { value: write.idleMs, stamp };
      if (write.userId !== undefined) out.userId = { value: write.userId, stamp };
      if (write.maxLifetimeMs != null && status === "absent") {
        out.deadline = at(now + write.maxLifetimeMs);
      }
      out.lastAccess = at(now);
      return out;
    }
    case "patch": {
      for (const [name, value] of write.set ?? [])
        fields.set(name, { kind: "value", stamp, value });
      for (const name of write.unset ?? []) fields.set(name, { kind: "value", stamp, value: null });
      for (const [name, update] of write.yjs ?? []) {
        const epoch = yjsEpochAfter(current?.fields.get(name));
        fields.set(name, { kind: "yjs", epoch, update, stamps: [stamp] });
      }
      const ttl =
        write.ttlMs !== undefined
          ? write.ttlMs
          : status === "absent"
            ? write.defaultTtlMs
            : undefined;
      if (ttl != null) live(ttl);
      if (write.userId !== undefined) out.userId = { value: write.userId, stamp };
      if (status === "absent" || idleActive) out.lastAccess = at(now);
      return out;
    }
  }
}

/**
 * The ttl a session was last given, estimated from its registers, for a touch without ttl: the
 * expiry of its live run minus the wall time of the write that set it.
 */
function previousTtl(current: SessionState | undefined, fallback: number | null): number | null {
  const reg = current?.lifetimes;
  if (reg === undefined) return fallback;
  const until = firstRun(reg).until;
  const setter = reg.find((l) => l.until === until);
  if (setter === undefined) return fallback;
  const ttl = until - setter.stamp.hlc.wall;
  return ttl > 0 ? ttl : fallback;
}
