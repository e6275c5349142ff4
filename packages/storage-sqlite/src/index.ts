/**
 * @meridian/storage-sqlite: the SQLite store. Sessions, version vector, clock and settings in
 * one WAL-mode database file; batches of deltas applied atomically.
 */
export {
  DecryptError,
  KeyringError,
  PlaintextValueError,
  StorageCorruptError,
  StorageVersionError,
  UnknownKeyError,
} from "./errors.ts";
export { KEY_BYTES, type Keyring, parseKeyring, readKeyringFile } from "./keyring.ts";
export { SCHEMA_VERSION } from "./migrations.ts";
export type { ReencryptOptions, ReencryptReport } from "./reencrypt.ts";
export {
  openSqliteStore,
  SqliteStore,
  type SqliteStoreOptions,
  type WalStatus,
} from "./sqlite-store.ts";
export type { CheckpointWorkerOptions } from "./wal-checkpointer.ts";
