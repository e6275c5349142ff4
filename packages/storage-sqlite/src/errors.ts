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
