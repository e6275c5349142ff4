import { spawn } from "node:child_process";
import { join } from "node:path";
import { forEachConcurrently } from "../lib/closed-loop.ts";
import type { BenchContext, Workload } from "../lib/context.ts";
import { residentMemory } from "../lib/proc.ts";
import { type Section, table } from "../lib/report.ts";
import { HttpJson } from "../lib/session-drivers.ts";
import { benchId, redisArgs, sessionFields } from "../lib/session-shape.ts";
import { bytes, dec, int, ratio, sleep } from "../lib/stats.ts";

const TARGET_BYTES = 200 * 1024 * 1024;
const READS = 1000;

/** Runs the seeding child process; resolves when the file holds `count` sessions. */
function seed(path: string, count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", join(import.meta.dirname, "f-seed.ts"), path, String(count)],
      { stdio: ["ignore", "inherit", "inherit"] },
    );
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`seeding exited with ${code}`)),
    );
  });
}

/** Reads `READS` scattered sessions through HTTP; throws unless every one is there. */
async function readSome(url: string, count: number): Promise<void> {
  const http = new HttpJson(url);
  try {
    await forEachConcurrently(READS, 16, async (i) => {
      const id = benchId("stored", (i * 104_729) % count);
      const a = await http.call("GET", `/v1/sessions/${id}`);
      if (a.status !== 200) throw new Error(`GET ${id} answered ${a.status}`);
    });
  } finally {
    http.close();
  }
}

/**
 * (f) Resident memory of a node holding many sessions, against redis-server holding the same
 * sessions as hashes.
 */
export const memory: Workload = {
  id: "f",
  title: "Resident memory with many stored sessions",
  async run(ctx: BenchContext): Promise<Section> {
    const count = ctx.sizes.storedSessions;
    const empty = await ctx.node("memory-empty");
    await readSome(empty.url, 1).catch(() => undefined);
    await sleep(1000);
    const emptyRss = residentMemory(empty.pid).rss;
    await empty.stop();

    const dataDir = ctx.folder("memory");
    let t = performance.now();
    await seed(join(dataDir, "meridian.db"), count);
    const seedSeconds = (performance.now() - t) / 1000;
    ctx.log(`  seeded ${int(count)} sessions into SQLite in ${dec(seedSeconds)} s`);
    t = performance.now();
    const node = await ctx.node("memory", { dataDir });
    const startSeconds = (performance.now() - t) / 1000;
    const idle = residentMemory(node.pid).rss;
    await readSome(node.url, count);
    await sleep(2000);
    const after = residentMemory(node.pid);
    ctx.log(
      `  node RSS ${bytes(after.rss)} (peak ${bytes(after.peak)}), empty node ${bytes(emptyRss)}`,
    );

    const redis = await ctx.redis("default");
    const client = redis.client();
    let redisUsed = 0;
    let redisRss = 0;
    try {
      for (let from = 0; from < count; from += 10_000) {
        const pipe = client.pipeline();
        for (let n = from; n < Math.min(count, from + 10_000); n++) {
          pipe.hset(`sess:${benchId("stored", n)}`, ...redisArgs(sessionFields(n)));
        }
        await pipe.exec();
      }
      await sleep(1000);
      redisRss = residentMemory(redis.pid).rss;
      const info = await client.info("memory");
      redisUsed = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN);
    } finally {
      client.disconnect();
    }
    ctx.log(`  redis-server RSS ${bytes(redisRss)} (used_memory ${bytes(redisUsed)})`);
    return {
      id: "f",
      title: memory.title,
      summary: [
        {
          figure: `node RSS with ${int(count)} stored sessions`,
          value: bytes(after.rss),
          peer: `redis-server RSS: ${bytes(redisRss)}`,
          ratio: ratio(after.rss, redisRss),
          target: "< 200 MiB",
          meets: after.rss < TARGET_BYTES,
        },
      ],
      body: [
        `${int(count)} sessions of the bench's shape (four fields, 30-day TTL) written into a node's SQLite file`,
        `through the storage API by a child process (${dec(seedSeconds)} s), then a node started on that file`,
        `(ready in ${dec(startSeconds)} s) and ${int(READS)} scattered sessions read through HTTP. RSS is`,
        "`VmRSS` from `/proc/<pid>/status`, read 2 s after the reads. Redis holds the same sessions as hashes",
        "(HSET, pipelined), measured the same way.",
        "",
        ...table(
          ["process", "RSS", "notes"],
          [
            [
              "meridian node, empty database",
              bytes(emptyRss),
              "baseline: Node.js, tsx, the server",
            ],
            ["meridian node, ready, before reads", bytes(idle), ""],
            [
              `meridian node, after ${int(READS)} reads`,
              bytes(after.rss),
              `peak (VmHWM) ${bytes(after.peak)}`,
            ],
            ["redis-server", bytes(redisRss), `used_memory ${bytes(redisUsed)}`],
          ],
        ),
        "",
        `Sessions live on disk: the node holds SQLite's page cache, its version vector and what the reads`,
        `touched, ${bytes(after.rss - emptyRss)} above an empty node, while Redis keeps every session in memory.`,
      ],
    };
  },
};
