/**
 * @meridian/storage-sqlite: the SQLite store. Sessions, version vector, clock and settings in
 * one WAL-mode database file; batches of deltas applied atomically.
 */
export { StorageCorruptError, StorageVersionError } from "./errors.ts";
export { SCHEMA_VERSION } from "./migrations.ts";
export { openSqliteStore, SqliteStore, type SqliteStoreOptions } from "./sqlite-store.ts";
