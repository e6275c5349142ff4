import type { BenchContext, Workload } from "../lib/context.ts";
import type { Section } from "../lib/report.ts";
import { httpDriver, sdkDriver } from "../lib/session-drivers.ts";
import { benchId, redisArgs, writeFields } from "../lib/session-shape.ts";
import { compareThroughput, throughputSummary, throughputTable } from "./throughput.ts";

/** Sessions the writes spread over (each write updates two fields of one of them). */
const SESSIONS = 10_000;

const SDK_FULL = "meridian, SDK (synchronous FULL, default)";
const SDK_NORMAL = "meridian, SDK (synchronous NORMAL)";
const HTTP_FULL = "meridian, plain HTTP/JSON (FULL)";
const REDIS = "Redis HSET, ioredis (default persistence)";
const REDIS_AOF = "Redis HSET, ioredis (appendfsync always)";

/**
 * (a) Session writes through the SDK on one node at concurrency 1, 16 and 64, against Redis HSET
 * through ioredis at the same concurrency. Each write sets two fields (cart, counter) of one of
 * 10,000 sessions: a PATCH for meridian, an HSET of the same two fields for Redis.
 */
export const writes: Workload = {
  id: "a",
  title: "Session writes: SDK on one node vs Redis HSET",
  async run(ctx: BenchContext): Promise<Section> {
    const full = await ctx.node("writes-full");
    const normal = await ctx.node("writes-normal", { args: ["--synchronous", "NORMAL"] });
    const redis = await ctx.redis("default");
    const aof = await ctx.redis("aof-always");
    const sdkFull = sdkDriver(full.url);
    const sdkNormal = sdkDriver(normal.url);
    const http = httpDriver(full.url);
    const r1 = redis.client();
    const r2 = aof.client();
    try {
      const id = (n: number) => benchId("write", n % SESSIONS);
      const results = await compareThroughput(ctx, [
        { name: SDK_FULL, op: (n) => sdkFull.patch(id(n), writeFields(n)) },
        { name: SDK_NORMAL, op: (n) => sdkNormal.patch(id(n), writeFields(n)) },
        { name: HTTP_FULL, op: (n) => http.patch(id(n), writeFields(n)) },
        { name: REDIS, op: (n) => r1.hset(`sess:${id(n)}`, ...redisArgs(writeFields(n))) },
        { name: REDIS_AOF, op: (n) => r2.hset(`sess:${id(n)}`, ...redisArgs(writeFields(n))) },
      ]);
      return {
        id: "a",
        title: writes.title,
        summary: [
          ...throughputSummary(results, SDK_FULL, REDIS, "writes/s, SDK", true),
          ...throughputSummary(
            results,
            SDK_FULL,
            REDIS_AOF,
            "writes/s, SDK (equal durability)",
            false,
          ),
        ],
        body: [
          "Each write sets two fields (a cart and a counter) of one of 10,000 sessions: `client.patch(id, {set})`",
          "for meridian, `HSET sess:<id> cart <json> n <json>` for Redis. One node process, one redis-server process,",
          "and the load generator in the bench process; every client keeps its connections open. ioredis pipelines",
          "concurrent commands on its one connection; the SDK opens a connection per concurrent request (HTTP/1.1).",
          "",
          ...throughputTable(results, "writes"),
          "",
          "Durability differs: a meridian write is acknowledged after its group commit is fsynced",
          "(`synchronous = FULL`); Redis by default acknowledges from memory and snapshots later. The NORMAL and",
          "`appendfsync always` rows are the like-for-like variants.",
        ],
      };
    } finally {
      for (const d of [sdkFull, sdkNormal, http]) d.close();
      r1.disconnect();
      r2.disconnect();
    }
  },
};
