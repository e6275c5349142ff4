/**
 * The commit path alone, in one process: three replicas on SQLite stores (synchronous NORMAL;
 * SQLite checkpoints inside commits, every 1,000 pages, so that both builds do the same
 * checkpoint work for the same writes; `--worker` runs the checkpoint worker as nodes do), each taking `--local` new-session PUTs per tick (ids in
 * one sequence, round-robin over the nodes, as workload (c) makes them) and the writes its two
 * peers committed the tick before, as pushes deliver them; then one group commit per replica.
 * No sockets, HTTP or wire codec: what is left is the replica, its pending batch and the store.
 *
 *   pnpm tsx bench/commit-path.ts [--local 8] [--segments 8] [--writes 6000] [--worker] [--frames 200]
 *     [--root /work/base,.]
 *
 * `--root` names checkouts (comma-separated) whose packages are loaded side by side; each gets
 * its own three stores, and segments of `--writes` writes alternate between them (A, B, A, B…),
 * so that a busy machine weighs on both alike. Prints each build's process CPU (all threads) per
 * write, a write being applied on all three replicas: the median over segments and every
 * segment. Then WAL frames per commit of one store without the worker over `--frames` ticks (0:
 * none); the WAL is truncated before each tick and its size read after it.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Delta, Scheduler, SessionWrite } from "@meridian/core";
import type { Replica } from "@meridian/server";
import type { SqliteStore } from "@meridian/storage-sqlite";
import { benchId, sessionFields } from "./lib/session-shape.ts";
import { dec, int, quantile } from "./lib/stats.ts";

const { values } = parseArgs({
  options: {
    local: { type: "string", default: "8" },
    segments: { type: "string", default: "8" },
    writes: { type: "string", default: "6000" },
    worker: { type: "boolean", default: false },
    frames: { type: "string", default: "200" },
    root: { type: "string", default: join(import.meta.dirname, "..") },
  },
});
const LOCAL = Number(values.local);
const REGIONS = ["eu", "us", "ap"] as const;

/** The packages of one checkout. */
interface Build {
  readonly root: string;
  readonly packValue: typeof import("@meridian/core").packValue;
  readonly Replica: typeof import("@meridian/server").Replica;
  readonly openSqliteStore: typeof import("@meridian/storage-sqlite").openSqliteStore;
}

async function load(root: string): Promise<Build> {
  const src = (pkg: string) => join(resolve(root), "packages", pkg, "src/index.ts");
  const core = (await import(src("core"))) as typeof import("@meridian/core");
  const server = (await import(src("server"))) as typeof import("@meridian/server");
  const sqlite = (await import(src("storage-sqlite"))) as typeof import("@meridian/storage-sqlite");
  return {
    root,
    packValue: core.packValue,
    Replica: server.Replica,
    openSqliteStore: sqlite.openSqliteStore,
  };
}

/** Runs what replicas schedule only when told to: one group commit per replica per tick. */
class TickScheduler implements Scheduler {
  private due: (() => void)[] = [];
  after(_ms: number, fn: () => void) {
    this.due.push(fn);
    return { cancel: () => {} };
  }
  run(): void {
    const due = this.due;
    this.due = [];
    for (const fn of due) fn();
  }
}

interface Node {
  readonly store: SqliteStore;
  readonly replica: Replica;
  readonly scheduler: TickScheduler;
  /** Deltas committed this tick, to deliver to the peers next tick. */
  outbox: Delta[];
}

/** Three replicas of one build, and the writes it has been given. */
interface Cluster {
  readonly build: Build;
  readonly dir: string;
  readonly nodes: Node[];
  next: number;
}

let counter = 0;
const rng = {
  bytes: (n: number) => {
    counter += 1;
    return Uint8Array.from({ length: n }, (_, i) => (counter * 31 + i * 7) & 0xff);
  },
};

