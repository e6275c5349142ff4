import { MalformedAnswerError } from "./errors.ts";

/**
 * A session as the client returns it.
 *
 * @remarks `data` values are what was written, Dates and binary included (the client talks
 * msgpack). `yjs` holds each Yjs field as one merged update, ready for `Y.applyUpdate`.
 */
export interface Session {
  readonly id: string;
  readonly data: Record<string, unknown>;
  /** When the session expires; null when it never does. */
  readonly expiresAt: Date | null;
  readonly userId: string | null;
  /** Token of the newest write in this state. */
  readonly version: string;
  readonly yjs: Record<string, Uint8Array>;
}

/**
 * What a touch answers.
 *
 * @remarks `version` comes from the `meridian-version` header (a touch answer body carries none).
 */
export interface TouchResult {
  readonly expiresAt: Date | null;
  /** Token of the touch (read-your-writes carries it like any write's). */
  readonly version: string | undefined;
}

type Obj = Record<string, unknown>;

function object(v: unknown, region: string, what: string): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v) || v instanceof Uint8Array) {
    throw new MalformedAnswerError(region, `${what} is not an object`);
  }
  return v as Obj;
}

function stringOrNull(v: unknown, region: string, what: string): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== "string") throw new MalformedAnswerError(region, `${what} is not a string`);
  return v;
}

function instant(v: unknown, region: string): Date | null {
  const s = stringOrNull(v, region, "expiresAt");
  if (s === null) return null;
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) throw new MalformedAnswerError(region, "expiresAt is not a date");
  return d;
}

function yjsFields(v: unknown, region: string): Record<string, Uint8Array> {
  if (v === undefined || v === null) return {};
  const out: Record<string, Uint8Array> = {};
  for (const [name, update] of Object.entries(object(v, region, "yjs"))) {
    if (update instanceof Uint8Array) out[name] = update;
    else if (typeof update === "string") out[name] = new Uint8Array(Buffer.from(update, "base64"));
    else throw new MalformedAnswerError(region, `yjs.${name} is not base64`);
  }
  return out;
}

/**
 * Parses a session answer `{id, data, expiresAt, userId, version, yjs?}`.
 *
 * @remarks The edge of the SDK: anything not of the documented shape raises
 * {@link MalformedAnswerError}. Objects are rebuilt with `Object.fromEntries`, so a field named
 * `__proto__` stays an ordinary property.
 * @throws MalformedAnswerError
 */
export function parseSession(v: unknown, region: string): Session {
  const o = object(v, region, "session");
  if (typeof o.id !== "string") throw new MalformedAnswerError(region, "id is not a string");
  const data = Object.fromEntries(Object.entries(object(o.data ?? {}, region, "data")));
  return {
    id: o.id,
    data,
    expiresAt: instant(o.expiresAt, region),
    userId: stringOrNull(o.userId, region, "userId"),
    version: stringOrNull(o.version, region, "version") ?? "",
    yjs: yjsFields(o.yjs, region),
  };
}

/**
 * Parses a touch answer `{expiresAt}`. @throws MalformedAnswerError
 *
 * @remarks `expiresAt` must be an ISO 8601 string or null.
 */
export function parseTouch(v: unknown, version: string | undefined, region: string): TouchResult {
  return { expiresAt: instant(object(v, region, "touch answer").expiresAt, region), version };
}

/**
 * Parses `{sessions: [...]}`. @throws MalformedAnswerError
 *
 * @remarks Each element is parsed with `parseSession`, so one malformed session fails the whole answer.
 */
export function parseSessionList(v: unknown, region: string): Session[] {
  const list = object(v, region, "answer").sessions;
  if (!Array.isArray(list)) throw new MalformedAnswerError(region, "sessions is not an array");
  return list.map((s) => parseSession(s, region));
}

/**
 * A page of `list`.
 *
 * @remarks Holds only live sessions, so it may be short, or empty, while `next` is set: keep
 * paging until `next` is null.
 */
export interface SessionPage {
  readonly sessions: Session[];
  /** Pass as `after` for the next page; null when this page was the last. */
  readonly next: string | null;
}

/**
 * Parses `{sessions: [...], next}`. @throws MalformedAnswerError
 *
 * @remarks `next` must be a string or null: a missing cursor would end a walk early without
 * saying so.
 */
export function parseSessionPage(v: unknown, region: string): SessionPage {
  const next = object(v, region, "answer").next;
  if (next !== null && typeof next !== "string") {
    throw new MalformedAnswerError(region, "next is neither a session id nor null");
  }
  return { sessions: parseSessionList(v, region), next };
}

/**
 * Parses `{revoked: n}`. @throws MalformedAnswerError
 *
 * @remarks A non-negative safe integer, else malformed.
 */
export function parseRevoked(v: unknown, region: string): number {
  const n = object(v, region, "answer").revoked;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
    throw new MalformedAnswerError(region, "revoked is not a count");
  }
  return n;
}
