import type Database from "better-sqlite3";
import { StorageVersionError } from "./errors.ts";
import { lifetimesFromV1 } from "./lifetime-migration.ts";
import type { RowProtection } from "./row-protection.ts";
import { SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, SCHEMA_V4, SCHEMA_V4_AFTER } from "./schema.ts";
import { packSessionRows } from "./v4-migration.ts";

/**
 * One step of the schema: what takes a database from `version - 1` to `version`: its SQL, then
 * optionally code that rewrites rows SQL cannot (msgpack payloads, sealed with the store's
 * `protection`), then optionally SQL that drops what the rewrite read.
 */
export interface Migration {
  readonly version: number;
  readonly up: string;
  readonly rewrite?: (db: Database.Database, protection: RowProtection) => void;
  readonly after?: string;
}

/** Every migration, in order. Append only: a released migration never changes. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, up: SCHEMA_V1 },
  { version: 2, up: SCHEMA_V2 },
  { version: 3, up: SCHEMA_V3, rewrite: lifetimesFromV1 },
  { version: 4, up: SCHEMA_V4, rewrite: packSessionRows, after: SCHEMA_V4_AFTER },
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * Brings the database up to {@link SCHEMA_VERSION}; the version lives in `PRAGMA user_version`.
 *
 * @remarks Each migration runs in its own transaction together with its row rewrite and its
 * version bump, so a crash leaves the database at the previous version or the next, never in
 * between. A database newer than this code is refused with {@link StorageVersionError}. A row
 * rewrite that must open sealed values (version 4) needs the keyring that sealed them: without
 * it the migration throws the typed error of `protection` and the file stays as it was.
 */
export function migrate(db: Database.Database, protection: RowProtection): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > SCHEMA_VERSION) throw new StorageVersionError(current, SCHEMA_VERSION);
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.up);
      m.rewrite?.(db, protection);
      if (m.after !== undefined) db.exec(m.after);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
}
