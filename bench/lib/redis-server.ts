import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { Redis } from "ioredis";
import { waitFor } from "@meridian/server/testing";

/**
 * Makes sure `redis-server` is on PATH, installing Debian's package when it is not (`apt-get
 * update`, then `apt-get install -y redis-server`; needs root, as on the bench machines).
 *
 * @returns the `redis-server --version` line.
 */
export function ensureRedisInstalled(log: (line: string) => void): string {
  const probe = () => spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  let found = probe();
  if (found.error !== undefined) {
    log("redis-server is not on PATH: installing Debian's redis-server package");
    for (const args of [["update"], ["install", "-y", "--no-install-recommends", "redis-server"]]) {
      const r = spawnSync("apt-get", args, {
        stdio: ["ignore", "ignore", "inherit"],
        env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      });
      if (r.status !== 0) throw new Error(`apt-get ${args.join(" ")} failed (status ${r.status})`);
    }
    found = probe();
    if (found.error !== undefined) throw new Error("redis-server still missing after apt-get");
  }
  return found.stdout.trim();
}

/** Persistence settings of a Redis instance. */
export type RedisPersistence = "default" | "aof-always";

/**
 * One redis-server process on loopback, started and stopped by the bench.
 *
 * @remarks `default` runs Redis as shipped: RDB snapshots in the background, no append-only
 * file, so an acknowledged write lives only in memory until the next snapshot. `aof-always`
 * fsyncs the append-only file before each reply, the durability a meridian node has with
 * `synchronous = FULL`.
 */
export class RedisServer {
  private child: ChildProcess | undefined;

  constructor(
    readonly port: number,
    readonly dir: string,
    readonly persistence: RedisPersistence = "default",
  ) {}

  /** Starts the server and waits until it answers PING. */
  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    const args = ["--port", String(this.port), "--bind", "127.0.0.1", "--dir", this.dir];
    if (this.persistence === "aof-always") {
      args.push("--appendonly", "yes", "--appendfsync", "always", "--save", "");
    }
    const child = spawn("redis-server", args, { stdio: ["ignore", "ignore", "inherit"] });
    this.child = child;
    const probe = this.client();
    probe.on("error", () => {}); // refused until the server listens: the probe retries
    try {
      await waitFor(
        async () => {
          if (child.exitCode !== null) throw new Error("redis-server exited during start");
          try {
            return (await probe.ping()) === "PONG";
          } catch {
            return false;
          }
        },
        "redis-server to answer PING",
        20_000,
      );
    } finally {
      probe.disconnect();
    }
  }

  /** An ioredis client of this server (one connection; commands pipeline on it). */
  client(): Redis {
    return new Redis({
      port: this.port,
      host: "127.0.0.1",
      lazyConnect: false,
      maxRetriesPerRequest: 1,
    });
  }

  /** Process id while it runs. */
  get pid(): number {
    const pid = this.child?.pid;
    if (pid === undefined) throw new Error("redis-server is not running");
    return pid;
  }

  /** Stops the server (SIGTERM, then SIGKILL after 10 s). */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
