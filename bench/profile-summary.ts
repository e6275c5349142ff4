/**
 * Summarizes V8 CPU profiles (`node --cpu-prof`, or `pnpm bench --profile`): the frames with the
 * most self time, and self time by package or source folder.
 *
 *   pnpm tsx bench/profile-summary.ts bench/profiles/<file>.cpuprofile [--top 30]
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code lives: a package name, a folder of this repository, or a runtime part. */
export function origin(url: string): string {
  if (url === "") return "(native / V8)";
  if (url.startsWith("node:")) return `node:${url.slice(5).split("/")[0]}`;
  const pnpm = /node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pnpm !== null) return pnpm[1]!;
  const repo = /\/(packages\/[^/]+\/src(?:\/[^/]+(?=\/))?|bench)\//.exec(url);
  return repo !== null ? repo[1]! : url.replace(/^file:\/\//, "");
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: "string", default: "30" } },
});
const top = Number(values.top);
for (const file of positionals) {
  const p = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const self = new Map<number, number>();
  for (const [i, id] of p.samples.entries()) {
    self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const total = p.endTime - p.startTime;
  const byFrame = new Map<string, number>();
  const byOrigin = new Map<string, number>();
  let idle = 0;
  for (const n of p.nodes) {
    const us = self.get(n.id) ?? 0;
    const f = n.callFrame;
    if (f.functionName === "(idle)") {
      idle += us;
      continue;
    }
    const where =
      f.url === ""
        ? ""
        : ` ${f.url.replace(/^.*\/(node_modules\/\.pnpm\/[^/]+\/node_modules\/|packages\/)/, "")}:${f.lineNumber + 1}`;
    const key = `${f.functionName || "(anonymous)"}${where}`;
    byFrame.set(key, (byFrame.get(key) ?? 0) + us);
    byOrigin.set(origin(f.url), (byOrigin.get(origin(f.url)) ?? 0) + us);
  }
  const busy = total - idle;
  const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
  console.log(
    `\n${file}: ${(total / 1e6).toFixed(1)} s profiled, ${(busy / 1e6).toFixed(1)} s busy`,
  );
  console.log("\nself time by frame (share of busy time):");
  for (const [k, us] of [...byFrame].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`  ${pct(us)}  ${k}`);
  }
  console.log("\nself time by origin:");
  for (const [k, us] of [...byOrigin].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`  ${pct(us)}  ${k}`);
  }
}
