/**
 * CPU per write of a three-region cluster at paced rates: the nodes' CPU (user + system, all
 * threads, from /proc) and the load generator's (this process, the SDK clients), per write
 * offered. The cheap way to compare two builds on a busy machine, where wall-clock figures move
 * with the load but CPU per write hardly does.
 *
 *   pnpm tsx bench/cpu-per-write.ts [rates, default 100,1000,5000] [--seconds 5]
 *
 * Each rate runs for `--seconds` after a warm-up of 5 s at 200 writes/s; writes are SDK PUTs of
 * new sessions, round-robin over the regions, as in workload (c).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startCluster } from "./lib/cluster.ts";
import { BenchContext, SIZES } from "./lib/context.ts";
import { nodesCpu, offerPacedWrites } from "./lib/paced-writes.ts";
import { sdkDriver } from "./lib/session-drivers.ts";
import { dec, int, sleep } from "./lib/stats.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { seconds: { type: "string", default: "5" } },
});
const rates = (positionals[0] ?? "100,1000,5000").split(",").map(Number);
const seconds = Number(values.seconds);

const dir = mkdtempSync(join(tmpdir(), "meridian-cpu-"));
const ctx = new BenchContext(SIZES.full, false, dir, undefined, () => {});
try {
  const cluster = await startCluster(ctx, { proxies: false });
  const clients = cluster.nodes.map((n) => sdkDriver(n.url, { retries: 0 }));
  for (const [i, rate] of [200, ...rates].entries()) {
    const span = i === 0 ? 5 : seconds;
    const cpu0 = nodesCpu(cluster.nodes);
    const load0 = process.cpuUsage();
    const t0 = performance.now();
    const { total: sent, failed } = await offerPacedWrites(clients, rate, span, `cpu${i}`);
    await sleep(300);
    const nodes = nodesCpu(cluster.nodes) - cpu0;
    const load = process.cpuUsage(load0);
    const wall = (performance.now() - t0) / 1000;
    if (i === 0) continue;
    console.log(
      `${int(rate)}/s offered, ${int(sent / wall)}/s achieved, ${failed} failed: nodes ${int((nodes / sent) * 1e6)} µs/write (${dec((100 * nodes) / wall)}% of a core), load generator ${int((load.user + load.system) / sent)} µs/write`,
    );
  }
  for (const c of clients) c.close();
  await cluster.close();
} finally {
  await ctx.cleanup();
  rmSync(dir, { recursive: true, force: true });
}
