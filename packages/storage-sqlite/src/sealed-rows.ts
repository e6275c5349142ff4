import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from "node:crypto";
import { DecryptError, PlaintextValueError, UnknownKeyError } from "./errors.ts";
import { checkKeyring, type Keyring } from "./keyring.ts";
import { isSealed, type RowProtection, SEALED_MAGIC, sealedKeyId } from "./row-protection.ts";

const FORMAT = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const USER_INDEX_INFO = "meridian/user-index/v1";

interface KeyEntry {
  readonly id: string;
  readonly key: Buffer;
  /** HMAC key of the user index, derived from `key` (never the encryption key itself). */
  readonly indexKey: Buffer;
  /** magic, format, id length, id: the stored prefix of every payload sealed under this key. */
  readonly header: Buffer;
}

function entry(id: string, key: Buffer): KeyEntry {
  const indexKey = Buffer.from(hkdfSync("sha256", key, Buffer.alloc(0), USER_INDEX_INFO, 32));
  const idBytes = Buffer.from(id, "latin1");
  const header = Buffer.concat([Buffer.from([SEALED_MAGIC, FORMAT, idBytes.length]), idBytes]);
  return { id, key, indexKey, header };
}

/** Associated data: the header, then the row's session id and register key (NUL-separated). */
function associated(header: Uint8Array, sessionId: string, key: string): Buffer {
  // Session ids never hold NUL (they are base64url), so the split point is unambiguous.
  return Buffer.concat([header, Buffer.from(`${sessionId}\u0000${key}`, "utf8")]);
}

/**
 * Encryption at rest under a {@link Keyring}: AES-256-GCM per payload, and an HMAC of the userId
 * in the `user_id` index column.
 *
 * @remarks Sealed payload: `C1 01 <id length> <key id> <12-byte random nonce> <ciphertext>
 * <16-byte tag>`. The associated data is the header plus `sessionId NUL key`, so a ciphertext
 * swapped into another row, or under another key id, fails to authenticate. Random nonces:
 * keep each key under 2^32 sealed values (NIST SP 800-38D) by rotating. The index tag is
 * HMAC-SHA256 of the userId under a key derived (HKDF) from a data key, and a lookup tries the
 * tag of every key in the keyring, so sessions indexed under a key being rotated out are still
 * found; `reencrypt` moves them to the current key's tag.
 */
export class SealedRows implements RowProtection {
  readonly encrypted = true;
  private readonly keys: ReadonlyMap<string, KeyEntry>;
  private readonly current: KeyEntry;

  constructor(keyring: Keyring) {
    const checked = checkKeyring(keyring);
    this.keys = new Map([...checked.keys].map(([id, key]) => [id, entry(id, key)]));
    this.current = this.keys.get(checked.current)!;
  }

  seal(payload: Uint8Array, sessionId: string, key: string): Uint8Array {
    const k = this.current;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv("aes-256-gcm", k.key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(associated(k.header, sessionId, key));
    const body = Buffer.concat([cipher.update(payload), cipher.final()]);
    return Buffer.concat([k.header, nonce, body, cipher.getAuthTag()]);
  }

  open(stored: Uint8Array, sessionId: string, key: string, adoptPlaintext = false): Uint8Array {
    if (!isSealed(stored)) {
      if (adoptPlaintext) return stored;
      throw new PlaintextValueError();
    }
    const id = sealedKeyId(stored);
    const k = this.keys.get(id);
    if (k === undefined || stored[1] !== FORMAT) throw new UnknownKeyError(id);
    const start = k.header.length;
    if (stored.length < start + NONCE_BYTES + TAG_BYTES) throw new DecryptError(id);
    const bytes = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
    const nonce = bytes.subarray(start, start + NONCE_BYTES);
    const tag = bytes.subarray(bytes.length - TAG_BYTES);
    const body = bytes.subarray(start + NONCE_BYTES, bytes.length - TAG_BYTES);
    const decipher = createDecipheriv("aes-256-gcm", k.key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(associated(k.header, sessionId, key));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(body), decipher.final()]);
    } catch {
      throw new DecryptError(id);
    }
  }

  isCurrent(stored: Uint8Array): boolean {
    return isSealed(stored) && sealedKeyId(stored) === this.current.id;
  }

  userTag(userId: string | null): string | null {
    return userId === null ? null : tagUnder(this.current, userId);
  }

  userLookupTags(userId: string): string[] {
    return [...this.keys.values()].map((k) => tagUnder(k, userId));
  }
}

function tagUnder(k: KeyEntry, userId: string): string {
  return createHmac("sha256", k.indexKey).update(userId, "utf8").digest("base64url");
}
