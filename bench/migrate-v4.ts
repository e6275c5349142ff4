/**
 * Times the schema 3 → 4 migration on a large file: writes a schema 3 database of n sessions
 * (the bench's session shape, as f-seed writes them), then opens it with the current store in a
 * child process, which migrates it in one transaction. Prints the migration's wall time, the
 * child's peak RSS, and the file's size and free pages before and after.
 *
 *   pnpm tsx bench/migrate-v4.ts [--sessions 1000000]
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { packValue, planWrite, type SessionState, VersionVector } from "@meridian/core";
import { openSqliteStore } from "@meridian/storage-sqlite";
import { writeV3File } from "../packages/storage-sqlite/test/v3-file.ts";
import { benchId, sessionFields } from "./lib/session-shape.ts";
import { dec, int } from "./lib/stats.ts";

const TTL_MS = 30 * 86_400_000;
const MiB = 2 ** 20;

const { values, positionals } = parseArgs({
  options: { sessions: { type: "string", default: "1000000" } },
  allowPositionals: true,
});

if (positionals[0] === "open") {
  // The child: only the migration's own memory counts toward its RSS.
  const started = performance.now();
  openSqliteStore(positionals[1]!).close();
  const rss = process.resourceUsage().maxRSS * 1024;
  console.log(JSON.stringify({ seconds: (performance.now() - started) / 1000, rss }));
} else {
  const count = Number(values.sessions);
  const dir = mkdtempSync(join(tmpdir(), "meridian-migrate-"));
  const path = join(dir, "v3.db");
  try {
    const now = Date.now();
    const sessions: SessionState[] = [];
    for (let n = 0; n < count; n++) {
      const stamp = { hlc: { wall: now - count + n, logical: 0, node: "seed" }, seq: n + 1 };
      const data = new Map(Object.entries(sessionFields(n)).map(([k, v]) => [k, packValue(v)]));
      const op = { op: "replace" as const, data, ttlMs: TTL_MS };
      sessions.push(planWrite(undefined, op, stamp, now, benchId("stored", n)));
    }
    const vv = new VersionVector();
    vv.add({ origin: "seed", seq: count });
    writeV3File(path, sessions, vv, { wall: now, logical: 0 });
    const before = statSync(path).size;
    const out = execFileSync(process.execPath, [
      "--import",
      "tsx",
      import.meta.filename,
      "open",
      path,
    ]).toString();
    const { seconds, rss } = JSON.parse(out) as { seconds: number; rss: number };
    console.log(
      `${int(count)} sessions: schema 3 file ${dec(before / MiB, 1)} MiB; migrated in ${dec(seconds, 2)} s, peak RSS ${dec(rss / MiB, 1)} MiB; schema 4 file ${dec(statSync(path).size / MiB, 1)} MiB (freed pages stay in the file for reuse)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
