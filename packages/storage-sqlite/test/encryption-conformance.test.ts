import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { storeConformance } from "@meridian/core/testing";
import { afterAll } from "vitest";
import { openSqliteStore } from "../src/index.ts";
import { keyring, newKey } from "./keyring-kit.ts";

const dir = mkdtempSync(join(tmpdir(), "meridian-sqlite-enc-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
// Two keys, so that reopening also exercises reads under a key id from the header.
const ring = keyring({ old: newKey(), now: newKey() }, "now");

// With encryption on, the store must behave exactly as the reference: same states, digests,
// user lookups and extraction, and everything survives a reopen under the same keyring.
storeConformance(
  "SqliteStore encrypted at rest",
  () => openSqliteStore(join(dir, `enc-${++files}.db`), { keyring: ring }),
  { reopen: (closed) => openSqliteStore(closed.path, { keyring: ring }), runs: 200 },
);
