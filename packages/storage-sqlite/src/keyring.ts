import { readFileSync } from "node:fs";
import { KeyringError } from "./errors.ts";

/** Bytes of every key of a keyring (AES-256). */
export const KEY_BYTES = 32;

/** What a key id may be: it is stored in the clear next to every value sealed under it. */
const KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;
/** Standard base64 of exactly {@link KEY_BYTES} bytes. */
const KEY_BASE64 = /^[A-Za-z0-9+/]{43}=$/;

/**
 * The keys a store encrypts field values with at rest, by key id.
 *
 * @remarks New values are sealed under `current`; a value sealed under any other key of `keys`
 * still reads. Removing a key makes every value still sealed under it unreadable
 * (`MERIDIAN_ERR_STORAGE_UNKNOWN_KEY`), so run `reencrypt` before removing one.
 */
export interface Keyring {
  readonly keys: Readonly<Record<string, Uint8Array>>;
  readonly current: string;
}

/**
 * A validated copy of `keyring`, its keys in a map.
 *
 * @remarks Copies the key bytes, so later changes to the caller's buffers change nothing.
 * @throws KeyringError when a key id is malformed, a key is not 32 bytes, or `current` is not a
 * key of the keyring.
 */
export function checkKeyring(keyring: Keyring): {
  readonly keys: ReadonlyMap<string, Buffer>;
  readonly current: string;
} {
  const keys = new Map<string, Buffer>();
  for (const [id, key] of Object.entries(keyring.keys)) {
    if (!KEY_ID.test(id)) throw new KeyringError(`key id "${id}" must match ${KEY_ID.source}`);
    if (!(key instanceof Uint8Array) || key.byteLength !== KEY_BYTES) {
      throw new KeyringError(`key "${id}" must be ${KEY_BYTES} bytes`);
    }
    keys.set(id, Buffer.from(key));
  }
  if (!keys.has(keyring.current)) {
    throw new KeyringError(`current key "${keyring.current}" is not in the keyring`);
  }
  return { keys, current: keyring.current };
}

/**
 * Parses a keyring file: JSON `{"current": "k2", "keys": {"k1": "<base64>", "k2": "<base64>"}}`,
 * each key 32 bytes in standard base64.
 *
 * @remarks The error messages never quote key material. @throws KeyringError on anything else.
 */
export function parseKeyring(text: string): Keyring {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new KeyringError("keyring file is not JSON");
  }
  if (typeof doc !== "object" || doc === null) throw new KeyringError("keyring must be an object");
  const { current, keys } = doc as { current?: unknown; keys?: unknown };
  if (typeof current !== "string") throw new KeyringError('keyring needs a string "current"');
  if (typeof keys !== "object" || keys === null || Array.isArray(keys)) {
    throw new KeyringError('keyring needs an object "keys"');
  }
  const entries = Object.entries(keys).map(([id, text64]: [string, unknown]) => {
    if (typeof text64 !== "string" || !KEY_BASE64.test(text64)) {
      throw new KeyringError(`key "${id}" must be ${KEY_BYTES} bytes in standard base64`);
    }
    return [id, Buffer.from(text64, "base64")] as const;
  });
  // fromEntries defines own properties, so even a key id like "__proto__" stays a plain key.
  const keyring = { current, keys: Object.fromEntries(entries) };
  checkKeyring(keyring);
  return keyring;
}

/** Reads and parses a keyring file; see {@link parseKeyring}. */
export function readKeyringFile(path: string): Keyring {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new KeyringError(`cannot read keyring file: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  return parseKeyring(text);
}
