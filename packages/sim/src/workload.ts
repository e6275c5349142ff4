import { MeridianError, packValue, unpackValue } from "@meridian/core";
import type { SessionAnswer, SessionService } from "@meridian/server";
import type { OpAnswer, OpRecord } from "./history.ts";
import type { OpSpec } from "./schedule.ts";

/** Client-supplied session ids every run starts its pool with (express-session style). */
export const FIXED_SESSION_IDS: readonly string[] = [
  "fixed-session-0000",
  "fixed-session-0001",
  "fixed-session-0002",
];

/** User ids workloads attach sessions to, for `revoke`. */
export const USERS: readonly string[] = ["user-0", "user-1"];

/**
 * The sessions a workload addresses: the fixed ids, then every id `create` returned, in order,
 * and the last version token the client saw for each (what an SDK carries for `after`).
 */
export class SessionPool {
  private readonly ids: string[] = [...FIXED_SESSION_IDS];
  private readonly tokens = new Map<string, string>();

  /** The session `key` designates (modulo the pool size). */
  pick(key: number): string {
    return this.ids[((key % this.ids.length) + this.ids.length) % this.ids.length]!;
  }

  /** Adds a created id. */
  created(id: string): void {
    this.ids.push(id);
  }

  /** Remembers the token of a write answer. */
  saw(id: string, token: string): void {
    this.tokens.set(id, token);
  }

  /** The last token seen for `id`. */
  token(id: string): string | undefined {
    return this.tokens.get(id);
  }

  /**
   * The session an operation addresses (none for `create` and `revoke`), and the token a `get`
   * with `after` carries.
   */
  target(spec: OpSpec): { sessionId: string | undefined; after: string | undefined } {
    const sessionId =
      spec.type === "create" || spec.type === "revoke" ? undefined : this.pick(spec.key);
    const after =
      spec.type === "get" && spec.after && sessionId !== undefined
        ? this.token(sessionId)
        : undefined;
    return { sessionId, after };
  }
}

/** The unique value operation `index` writes to `field`. */
export function writtenValue(index: number, field: string): string {
  return `o${index}${field}`;
}

/** A history record for `spec`, before it is invoked. */
export function newOpRecord(
  index: number,
  spec: OpSpec,
  region: string,
  sessionId: string | undefined,
  after: string | undefined,
  invokedAt: number,
): OpRecord {
  const set: Record<string, string> = {};
  if (spec.type === "create" || spec.type === "put" || spec.type === "patch") {
    for (const f of spec.set) set[f] = writtenValue(index, f);
  }
  const user =
    spec.type === "revoke" || ((spec.type === "create" || spec.type === "put") && spec.user)
      ? USERS[(spec.user ?? 0) % USERS.length]
      : undefined;
  return {
    index,
    type: spec.type,
    region,
    incarnation: undefined,
    sessionId,
    consistency: spec.consistency,
    after,
    set,
    unset: spec.type === "patch" ? [...spec.unset] : [],
    user,
    invokedAt,
    completedAt: undefined,
    status: "pending",
    code: undefined,
    answer: undefined,
    nodeNow: undefined,
  };
}

function packed(set: Readonly<Record<string, string>>): Map<string, Uint8Array> {
  return new Map(Object.entries(set).map(([k, v]) => [k, packValue(v)]));
}

const seconds = (s: number | null | undefined) => (s == null ? s : s * 1000);

/**
 * Calls the real `SessionService` for one operation; resolves with its answer (none for delete
 * and revoke).
 *
 * @remarks The service makes its local write synchronously inside this call, which is what lets
 * the simulator attribute committed writes to operations.
 */
export function callService(
  service: SessionService,
  spec: OpSpec,
  record: OpRecord,
  defaultTtlMs: number | null,
): Promise<OpAnswer | undefined> {
  const id = record.sessionId ?? "";
  const data = packed(record.set);
  switch (spec.type) {
    case "create":
      return service
        .create(
          {
            op: "create",
            data,
            ttlMs: seconds(spec.ttlS) ?? null,
            ...(spec.idleS !== undefined ? { idleMs: spec.idleS * 1000 } : {}),
            ...(spec.maxLifetimeS !== undefined ? { maxLifetimeMs: spec.maxLifetimeS * 1000 } : {}),
            ...(record.user !== undefined ? { userId: record.user } : {}),
          },
          spec.consistency,
        )
        .then(decodeAnswer);
    case "put":
      return service
        .put(
          id,
          {
            op: "replace",
            data,
            ttlMs: seconds(spec.ttlS) ?? null,
            ...(record.user !== undefined ? { userId: record.user } : {}),
          },
          spec.consistency,
        )
        .then((r) => decodeAnswer(r.answer));
    case "patch":
      return service
        .patch(
          id,
          {
            op: "patch",
            set: data,
            unset: spec.unset,
            ...(spec.ttlS !== undefined ? { ttlMs: spec.ttlS * 1000 } : {}),
            defaultTtlMs,
          },
          spec.consistency,
        )
        .then(decodeAnswer);
    case "touch":
      return service.touch(id, seconds(spec.ttlS), spec.consistency).then(decodeAnswer);
    case "delete":
      return service.delete(id, spec.consistency).then(() => undefined);
    case "get":
      return service
        .get(id, {
          consistency: spec.consistency,
          ...(record.after !== undefined ? { after: record.after } : {}),
        })
        .then(decodeAnswer);
    case "revoke":
      return service.revokeUser(record.user ?? "", spec.consistency).then(() => undefined);
  }
}

/** The answer with values decoded to strings. */
export function decodeAnswer(a: SessionAnswer): OpAnswer {
  const data: Record<string, string> = {};
  for (const [k, v] of a.data) data[k] = String(unpackValue(v));
  return { id: a.id, data, expiresAt: a.expiresAt, userId: a.userId, version: a.version };
}

/** The stable code of an error, or `UNEXPECTED: message` for anything not meant to be thrown. */
export function errorCode(e: unknown): string {
  if (e instanceof MeridianError) return e.code;
  return `UNEXPECTED: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
}
