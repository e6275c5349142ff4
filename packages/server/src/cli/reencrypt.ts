import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { openSqliteStore, readKeyringFile } from "@meridian/storage-sqlite";
import { DATABASE_FILE } from "../config.ts";
import { UsageError } from "./options.ts";

/**
 * `meridian reencrypt --data DIR --keyring FILE [--adopt-plaintext] [--batch N]`: seals every
 * value of the node's database again under the keyring's current key, moves the user index to
 * that key, and prints how many values each key id still holds (only the current one, after a
 * clean run). `MERIDIAN_DATA` and `MERIDIAN_KEYRING` stand in for the flags.
 *
 * @remarks Each batch of sessions is one transaction, so the command may run next to a live node
 * on the same files; that node's keyring must already hold the current key. Exits 1, having
 * rolled back only the batch it was on, when a value does not open (its key is missing).
 */
export function runReencrypt(argv: readonly string[], env: NodeJS.ProcessEnv): number {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      data: { type: "string" },
      keyring: { type: "string" },
      "adopt-plaintext": { type: "boolean" },
      batch: { type: "string" },
    },
    strict: true,
    allowPositionals: false,
  });
  const data = values.data ?? env.MERIDIAN_DATA;
  const keyringFile = values.keyring ?? env.MERIDIAN_KEYRING;
  if (!data || !keyringFile) throw new UsageError("reencrypt needs --data and --keyring");
  const batchSize = Number(values.batch ?? 256);
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new UsageError("--batch must be a positive integer");
  }
  const path = join(data, DATABASE_FILE);
  // Opening would create an empty database: a mistyped folder must fail, not "succeed".
  if (!existsSync(path)) throw new UsageError(`no meridian database at ${path}`);
  const keyring = readKeyringFile(keyringFile);
  const store = openSqliteStore(path, { keyring });
  try {
    const report = store.reencrypt({ batchSize, adoptPlaintext: values["adopt-plaintext"] });
    console.log(
      `resealed ${report.payloads} values and ${report.userTags} user index entries ` +
        `in ${report.sessions} sessions under key "${keyring.current}"`,
    );
    for (const [keyId, n] of store.keyUsage()) {
      console.log(`  ${keyId === null ? "(in the clear)" : `key "${keyId}"`}: ${n} values`);
    }
    return 0;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    console.error(`meridian: reencrypt stopped: ${code ?? ""} ${(e as Error).message}`);
    return 1;
  } finally {
    store.close();
  }
}
