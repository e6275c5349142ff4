/**
 * System calls and context switches per write of one node (eu) of a three-region cluster at
 * paced rates, with the load of bench/cpu-per-write.ts (SDK PUTs of new sessions, round-robin
 * over the regions). Each node applies every write, so per-write figures divide by all writes.
 *
 *   pnpm tsx bench/syscalls-per-write.ts [rates, default 1000,5000] [--seconds 5] [--perf]
 *
 * It reads `/proc/<pid>/io` (read-like and write-like syscalls) and the context switches of
 * every thread; with `--perf`, `perf stat` also counts each system call by name from the
 * kernel's tracepoints (cheap, unlike strace, whose stops change how the node batches).
 * `PROFILE_DIR=<dir>` writes the nodes' CPU profiles there; `KEEP=1` keeps the data folder.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startCluster } from "./lib/cluster.ts";
import { BenchContext, SIZES } from "./lib/context.ts";
import { cpuSeconds } from "./lib/proc.ts";
import { sdkDriver } from "./lib/session-drivers.ts";
import { offerPacedWrites } from "./lib/paced-writes.ts";
import { dec, int, sleep } from "./lib/stats.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { seconds: { type: "string", default: "5" }, perf: { type: "boolean" } },
});
const rates = (positionals[0] ?? "1000,5000").split(",").map(Number);
const seconds = Number(values.seconds);
const SYSCALLS = [
  "read",
  "write",
  "writev",
  "pread64",
  "pwrite64",
  "fcntl",
  "futex",
  "epoll_pwait",
  "epoll_wait",
  "epoll_ctl",
  "fsync",
  "fdatasync",
  "getrandom",
  "io_uring_enter",
  "mprotect",
  "madvise",
];
const PERF_EVENTS = [
  "raw_syscalls:sys_enter",
  "context-switches",
  ...SYSCALLS.map((s) => `syscalls:sys_enter_${s}`),
];

interface Counters {
  readonly syscr: number;
  readonly syscw: number;
  readonly voluntary: number;
  readonly involuntary: number;
  readonly cpu: number;
}

function counters(pid: number): Counters {
  const io = readFileSync(`/proc/${pid}/io`, "utf8");
  const field = (text: string, name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? Number.NaN);
  let voluntary = 0;
  let involuntary = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, "utf8");
      voluntary += field(status, "voluntary_ctxt_switches");
      involuntary += field(status, "nonvoluntary_ctxt_switches");
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return {
    syscr: field(io, "syscr"),
    syscw: field(io, "syscw"),
    voluntary,
    involuntary,
    cpu: cpuSeconds(pid),
  };
}

/** Peer messages the node received so far, by type, from its `/metrics`. */
async function messagesIn(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^meridian_peer_messages_received_total\{([^}]*)\} (\S+)$/gm)) {
    const type = /type="([^"]+)"/.exec(m[1]!)?.[1] ?? "?";
    out.set(type, (out.get(type) ?? 0) + Number(m[2]));
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), "meridian-sys-"));
const ctx = new BenchContext(SIZES.full, false, dir, process.env.PROFILE_DIR, () => {});
try {
  const cluster = await startCluster(ctx, { proxies: false });
  const clients = cluster.nodes.map((n) => sdkDriver(n.url, { retries: 0 }));
  const pid = cluster.nodes[0]!.pid;
  for (const [i, rate] of [200, ...rates].entries()) {
    const span = i === 0 ? 3 : seconds;
    const out = join(dir, `perf-${rate}.txt`);
    const tracer =
      i > 0 && values.perf === true
        ? spawn(
            "perf",
            ["stat", "-x", ",", "-o", out, "-e", PERF_EVENTS.join(","), "-p", String(pid)],
            {
              stdio: "ignore",
            },
          )
        : undefined;
    if (tracer !== undefined) await sleep(500);
    const m0 = await messagesIn(cluster.nodes[0]!.url);
    const c0 = counters(pid);
    const { total: sent } = await offerPacedWrites(clients, rate, span, `sys${i}`);
    await sleep(300);
    const c1 = counters(pid);
    const m1 = await messagesIn(cluster.nodes[0]!.url);
    if (tracer !== undefined) {
      const exited = new Promise((resolve) => tracer.once("exit", resolve));
      tracer.kill("SIGINT");
      await exited;
    }
    if (i === 0) continue;
    const per = (a: number, b: number) => dec((b - a) / sent);
    console.log(
      `${int(rate)}/s, ${int(sent)} writes: eu node per write: cpu ${int(((c1.cpu - c0.cpu) / sent) * 1e6)} µs, read-like syscalls ${per(c0.syscr, c1.syscr)}, write-like ${per(c0.syscw, c1.syscw)}, voluntary ctx switches ${per(c0.voluntary, c1.voluntary)}, involuntary ${per(c0.involuntary, c1.involuntary)}`,
    );
    const frames = [...m1].map(([t, n]) => `${t} ${dec((n - (m0.get(t) ?? 0)) / sent, 2)}`);
    console.log(`  peer messages received per write: ${frames.join(", ")}`);
    if (tracer !== undefined) {
      const lines = readFileSync(out, "utf8").split("\n");
      const shown: string[] = [];
      for (const line of lines) {
        const [count, , event] = line.split(",");
        if (event === undefined || !/^\d+$/.test(count ?? "")) continue;
        const name = event
          .replace("syscalls:sys_enter_", "")
          .replace("raw_syscalls:sys_enter", "all syscalls");
        if (Number(count) >= sent / 100) shown.push(`${name} ${dec(Number(count) / sent, 2)}`);
      }
      console.log(`  per write: ${shown.join(", ")}`);
    }
  }
  for (const c of clients) c.close();
  await cluster.close();
} finally {
  await ctx.cleanup();
  if (process.env.KEEP === undefined) rmSync(dir, { recursive: true, force: true });
  else console.log(dir);
}
