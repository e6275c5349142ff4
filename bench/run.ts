/**
 * `pnpm bench`: every benchmark of meridian side by side with its peer, in one run.
 *
 * Starts and stops every process itself: meridian nodes (`meridian node`, as operators run it),
 * redis-server (installed from Debian's packages when missing), and compares against Yjs in
 * process. Writes bench/RESULTS.md: the machine, the date, each figure, its peer, the ratio and
 * the target from DESIGN.md.
 *
 *   pnpm bench                  full run (about 15 minutes on 2 cores), writes bench/RESULTS.md
 *   pnpm bench --quick          smaller sizes, writes bench/results/quick.md
 *   pnpm bench --only a,c       some workloads (a..g), writes bench/results/partial.md
 *   pnpm bench --profile        node processes run with --cpu-prof into bench/profiles/
 *   pnpm bench --out FILE       write the report elsewhere
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { BenchContext, SIZES, type Workload } from "./lib/context.ts";
import { describeMachine } from "./lib/machine.ts";
import { renderResults } from "./lib/results-file.ts";
import type { Section } from "./lib/report.ts";
import { writes } from "./workloads/a-writes.ts";
import { reads } from "./workloads/b-reads.ts";
import { replicationLag } from "./workloads/c-lag.ts";
import { partition } from "./workloads/d-partition.ts";
import { overwrites } from "./workloads/e-overwrites.ts";
import { memory } from "./workloads/f-memory.ts";
import { killNine } from "./workloads/g-kill.ts";

const WORKLOADS: readonly Workload[] = [
  writes,
  reads,
  replicationLag,
  partition,
  overwrites,
  memory,
  killNine,
];

const { values } = parseArgs({
  options: {
    only: { type: "string" },
    quick: { type: "boolean", default: false },
    profile: { type: "boolean", default: false },
    out: { type: "string" },
  },
});
const only = values.only?.split(",").map((s) => s.trim().toLowerCase());
const unknown = only?.filter((id) => !WORKLOADS.some((w) => w.id === id)) ?? [];
if (unknown.length > 0) {
  console.error(`pnpm bench: unknown workload ${unknown.join(", ")} (known: a..g)`);
  process.exit(2);
}
const selected = WORKLOADS.filter((w) => only === undefined || only.includes(w.id));
const quick = values.quick === true;
const complete = selected.length === WORKLOADS.length && !quick;
const out =
  values.out ??
  join(import.meta.dirname, complete ? "RESULTS.md" : `results/${quick ? "quick" : "partial"}.md`);
const profileDir = values.profile === true ? join(import.meta.dirname, "profiles") : undefined;
if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true });

const dir = mkdtempSync(join(tmpdir(), "meridian-bench-"));
const log = (line: string) => console.log(line);
const ctx = new BenchContext(quick ? SIZES.quick : SIZES.full, quick, dir, profileDir, log);
const started = new Date();
const loadAtStart = loadavg()[0] ?? 0;
const t0 = performance.now();
const sections: Section[] = [];
let failed = 0;
try {
  for (const w of selected) {
    log(`\n(${w.id}) ${w.title}`);
    const t = performance.now();
    try {
      sections.push(await w.run(ctx));
    } catch (e) {
      failed += 1;
      const message = e instanceof Error ? (e.stack ?? e.message) : String(e);
      log(`  FAILED: ${message}`);
      sections.push({
        id: w.id,
        title: w.title,
        summary: [
          {
            figure: "workload failed",
            value: (e instanceof Error ? e.message : String(e)).slice(0, 120),
            peer: "–",
            ratio: "–",
            target: "–",
            meets: false,
          },
        ],
        body: ["**This workload failed:**", "", "```", message, "```"],
      });
    } finally {
      await ctx.cleanup();
    }
    log(`  (${((performance.now() - t) / 1000).toFixed(0)} s)`);
  }
} finally {
  await ctx.cleanup();
  rmSync(dir, { recursive: true, force: true });
}

const machine = describeMachine();
const text = renderResults({
  machine: { ...machine, loadAtStart },
  loadAtEnd: loadavg()[0] ?? 0,
  redis: ctx.redisServerVersion,
  started,
  seconds: (performance.now() - t0) / 1000,
  quick,
  command: `pnpm bench${process.argv.slice(2).length > 0 ? ` ${process.argv.slice(2).join(" ")}` : ""}`,
  sections,
});
mkdirSync(join(out, ".."), { recursive: true });
writeFileSync(out, text);
log(`\nwritten to ${relative(process.cwd(), out)}`);
if (profileDir !== undefined) log(`CPU profiles in ${relative(process.cwd(), profileDir)}`);
process.exit(failed > 0 ? 1 : 0);
