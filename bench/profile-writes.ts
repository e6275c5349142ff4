/**
 * Profiles one node under the write workload: starts a node with `--cpu-prof`, drives PATCHes
 * at a given concurrency for a while (plain HTTP, or the SDK with `--sdk`), stops the node and
 * summarizes its profile.
 *
 *   pnpm tsx bench/profile-writes.ts [--concurrency 64] [--seconds 10] [--sdk] [--reads]
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { freePorts } from "@meridian/server/testing";
import { BenchNode } from "./lib/bench-node.ts";
import { closedLoop, forEachConcurrently } from "./lib/closed-loop.ts";
import { httpDriver, sdkDriver } from "./lib/session-drivers.ts";
import { benchId, sessionFields, writeFields } from "./lib/session-shape.ts";
import { dec, int } from "./lib/stats.ts";

const { values } = parseArgs({
  options: {
    concurrency: { type: "string", default: "64" },
    seconds: { type: "string", default: "10" },
    sdk: { type: "boolean", default: false },
    reads: { type: "boolean", default: false },
    args: { type: "string", default: "" },
  },
});
const profiles = join(import.meta.dirname, "profiles");
mkdirSync(profiles, { recursive: true });
const dir = mkdtempSync(join(tmpdir(), "meridian-profile-"));
const [port] = await freePorts(1);
const node = new BenchNode({
  region: "profile",
  port: port!,
  dataDir: dir,
  cpuProfileDir: profiles,
  args: values.args === "" ? [] : values.args.split(" "),
});
await node.start();
const driver = values.sdk === true ? sdkDriver(node.url) : httpDriver(node.url);
try {
  const id = (n: number) => benchId(values.reads === true ? "read" : "write", n % 10_000);
  if (values.reads === true) {
    await forEachConcurrently(10_000, 64, (n) => driver.put(id(n), sessionFields(n)));
  }
  const r = await closedLoop(
    Number(values.concurrency),
    1000,
    Number(values.seconds) * 1000,
    (n) => (values.reads === true ? driver.get(id(n * 7919)) : driver.patch(id(n), writeFields(n))),
  );
  console.log(
    `${driver.name} ${values.reads === true ? "reads" : "writes"} c=${values.concurrency}: ${int(r.perSecond)}/s p50 ${dec(r.p50Ms, 2)} ms p99 ${dec(r.p99Ms, 2)} ms, ${r.errors} errors`,
  );
} finally {
  driver.close();
  await node.stop();
  rmSync(dir, { recursive: true, force: true });
}
const folder = join(profiles, `profile-${port}`);
const files = readdirSync(folder).map((f) => join(folder, f));
// The main thread's profile is the largest; the other is tsx's module loader thread.
const main = files.sort((a, b) => statSync(b).size - statSync(a).size)[0];
console.log(`profile: ${main}`);
