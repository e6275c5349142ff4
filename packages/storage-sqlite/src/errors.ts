import { MeridianError } from "@meridian/core";

/**
 * The database was written by a newer version of meridian (its schema version is above the
 * latest migration this version knows). Opening it could corrupt it, so it is refused.
 */
export class StorageVersionError extends MeridianError {
  constructor(
    readonly found: number,
    readonly supported: number,
  ) {
    super(
      "MERIDIAN_ERR_STORAGE_VERSION",
      `database schema version ${found} is newer than the supported ${supported}`,
    );
  }
}

/** A stored row that this version cannot read back: the database is damaged. */
export class StorageCorruptError extends MeridianError {
  constructor(message: string) {
    super("MERIDIAN_ERR_STORAGE_CORRUPT", message);
  }
}

/**
 * A keyring that cannot be used: no current key, a key that is not 32 bytes, a bad key id, or a
 * keyring file that does not parse.
 *
 * @remarks Raised when the store opens (or the keyring file is read), never later: a node with a
 * bad keyring does not start.
 */
export class KeyringError extends MeridianError {
  constructor(message: string) {
    super("MERIDIAN_ERR_KEYRING", message);
  }
}

/**
 * A stored value is sealed under a key id the keyring does not hold (or the store was opened
 * without a keyring).
 *
 * @remarks Never answered with guessed bytes: the caller gets this error, with the key id (key
 * ids are names, not secrets), and can add the key back.
 */
export class UnknownKeyError extends MeridianError {
  constructor(readonly keyId: string) {
    super(
      "MERIDIAN_ERR_STORAGE_UNKNOWN_KEY",
      `a stored value is sealed under unknown key "${keyId}"`,
    );
  }
}

/**
 * A sealed value did not authenticate: the key under its id is not the one it was sealed with,
 * or the ciphertext was altered or moved to another session or field.
 */
export class DecryptError extends MeridianError {
  constructor(readonly keyId: string) {
    super(
      "MERIDIAN_ERR_STORAGE_DECRYPT",
      `a stored value does not authenticate under key "${keyId}" (wrong key, or altered or moved)`,
    );
  }
}

/**
 * A store with a keyring found a secret value stored in the clear.
 *
 * @remarks Refused rather than trusted: plaintext rows in an encrypted store are either left over
 * from before encryption was turned on (adopt them with `reencrypt({ adoptPlaintext: true })`)
 * or were written by someone who does not hold the key.
 */
export class PlaintextValueError extends MeridianError {
  constructor() {
    super(
      "MERIDIAN_ERR_STORAGE_PLAINTEXT",
      "a secret value is stored in the clear in an encrypted store; run reencrypt to adopt it",
    );
  }
}
