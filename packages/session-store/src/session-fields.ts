import { createHash } from "node:crypto";
import { packValue } from "@meridian/client";

/**
 * Turns a session's top-level values into stored strings and back, per field.
 *
 * @remarks Optional, for users coming from connect-redis with a custom serializer. Without one,
 * values go to meridian as they are (msgpack), which keeps Dates and binary, which JSON loses.
 */
export interface FieldSerializer {
  stringify(value: unknown): string;
  parse(text: string): unknown;
}

/**
 * A session object as the store sees it: top-level fields by name.
 *
 * @remarks express-session and @fastify/session both hand the store such an object (their `Session` classes).
 */
export type SessionRecord = Record<string, unknown>;

function isPlainOrBuiltin(v: object): boolean {
  if (Array.isArray(v) || v instanceof Date || ArrayBuffer.isView(v)) return true;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * The stored form of each top-level field of `session`.
 *
 * @remarks Own enumerable fields only; functions and `undefined` are skipped (they do not survive
 * any store). A class instance with `toJSON` (express-session's and @fastify/session's `Cookie`)
 * is stored as what `toJSON` gives. With a serializer, each value becomes its string.
 */
export function encodeFields(
  session: SessionRecord,
  serializer: FieldSerializer | undefined,
): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [name, raw] of Object.entries(session)) {
    if (raw === undefined || typeof raw === "function") continue;
    let value: unknown = raw;
    if (typeof raw === "object" && raw !== null && !isPlainOrBuiltin(raw)) {
      const toJSON: unknown = (raw as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === "function") value = toJSON.call(raw);
    }
    out.set(name, serializer === undefined ? value : serializer.stringify(value));
  }
  return out;
}

/**
 * A session object from stored fields (the inverse of {@link encodeFields}).
 *
 * @remarks Built with `Object.fromEntries`, so a field named `__proto__` stays data. A field a
 * serializer cannot parse raises: a corrupt session is an error, not an empty one.
 */
export function decodeFields(
  data: Readonly<Record<string, unknown>>,
  serializer: FieldSerializer | undefined,
): SessionRecord {
  if (serializer === undefined) return Object.fromEntries(Object.entries(data));
  return Object.fromEntries(
    Object.entries(data).map(([name, v]) => [
      name,
      typeof v === "string" ? serializer.parse(v) : v,
    ]),
  );
}

/**
 * Fingerprint of one stored field value: SHA-256 of its msgpack bytes.
 *
 * @remarks Equal values give equal fingerprints (the same bytes go over the wire), so comparing
 * fingerprints tells which fields a request changed without keeping a copy of every value.
 */
export function fieldHash(stored: unknown): string {
  return createHash("sha256").update(packValue(stored)).digest("base64url");
}
