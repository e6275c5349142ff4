import { isUserId, packValue, type SessionWrite, ValidationError } from "@meridian/core";
import { LimitError } from "../errors.ts";
import { clip, fieldName, type InputLimits, plainObject } from "./input-rules.ts";
import { yjsUpdates } from "./yjs-input.ts";

/** A `create` write. */
export type CreateWrite = Extract<SessionWrite, { op: "create" }>;
/** A `replace` write. */
export type ReplaceWrite = Extract<SessionWrite, { op: "replace" }>;
/** A `patch` write. */
export type PatchWrite = Extract<SessionWrite, { op: "patch" }>;

/**
 * Largest duration accepted, in seconds (about 31,700 years).
 *
 * @remarks Keeps `now + duration` a safe integer and a valid JavaScript Date, so every expiry
 * renders as ISO 8601.
 */
export const MAX_SECONDS = 1e12;

/**
 * Deepest nesting of arrays and objects accepted in a field value.
 *
 * @remarks Encoding and decoding values recurse; a bound keeps every node (and every peer that
 * decodes the value later) clear of stack overflows.
 */
export const MAX_VALUE_DEPTH = 100;

type Body = Record<string, unknown>;

/**
 * Parses the body of `POST /v1/sessions`: `{data?, ttl?, idle?, maxLifetime?, userId?}`.
 *
 * @remarks Strict: unknown properties, wrong types and bad field names are refused before
 * anything is written. Durations are seconds (positive numbers; `null` for none) and become ms,
 * rounded up; a missing `ttl` takes the node's default.
 * @throws ValidationError (400), LimitError (413) for an oversized value.
 */
export function parseCreate(input: unknown, limits: InputLimits): CreateWrite {
  const body = bodyObject(input, ["data", "ttl", "idle", "maxLifetime", "userId"]);
  const ttl = durationMs(body, "ttl");
  const idle = durationMs(body, "idle");
  const maxLifetime = durationMs(body, "maxLifetime");
  const userId = userIdOf(body);
  return {
    op: "create",
    data: body.data === undefined ? new Map() : fieldValues(body.data, "data", limits),
    ttlMs: ttl === undefined ? limits.defaultTtlMs : ttl,
    ...(idle !== undefined ? { idleMs: idle } : {}),
    ...(maxLifetime !== undefined ? { maxLifetimeMs: maxLifetime } : {}),
    ...(userId !== undefined ? { userId } : {}),
  };
}

/**
 * Parses the body of `PUT /v1/sessions/:id`: `{data, ttl?, idle?, maxLifetime?, userId?}`.
 *
 * @remarks `data` is required and replaces every field. A missing `ttl` takes the node's
 * default, as Redis SET without KEEPTTL resets the expiry; a missing `idle` or `userId` keeps the
 * current one.
 * @throws ValidationError (400), LimitError (413) for an oversized value.
 */
export function parseReplace(input: unknown, limits: InputLimits): ReplaceWrite {
  const body = bodyObject(input, ["data", "ttl", "idle", "maxLifetime", "userId"]);
  if (body.data === undefined) throw new ValidationError("data is required");
  const ttl = durationMs(body, "ttl");
  const idle = durationMs(body, "idle");
  const maxLifetime = durationMs(body, "maxLifetime");
  const userId = userIdOf(body);
  return {
    op: "replace",
    data: fieldValues(body.data, "data", limits),
    ttlMs: ttl === undefined ? limits.defaultTtlMs : ttl,
    ...(idle !== undefined ? { idleMs: idle } : {}),
    ...(maxLifetime !== undefined ? { maxLifetimeMs: maxLifetime } : {}),
    ...(userId !== undefined ? { userId } : {}),
  };
}

/**
 * Parses the body of `PATCH /v1/sessions/:id`: `{set?, unset?, yjs?, ttl?, userId?}`.
 *
 * @remarks A field may appear in only one of `set`, `unset` and `yjs`. Yjs updates are base64
 * strings (binary also accepted in msgpack bodies); each must decode as a Yjs update and is
 * stored in canonical form, so no malformed update ever reaches a merge. A missing `ttl` keeps
 * the current expiry; a patch that creates the session uses the node's default.
 * @throws ValidationError (400), LimitError (413) for an oversized value or update.
 */
