import { UnknownKeyError } from "./errors.ts";

/**
 * First byte of a sealed payload. 0xC1 is the one byte msgpack never uses, so a sealed payload
 * can never be mistaken for a plain one (every plain payload is a msgpack array).
 */
export const SEALED_MAGIC = 0xc1;

/** Whether stored bytes are a sealed payload rather than plain msgpack. */
export function isSealed(stored: Uint8Array): boolean {
  return stored[0] === SEALED_MAGIC;
}

/**
 * The key id a sealed payload names, read from its header without decrypting.
 *
 * @remarks Header: magic, format version, key id length, key id (ASCII); see `sealed-rows.ts`.
 */
export function sealedKeyId(stored: Uint8Array): string {
  const n = Math.max(0, Math.min(stored[2] ?? 0, stored.length - 3));
  return Buffer.from(stored.buffer, stored.byteOffset + 3, n).toString("latin1");
}

/**
 * How secret parts of a session are stored: the secret part of its body (field values, Yjs
 * documents, the userId; per register payloads in schema 3), and the `user_id` index column.
 *
 * @remarks Two implementations: {@link PLAIN_ROWS} (no keyring: stored as they are) and
 * `SealedRows` (a keyring: AES-256-GCM, and a keyed hash in the index). `sessionId` and `key`
 * (what the payload stands for: its field names in schema 4, its register key in schema 3) are
 * bound into every sealed payload, so a payload moved to another row does not read.
 */
export interface RowProtection {
  /** Whether values are encrypted at rest. */
  readonly encrypted: boolean;
  /** The stored form of a secret register payload of register `key` of session `sessionId`. */
  seal(payload: Uint8Array, sessionId: string, key: string): Uint8Array;
  /**
   * The payload back from its stored form.
   *
   * @remarks With `adoptPlaintext`, a plain payload in an encrypted store is returned as it is
   * (reencrypting a database from before encryption); without it, it is refused.
   * @throws UnknownKeyError, DecryptError, PlaintextValueError.
   */
  open(stored: Uint8Array, sessionId: string, key: string, adoptPlaintext?: boolean): Uint8Array;
  /** Whether `stored` is already in the form {@link seal} would write now (current key). */
  isCurrent(stored: Uint8Array): boolean;
  /** What the `user_id` column holds for a session of `userId`. */
  userTag(userId: string | null): string | null;
  /** Every `user_id` value a session of `userId` may hold (one per key that may have made it). */
  userLookupTags(userId: string): string[];
}

/**
 * No encryption: payloads and user ids stored as they are.
 *
 * @remarks A sealed payload met without a keyring is refused with {@link UnknownKeyError}, never
 * decoded as garbage.
 */
export const PLAIN_ROWS: RowProtection = {
  encrypted: false,
  seal: (payload) => payload,
  open(stored) {
    if (isSealed(stored)) throw new UnknownKeyError(sealedKeyId(stored));
    return stored;
  },
  isCurrent: (stored) => !isSealed(stored),
  userTag: (userId) => userId,
  userLookupTags: (userId) => [userId],
};
