import { fieldHash } from "./session-fields.ts";

/**
 * What one request loaded: a fingerprint of each stored field, the session's user and expiry.
 *
 * @remarks Compared on `set` to send only what this request changed. Holding fingerprints, not
 * values, keeps it small.
 */
export interface FieldSnapshot {
  readonly hashes: ReadonlyMap<string, string>;
  /** The user the session was indexed under when loaded. */
  readonly userId: string | null;
  /** The session's expiry when loaded (null: none). */
  readonly expiresAt: Date | null;
}

/**
 * The fields a request changed: values to set and names to unset.
 *
 * @remarks `set` and `unset` never share a name.
 */
export interface FieldDiff {
  readonly set: Record<string, unknown>;
  readonly unset: string[];
}

/**
 * Fingerprints every stored field value.
 *
 * @remarks One fingerprint per field, keyed like `fields`.
 */
export function hashFields(fields: ReadonlyMap<string, unknown>): Map<string, string> {
  return new Map([...fields].map(([name, v]) => [name, fieldHash(v)]));
}

/**
 * The fields whose value differs from `snapshot` (or are new), and the fields `snapshot` had that
 * are gone.
 *
 * @remarks A field this request did not touch is never sent, so a concurrent request's change to
 * it, in this region or another, survives: the field-level merge on the server keeps both.
 */
export function diffFields(
  snapshot: FieldSnapshot,
  fields: ReadonlyMap<string, unknown>,
  hashes: ReadonlyMap<string, string>,
): FieldDiff {
  const set: Record<string, unknown> = {};
  for (const [name, value] of fields) {
    if (snapshot.hashes.get(name) !== hashes.get(name)) set[name] = value;
  }
  const unset = [...snapshot.hashes.keys()].filter((name) => !fields.has(name));
  return { set, unset };
}

/**
 * How many fields differ between a snapshot and the current fingerprints.
 *
 * @remarks 0 exactly when the session holds what the snapshot was taken from.
 */
export function distance(snapshot: FieldSnapshot, hashes: ReadonlyMap<string, string>): number {
  let n = 0;
  for (const [name, h] of hashes) if (snapshot.hashes.get(name) !== h) n++;
  for (const name of snapshot.hashes.keys()) if (!hashes.has(name)) n++;
  return n;
}