export function parsePatch(input: unknown, limits: InputLimits): PatchWrite {
  const body = bodyObject(input, ["set", "unset", "yjs", "ttl", "userId"]);
  const set = body.set === undefined ? undefined : fieldValues(body.set, "set", limits);
  const unset = body.unset === undefined ? undefined : fieldList(body.unset, "unset");
  const yjs = body.yjs === undefined ? undefined : yjsUpdates(body.yjs, limits);
  const seen = new Map<string, string>();
  for (const [part, names] of [
    ["set", set?.keys() ?? []],
    ["unset", unset ?? []],
    ["yjs", yjs?.keys() ?? []],
  ] as const) {
    for (const name of names) {
      const other = seen.get(name);
      if (other !== undefined && other !== part) {
        throw new ValidationError(`field "${clip(name)}" appears in both ${other} and ${part}`);
      }
      seen.set(name, part);
    }
  }
  const ttl = durationMs(body, "ttl");
  const userId = userIdOf(body);
  return {
    op: "patch",
    ...(userId !== undefined ? { userId } : {}),
    ...(set !== undefined ? { set } : {}),
    ...(unset !== undefined ? { unset: [...new Set(unset)] } : {}),
    ...(yjs !== undefined ? { yjs } : {}),
    ...(ttl !== undefined ? { ttlMs: ttl } : {}),
    defaultTtlMs: limits.defaultTtlMs,
  };
}

/**
 * Parses the body of `POST /v1/sessions/:id/touch`: `{ttl?}`; an empty body is `{}`.
 *
 * @remarks `ttl` undefined renews the session for the time to live it was last given; `null`
 * records an access without moving the expiry (expiry only ever moves forward).
 * @throws ValidationError (400)
 */
export function parseTouch(input: unknown): { readonly ttlMs: number | null | undefined } {
  const body = bodyObject(input, ["ttl"]);
  return { ttlMs: durationMs(body, "ttl") };
}

function bodyObject(input: unknown, allowed: readonly string[]): Body {
  if (input === undefined) return {};
  const body = plainObject(input, "request body");
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) {
      throw new ValidationError(`unknown property "${clip(key)}"; allowed: ${allowed.join(", ")}`);
    }
  }
  return body;
}

function durationMs(body: Body, key: string): number | null | undefined {
  const v = body[key];
  if (v === undefined || v === null) return v;
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0 || v > MAX_SECONDS) {
    throw new ValidationError(
      `${key} must be a positive number of seconds (at most ${MAX_SECONDS}) or null`,
    );
  }
  return Math.ceil(v * 1000);
}

function userIdOf(body: Body): string | null | undefined {
  const v = body.userId;
  if (v === undefined || v === null) return v;
  if (typeof v !== "string" || !isUserId(v)) {
    throw new ValidationError(
      "userId must be a string of 1 to 256 characters without control characters, or null",
    );
  }
  return v;
}

function fieldValues(v: unknown, where: string, limits: InputLimits): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const [name, value] of Object.entries(plainObject(v, where))) {
    out.set(fieldName(name, where), encodeValue(name, value, limits));
  }
  return out;
}

function fieldList(v: unknown, where: string): string[] {
  if (!Array.isArray(v)) throw new ValidationError(`${where} must be an array of field names`);
  return v.map((name) => {
    if (typeof name !== "string") {
      throw new ValidationError(`${where} must be an array of field names`);
    }
    return fieldName(name, where);
  });
}

function encodeValue(name: string, value: unknown, limits: InputLimits): Uint8Array {
  if (!depthWithin(value, MAX_VALUE_DEPTH)) {
    throw new ValidationError(
      `value of field "${clip(name)}" nests deeper than ${MAX_VALUE_DEPTH} levels`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = packValue(value);
  } catch {
    throw new ValidationError(`value of field "${clip(name)}" cannot be encoded`);
  }
  if (bytes.length > limits.maxValueBytes) {
    throw new LimitError(
      `value of field "${clip(name)}" is ${bytes.length} bytes encoded, over the limit of ${limits.maxValueBytes}`,
    );
  }
  return bytes;
}

/** Whether `value` nests at most `max` arrays and objects deep; iterative, so never overflows. */
function depthWithin(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [v, depth] = item;
    if (typeof v !== "object" || v === null || ArrayBuffer.isView(v) || v instanceof Date) continue;
    if (depth >= max) return false;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return true;
}
