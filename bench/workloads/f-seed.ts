/**
 * Child process of workload (f): fills a node's SQLite file with sessions through the storage
 * API, in big batches, faster than any client could.
 *
 *   node --import tsx bench/workloads/f-seed.ts <database file> <sessions>
 *
 * Each session is one whole write of the bench's session shape by a node called `seed`, with a
 * 30-day time to live; sequence numbers run 1..n without a gap, as a real origin's would.
 */
import { type Delta, packValue, planWrite } from "@meridian/core";
import { openSqliteStore } from "@meridian/storage-sqlite";
import { benchId, sessionFields } from "../lib/session-shape.ts";

const BATCH = 10_000;
const TTL_MS = 30 * 86_400_000;

const [path, countText] = process.argv.slice(2);
const count = Number(countText);
if (path === undefined || !Number.isSafeInteger(count) || count < 1) {
  console.error("usage: f-seed.ts <database file> <sessions>");
  process.exit(2);
}
const store = openSqliteStore(path, { synchronous: "NORMAL" });
const now = Date.now();
for (let from = 0; from < count; from += BATCH) {
  const deltas: Delta[] = [];
  for (let n = from; n < Math.min(count, from + BATCH); n++) {
    const seq = n + 1;
    const stamp = { hlc: { wall: now - count + n, logical: 0, node: "seed" }, seq };
    const data = new Map(Object.entries(sessionFields(n)).map(([k, v]) => [k, packValue(v)]));
    const id = benchId("stored", n);
    const session = planWrite(undefined, { op: "replace", data, ttlMs: TTL_MS }, stamp, now, id);
    deltas.push({ dot: { origin: "seed", seq }, session });
  }
  store.applyDeltas(deltas, { wall: now, logical: 0 });
}
store.close();
