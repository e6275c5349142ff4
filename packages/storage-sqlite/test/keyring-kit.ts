import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import type { Keyring } from "../src/index.ts";

/** A fresh random 32-byte key. */
export const newKey = (): Buffer => randomBytes(32);

/** A keyring of the given keys whose current key is `current`. */
export function keyring(keys: Record<string, Uint8Array>, current: string): Keyring {
  return { keys, current };
}

/**
 * Which of `needles` occur in the raw bytes of the database file `path` , its WAL or its shared-memory index (as UTF-8).
 *
 * @remarks Reads the files as they are on disk, the way someone holding a copy would.
 */
export function plaintextFound(path: string, needles: readonly string[]): string[] {
  const files = [path, `${path}-wal`, `${path}-shm`]
    .filter((f) => existsSync(f))
    .map((f) => readFileSync(f));
  return needles.filter((n) => files.some((bytes) => bytes.includes(Buffer.from(n, "utf8"))));
}
