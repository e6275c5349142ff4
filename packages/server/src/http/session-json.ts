import { unpackValue } from "@meridian/core";
import type { SessionAnswer } from "../session-service.ts";

/**
 * A session as the HTTP API answers it (DESIGN.md): `{id, data, expiresAt, userId, version}`,
 * plus `yjs` only when the session has Yjs fields.
 *
 * @remarks The same shape in JSON and in msgpack: `expiresAt` is ISO 8601 (or null) in both, Yjs
 * updates are base64 in both. Only `data` values differ: msgpack keeps Dates, binary and big
 * integers as such, JSON renders them as ISO strings, base64 strings and numbers (or decimal
 * strings beyond 2^53).
 */
export interface SessionBody {
  readonly id: string;
  readonly data: Record<string, unknown>;
  readonly expiresAt: string | null;
  readonly userId: string | null;
  readonly version: string;
  readonly yjs?: Record<string, string>;
}

const MAX_DATE_MS = 8.64e15;

/**
 * An epoch-ms instant as ISO 8601; null stays null.
 *
 * @remarks Clamped to JavaScript's Date range, so no stored instant can make an answer fail.
 */
export function isoTime(ms: number | null): string | null {
  if (ms === null) return null;
  return new Date(Math.max(-MAX_DATE_MS, Math.min(MAX_DATE_MS, ms))).toISOString();
}

/**
 * The answer body of one session: field values decoded from msgpack.
 *
 * @remarks Built with `Object.fromEntries`, so a field named `__proto__` is an ordinary own
 * property. A stored value that does not decode is a server fault: it raises a plain `Error`
 * (500), never the client-facing `DecodeError` (400).
 */
export function sessionBody(answer: SessionAnswer): SessionBody {
  const data = Object.fromEntries(
    [...answer.data].map(([name, bytes]) => [name, storedValue(bytes)]),
  );
  const body: SessionBody = {
    id: answer.id,
    data,
    expiresAt: isoTime(answer.expiresAt),
    userId: answer.userId,
    version: answer.version,
  };
  if (answer.yjs.size === 0) return body;
  const yjs = Object.fromEntries(
    [...answer.yjs].map(([name, u]) => [name, Buffer.from(u).toString("base64")]),
  );
  return { ...body, yjs };
}

/** The answer body of a touch: `{expiresAt}`. */
export function touchBody(answer: SessionAnswer): { readonly expiresAt: string | null } {
  return { expiresAt: isoTime(answer.expiresAt) };
}

function storedValue(bytes: Uint8Array): unknown {
  try {
    return unpackValue(bytes);
  } catch (e) {
    throw new Error(
      `a stored field value does not decode: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}