function open(build: Build, worker: boolean): Cluster {
  const dir = mkdtempSync(join(tmpdir(), "meridian-commit-path-"));
  const nodes = REGIONS.map((region) => {
    const store = build.openSqliteStore(join(dir, `${region}.db`), { checkpointWorker: worker });
    const scheduler = new TickScheduler();
    const replica = new build.Replica({ store, clock: Date, rng, scheduler, region });
    return { store, replica, scheduler, outbox: [] };
  });
  return { build, dir, nodes, next: 0 };
}

function close(c: Cluster): void {
  for (const n of c.nodes) n.store.close();
  rmSync(c.dir, { recursive: true, force: true });
}

function replace(build: Build, n: number): SessionWrite {
  const data = new Map(
    Object.entries(sessionFields(n)).map(([k, v]) => [k, build.packValue(v)] as const),
  );
  return { op: "replace", data, ttlMs: 86_400_000 };
}

/** Takes every node's outbox: what each node receives from its peers. */
function deliver(nodes: readonly Node[]): Delta[][] {
  const inboxes = nodes.map((_, i) => nodes.flatMap((p, j) => (j === i ? [] : p.outbox)));
  for (const n of nodes) n.outbox = [];
  return inboxes;
}

/** One tick: local writes on every node, the peers' last commits delivered, every batch committed. */
async function tick(c: Cluster, local: number): Promise<number> {
  const pending: Promise<unknown>[] = [];
  const inboxes = deliver(c.nodes);
  for (let k = 0; k < local; k++) {
    for (const n of c.nodes) {
      const id = c.next++;
      const w = n.replica.write(benchId("cpu", id), replace(c.build, id));
      pending.push(w.then((done) => n.outbox.push(done.delta)));
    }
  }
  for (const [i, n] of c.nodes.entries()) {
    const inbox = inboxes[i]!;
    if (inbox.length > 0) pending.push(n.replica.applyRemote(inbox));
  }
  for (const n of c.nodes) n.scheduler.run();
  await Promise.all(pending);
  return local * c.nodes.length;
}

/** Process CPU per write, in µs, over a segment of at least `writes` writes. */
async function segment(c: Cluster, writes: number): Promise<number> {
  const cpu0 = process.cpuUsage();
  let done = 0;
  while (done < writes) done += await tick(c, LOCAL);
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / done;
}

/** WAL frames per commit of the first node, over `ticks` ticks after a warm-up. */
async function framesPerCommit(build: Build, ticks: number): Promise<number> {
  const c = open(build, false);
  try {
    for (let t = 0; t < 200; t++) await tick(c, LOCAL);
    const first = c.nodes[0]!;
    let frames = 0;
    for (let t = 0; t < ticks; t++) {
      first.store.checkpoint();
      await tick(c, LOCAL);
      const size = fileSize(`${first.store.path}-wal`);
      // WAL header 32 bytes, then frames of a 24-byte header and a 4,096-byte page.
      frames += size === 0 ? 0 : (size - 32) / (24 + 4096);
    }
    return frames / ticks;
  } finally {
    close(c);
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

const builds = await Promise.all(values.root.split(",").map(load));
console.log(
  `${LOCAL} local writes per node per tick (+${2 * LOCAL} from peers): a commit of ${3 * LOCAL} writes per node per tick`,
);
const clusters = builds.map((b) => open(b, values.worker === true));
try {
  // Warm-up: JIT, page cache, stores that are not empty.
  for (const c of clusters) await segment(c, 6000);
  const results = clusters.map(() => [] as number[]);
  for (let s = 0; s < Number(values.segments); s++) {
    for (const [i, c] of clusters.entries())
      results[i]!.push(await segment(c, Number(values.writes)));
  }
  for (const [i, c] of clusters.entries()) {
    const r = results[i]!;
    console.log(
      `${c.build.root}: ${int(quantile(r, 0.5))} µs CPU per write (median; segments ${r.map((x) => int(x)).join(" ")})`,
    );
  }
} finally {
  for (const c of clusters) close(c);
}
const ticks = Number(values.frames);
if (ticks > 0) {
  for (const b of builds) {
    console.log(`${b.root}: ${dec(await framesPerCommit(b, ticks))} WAL frames per commit`);
  }
}
