import type { BenchContext, Workload } from "../lib/context.ts";
import type { Section } from "../lib/report.ts";
import { sdkDriver } from "../lib/session-drivers.ts";
import { benchId, redisArgs, writeFields } from "../lib/session-shape.ts";
import { compareThroughput, throughputSummary, throughputTable } from "./throughput.ts";

/** Sessions the writes spread over (each write updates two fields of one of them). */
const SESSIONS = 10_000;

const SDK = "meridian, SDK (channel, synchronous NORMAL: default)";
const SDK_FULL = "meridian, SDK (channel, synchronous FULL)";
const SDK_HTTP = "meridian, SDK over HTTP (NORMAL)";
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
    const normal = await ctx.node("writes-normal");
    const full = await ctx.node("writes-full", { args: ["--synchronous", "FULL"] });
    const redis = await ctx.redis("default");
    const aof = await ctx.redis("aof-always");
    const sdk = sdkDriver(normal.url);
    const sdkFull = sdkDriver(full.url);
    const sdkHttp = sdkDriver(normal.url, { transport: "http" });
    const r1 = redis.client();
    const r2 = aof.client();
    try {
      const id = (n: number) => benchId("write", n % SESSIONS);
      const results = await compareThroughput(ctx, [
        { name: SDK, op: (n) => sdk.patch(id(n), writeFields(n)) },
        { name: SDK_FULL, op: (n) => sdkFull.patch(id(n), writeFields(n)) },
        { name: SDK_HTTP, op: (n) => sdkHttp.patch(id(n), writeFields(n)) },
        { name: REDIS, op: (n) => r1.hset(`sess:${id(n)}`, ...redisArgs(writeFields(n))) },
        { name: REDIS_AOF, op: (n) => r2.hset(`sess:${id(n)}`, ...redisArgs(writeFields(n))) },
      ]);
      return {
        id: "a",
        title: writes.title,
        summary: [
          ...throughputSummary(results, SDK, REDIS, "writes/s, SDK", true),
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
          "concurrent commands on its one connection; so does the SDK on its client channel (one WebSocket, msgpack).",
          "The SDK over HTTP makes one `fetch` per write (HTTP/1.1, keep-alive).",
          "",
          ...throughputTable(results, "writes"),
          "",
          "Durability: by default a meridian write is acknowledged once its group commit is in SQLite's WAL",
          "(`synchronous = NORMAL`: survives kill -9, not a power loss), and Redis by default acknowledges from",
          "memory and snapshots later. With `synchronous = FULL` every group commit is fsynced, like Redis with",
          "`appendfsync always`: those two rows are the like-for-like power-loss-safe pair.",
        ],
      };
    } finally {
      for (const d of [sdk, sdkFull, sdkHttp]) d.close();
      r1.disconnect();
      r2.disconnect();
    }
  },
};
