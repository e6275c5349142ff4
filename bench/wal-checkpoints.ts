/**
 * WAL checkpoint benchmark: what checkpoints cost the thread that commits. One SQLite store takes
 * paced commits (like a node's group commits: a few new sessions each) for a while, once with
 * SQLite's checkpoints inside commits and once with the checkpoint worker, alternating; it
 * reports commit time (p50, p99, max), event-loop delay, process CPU per commit (worker thread
 * included) and the WAL's largest size.
 *
 * Run: `pnpm exec tsx bench/wal-checkpoints.ts [--rate 1000] [--seconds 10] [--pairs 2]`.
 * Writes bench/results/wal-checkpoints.md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { type Delta, type FieldRegister, packValue } from "@meridian/core";
import { openSqliteStore } from "@meridian/storage-sqlite";

const { values } = parseArgs({
  options: {
    rate: { type: "string", default: "1000" },
    seconds: { type: "string", default: "10" },
    pairs: { type: "string", default: "2" },
    batch: { type: "string", default: "3" },
    limit: { type: "string" },
  },
});
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const PAIRS = Number(values.pairs);
const BATCH = Number(values.batch);
/** The worker's `walLimitPages` (default: the store's). */
const LIMIT = values.limit === undefined ? undefined : Number(values.limit);

interface Run {
  readonly mode: "inline" | "worker";
  readonly commits: number;
  readonly commitMs: { p50: number; p99: number; max: number };
  readonly loopMs: { p99: number; max: number };
  readonly cpuUsPerCommit: number;
  readonly walMaxMiB: number;
  readonly checkpoints: { worker: number; writer: number };
  /** Commits that took over 10 ms. */
  readonly slowCommits: number;
}

let seq = 0;
/** `n` writes of new sessions shaped like bench (c)'s: a few small fields each. */
function newSessions(n: number): Delta[] {
  return Array.from({ length: n }, () => {
    seq += 1;
    const stamp = { hlc: { wall: 1_700_000_000_000 + seq, logical: 0, node: "eu" }, seq };
    const fields = new Map<string, FieldRegister>([
      ["user", { kind: "value", stamp, value: packValue({ id: seq, name: `user-${seq}` }) }],
      ["cart", { kind: "value", stamp, value: packValue([seq, seq + 1, seq + 2]) }],
      ["csrf", { kind: "value", stamp, value: packValue(`token-${seq}-${"x".repeat(64)}`) }],
    ]);
    return {
      dot: { origin: "eu", seq },
      session: { id: `wal_${String(seq).padStart(10, "0")}`, fields },
    };
  });
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

async function run(dir: string, mode: Run["mode"]): Promise<Run> {
  const store = openSqliteStore(join(dir, `${mode}-${seq}.db`), {
    checkpointWorker: mode === "worker" && (LIMIT === undefined ? true : { walLimitPages: LIMIT }),
  });
  const commitMs: number[] = [];
  let walMax = 0;
  let slow = 0;
  const loop = monitorEventLoopDelay({ resolution: 1 });
  const cpu0 = process.cpuUsage();
  loop.enable();
  const started = performance.now();
  const total = RATE * SECONDS;
  for (let done = 0; done < total; ) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * RATE));
    for (; done < due; done++) {
      const deltas = newSessions(BATCH);
      const t0 = performance.now();
      store.applyDeltas(deltas);
      commitMs.push(performance.now() - t0);
      if (performance.now() - t0 > 10) slow += 1;
    }
    walMax = Math.max(walMax, store.walStatus().bytes);
    await sleep(1);
  }
  loop.disable();
  const cpu = process.cpuUsage(cpu0);
  const { checkpoints } = store.walStatus();
  store.close();
  commitMs.sort((a, b) => a - b);
  return {
    mode,
    commits: total,
    commitMs: {
      p50: quantile(commitMs, 0.5),
      p99: quantile(commitMs, 0.99),
      max: commitMs.at(-1)!,
    },
    loopMs: { p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
    cpuUsPerCommit: (cpu.user + cpu.system) / total,
    walMaxMiB: walMax / 2 ** 20,
    checkpoints,
    slowCommits: slow,
  };
}

const dir = mkdtempSync(join(tmpdir(), "meridian-wal-bench-"));
const runs: Run[] = [];
const loadStart = loadavg()[0]!;
try {
  for (let i = 0; i < PAIRS; i++) {
    for (const mode of ["inline", "worker"] as const) {
      const r = await run(dir, mode);
      runs.push(r);
      console.log(
        `${mode}: commit p50 ${r.commitMs.p50.toFixed(2)} p99 ${r.commitMs.p99.toFixed(2)} max ${r.commitMs.max.toFixed(1)} ms; loop p99 ${r.loopMs.p99.toFixed(1)} max ${r.loopMs.max.toFixed(1)} ms; CPU ${r.cpuUsPerCommit.toFixed(0)} µs/commit; WAL max ${r.walMaxMiB.toFixed(1)} MiB; checkpoints worker ${r.checkpoints.worker} writer ${r.checkpoints.writer}; commits over 10 ms ${r.slowCommits}`,
      );
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const f = (n: number, d = 2) => n.toFixed(d);
const lines = [
  "# WAL checkpoints: inside commits vs the checkpoint worker",
  "",
  `Produced by \`bench/wal-checkpoints.ts\` on ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC: ${RATE} commits/s of ${BATCH} new sessions each for ${SECONDS} s per run, runs alternating; load average (1 min) ${f(loadStart)} at start, ${f(loadavg()[0]!)} at end.`,
  "",
  "| checkpoints | commit p50 ms | commit p99 ms | commit max ms | event-loop delay p99 / max ms | CPU µs/commit | WAL max MiB | checkpoints (worker / writer) |",
  "|---|---:|---:|---:|---:|---:|---:|---:|",
  ...runs.map(
    (r) =>
      `| ${r.mode === "inline" ? "inside commits (SQLite's default)" : "worker"} | ${f(r.commitMs.p50)} | ${f(r.commitMs.p99)} | ${f(r.commitMs.max, 1)} | ${f(r.loopMs.p99, 1)} / ${f(r.loopMs.max, 1)} | ${f(r.cpuUsPerCommit, 0)} | ${f(r.walMaxMiB, 1)} | ${r.mode === "worker" ? `${r.checkpoints.worker} / ${r.checkpoints.writer}` : "–"} |`,
  ),
  "",
];
mkdirSync(join(import.meta.dirname, "results"), { recursive: true });
writeFileSync(join(import.meta.dirname, "results", "wal-checkpoints.md"), lines.join("\n"));
