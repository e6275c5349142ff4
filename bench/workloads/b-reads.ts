import { forEachConcurrently } from "../lib/closed-loop.ts";
import type { BenchContext, Workload } from "../lib/context.ts";
import type { Section } from "../lib/report.ts";
import { httpDriver, sdkDriver } from "../lib/session-drivers.ts";
import { benchId, redisArgs, sessionFields } from "../lib/session-shape.ts";
import { int } from "../lib/stats.ts";
import { compareThroughput, throughputSummary, throughputTable } from "./throughput.ts";

const SDK = "meridian, SDK (channel: default)";
const SDK_HTTP = "meridian, SDK over HTTP";
const REDIS = "Redis HGETALL, ioredis";

/**
 * (b) Session reads through the SDK against Redis HGETALL: the same sessions (four fields) in
 * both, read at random.
 */
export const reads: Workload = {
  id: "b",
  title: "Session reads: SDK on one node vs Redis HGETALL",
  async run(ctx: BenchContext): Promise<Section> {
    const count = ctx.sizes.readSessions;
    const node = await ctx.node("reads");
    const redis = await ctx.redis("default");
    const seeder = httpDriver(node.url);
    const sdk = sdkDriver(node.url);
    const sdkHttp = sdkDriver(node.url, { transport: "http" });
    const r = redis.client();
    try {
      const id = (n: number) => benchId("read", n);
      await forEachConcurrently(count, 64, (n) => seeder.put(id(n), sessionFields(n)));
      for (let n = 0; n < count; n += 1000) {
        const pipe = r.pipeline();
        for (let i = n; i < Math.min(count, n + 1000); i++) {
          pipe.hset(`sess:${id(i)}`, ...redisArgs(sessionFields(i)));
        }
        await pipe.exec();
      }
      ctx.log(`  seeded ${int(count)} sessions in meridian and Redis`);
      const pick = (n: number) => id((n * 7919) % count);
      const results = await compareThroughput(ctx, [
        { name: SDK, op: (n) => sdk.get(pick(n)) },
        { name: SDK_HTTP, op: (n) => sdkHttp.get(pick(n)) },
        {
          name: REDIS,
          op: async (n) => {
            const h = await r.hgetall(`sess:${pick(n)}`);
            if (h.n === undefined) throw new Error("missing hash");
          },
        },
      ]);
      return {
        id: "b",
        title: reads.title,
        summary: throughputSummary(results, SDK, REDIS, "reads/s, SDK", false),
        body: [
          `${int(count)} sessions of four fields (user, cart, CSRF token, counter) in both stores, read in a`,
          "scattered order: `client.get(id)` for meridian (the whole session, decoded), `HGETALL` for Redis.",
          "",
          ...throughputTable(results, "reads"),
        ],
      };
    } finally {
      for (const d of [seeder, sdk, sdkHttp]) d.close();
      r.disconnect();
    }
  },
};
