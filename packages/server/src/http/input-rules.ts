import { isFieldName, ValidationError } from "@meridian/core";

/** Limits and defaults the HTTP edge applies to request bodies. */
export interface InputLimits {
  /** Largest msgpack-encoded field value, and largest Yjs update, in bytes. */
  readonly maxValueBytes: number;
  /** Time to live of a session created or replaced without `ttl` (ms); null for none. */
  readonly defaultTtlMs: number | null;
}

/**
 * `v` as a plain object (JSON object, msgpack map); arrays, null, Dates, binary refused.
 *
 * @throws ValidationError (400)
 */
export function plainObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new ValidationError(`${what} must be an object`);
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) {
    throw new ValidationError(`${what} must be an object`);
  }
  return v as Record<string, unknown>;
}

/**
 * `name` if it is a valid field name (core `isFieldName`).
 *
 * @throws ValidationError (400)
 */
export function fieldName(name: string, where: string): string {
  if (!isFieldName(name)) {
    throw new ValidationError(
      `${where}: field names are 1 to 256 characters without NUL ("${clip(name)}")`,
    );
  }
  return name;
}

/** A client-supplied name, shortened for an error message. */
export function clip(s: string): string {
  return s.length > 64 ? `${s.slice(0, 64)}…` : s;
}
