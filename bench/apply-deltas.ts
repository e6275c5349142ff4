/**
 * Apply benchmark: deltas per second into the SQLite store, for batches of 1 and of 100, with
 * `synchronous` FULL (the default: every commit fsyncs the WAL) and NORMAL.
 *
 * Each configuration gets a fresh database in a temporary folder and the same pre-built deltas:
 * one origin, 3 fields per delta, 5,000 sessions written 4 times each (one insert, then three
 * overwrites of the same fields), a clock high-water mark with every batch as a node passes it.
 *
 * Run: `pnpm bench:apply [--deltas 20000]`. Writes bench/results/apply-deltas.md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, platform, release, tmpdir } from "node:os";
import { createRequire } from "node:module";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type Delta, type FieldRegister, packValue, type Stamp } from "@meridian/core";
import { openSqliteStore } from "@meridian/storage-sqlite";

const { values } = parseArgs({ options: { deltas: { type: "string", default: "20000" } } });
const DELTAS = Number(values.deltas);
const WRITES_PER_SESSION = 4;
const START = 1_700_000_000_000;

function buildDeltas(n: number): Delta[] {
  const out: Delta[] = [];
  const sessions = Math.ceil(n / WRITES_PER_SESSION);
  for (let seq = 1; seq <= n; seq++) {
    const stamp: Stamp = { hlc: { wall: START + seq, logical: 0, node: "eu" }, seq };
    const s = (seq - 1) % sessions;
    const fields = new Map<string, FieldRegister>([
      ["user", { kind: "value", stamp, value: packValue({ id: s, name: `user-${s}` }) }],
      ["cart", { kind: "value", stamp, value: packValue([seq, seq + 1, seq + 2]) }],
      ["csrf", { kind: "value", stamp, value: packValue(`token-${seq}`) }],
    ]);
    out.push({
      dot: { origin: "eu", seq },
      session: { id: `bench_${String(s).padStart(10, "0")}`, fields },
    });
  }
  return out;
}

interface Result {
  readonly synchronous: "FULL" | "NORMAL";
  readonly batch: number;
  readonly seconds: number;
  readonly perSecond: number;
}

function run(dir: string, deltas: readonly Delta[], synchronous: "FULL" | "NORMAL", batch: number) {
  const path = join(dir, `apply-${synchronous}-${batch}.db`);
  const store = openSqliteStore(path, { synchronous });
  const started = performance.now();
  for (let i = 0; i < deltas.length; i += batch) {
    const chunk = deltas.slice(i, i + batch);
    const last = chunk[chunk.length - 1]!;
    store.applyDeltas(chunk, { wall: START + last.dot.seq, logical: 0 });
  }
  const seconds = (performance.now() - started) / 1000;
  if (store.versionVector().base("eu") !== deltas.length)
    throw new Error("not every delta applied");
  store.close();
  return { synchronous, batch, seconds, perSecond: deltas.length / seconds };
}

const dir = mkdtempSync(join(tmpdir(), "meridian-bench-apply-"));
try {
  const deltas = buildDeltas(DELTAS);
  run(dir, buildDeltas(2_000), "NORMAL", 100); // warm-up: JIT and page cache
  const results: Result[] = [];
  for (const synchronous of ["FULL", "NORMAL"] as const) {
    for (const batch of [1, 100]) {
      const r = run(dir, deltas, synchronous, batch);
      results.push(r);
      console.log(
        `${synchronous.padEnd(6)} batch ${String(batch).padStart(3)}: ${fmt(r.perSecond)} deltas/s`,
      );
    }
  }
  const sqlite = sqliteVersion();
  const table = [
    "| synchronous | batch size | deltas | seconds | deltas/s |",
    "|---|---:|---:|---:|---:|",
    ...results.map(
      (r) =>
        `| ${r.synchronous} | ${r.batch} | ${fmt(DELTAS)} | ${r.seconds.toFixed(2)} | ${fmt(r.perSecond)} |`,
    ),
  ].join("\n");
  const report = `# Applying deltas into SQLite

\`pnpm bench:apply\` (bench/apply-deltas.ts), ${new Date().toISOString().slice(0, 10)}.
${fmt(DELTAS)} deltas per configuration, 3 fields each, ${fmt(DELTAS / WRITES_PER_SESSION)} sessions
written ${WRITES_PER_SESSION} times each, a fresh WAL database per configuration in \`${tmpdir()}\`, one transaction per batch.

${table}

Node ${process.version}, SQLite ${sqlite}, ${platform()} ${release()}, ${cpus()[0]?.model ?? "unknown CPU"}
(${cpus().length} cores). FULL fsyncs the WAL at every commit, so batch size 1 measures the
disk's sync latency; NORMAL syncs only at checkpoints (it survives a process crash but not a
power loss). Absolute figures depend on the disk, and a container's overlay or tmpfs can make
fsync far cheaper than on real hardware.
`;
  mkdirSync(join(import.meta.dirname, "results"), { recursive: true });
  writeFileSync(join(import.meta.dirname, "results", "apply-deltas.md"), report);
  console.log(`\n${table}\n\nwritten to bench/results/apply-deltas.md`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/** The SQLite library version, through the storage package's own better-sqlite3. */
function sqliteVersion(): string {
  const pkg = join(import.meta.dirname, "../packages/storage-sqlite/package.json");
  const Database = createRequire(pkg)("better-sqlite3") as typeof import("better-sqlite3");
  const db = new Database(":memory:");
  const { v } = db.prepare("SELECT sqlite_version() AS v").get() as { v: string };
  db.close();
  return v;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}
