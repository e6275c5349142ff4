import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { freePorts } from "@meridian/server/testing";
import { type BenchNode, type BenchNodeOptions, BenchNode as Node } from "./bench-node.ts";
import type { Section } from "./report.ts";
import { ensureRedisInstalled, type RedisPersistence, RedisServer } from "./redis-server.ts";

/** Sizes of one run: `--quick` shrinks every workload so that the suite runs in a few minutes. */
export interface BenchSizes {
  /** Measured window of each closed-loop run, and its warm-up, in ms. */
  readonly measureMs: number;
  readonly warmupMs: number;
  /** Sessions the read workload reads from. */
  readonly readSessions: number;
  /** Seconds of paced writes for replication lag. */
  readonly lagSeconds: number;
  /** Divergent sessions of the partition workload. */
  readonly divergent: number;
  /** Overwrites of one field. */
  readonly overwrites: number;
  /** Stored sessions of the memory workload. */
  readonly storedSessions: number;
  /** kill -9 rounds, and seconds of load before each kill. */
  readonly killRounds: number;
  readonly killAfterSeconds: number;
}

/** Full-size and quick sizes. */
export const SIZES: Readonly<Record<"full" | "quick", BenchSizes>> = {
  full: {
    measureMs: 4000,
    warmupMs: 1000,
    readSessions: 10_000,
    lagSeconds: 10,
    divergent: 100_000,
    overwrites: 10_000,
    storedSessions: 1_000_000,
    killRounds: 5,
    killAfterSeconds: 3,
  },
  quick: {
    measureMs: 1000,
    warmupMs: 300,
    readSessions: 2_000,
    lagSeconds: 3,
    divergent: 10_000,
    overwrites: 1_000,
    storedSessions: 100_000,
    killRounds: 2,
    killAfterSeconds: 1,
  },
};

/**
 * What every workload gets: sizes, a scratch folder, a log, and the peers it may start. Every
 * process started through the context is stopped by {@link BenchContext.cleanup}, whatever
 * happened.
 */
export class BenchContext {
  private readonly nodes: BenchNode[] = [];
  private readonly redises: RedisServer[] = [];
  private redisVersion: string | undefined;

  constructor(
    readonly sizes: BenchSizes,
    readonly quick: boolean,
    /** Scratch folder of this run, removed at the end. */
    readonly dir: string,
    /** Where node processes write CPU profiles (`--profile`); undefined when not profiling. */
    readonly profileDir: string | undefined,
    readonly log: (line: string) => void,
  ) {}

  /** A fresh folder under the scratch folder. */
  folder(name: string): string {
    const path = join(this.dir, name);
    mkdirSync(path, { recursive: true });
    return path;
  }

  /** Starts a node process on a free port (data under the scratch folder unless given). */
  async node(
    region: string,
    options: Partial<Omit<BenchNodeOptions, "region">> = {},
  ): Promise<BenchNode> {
    const port = options.port ?? (await freePorts(1))[0]!;
    const node = new Node({
      ...options,
      region,
      port,
      dataDir: options.dataDir ?? this.folder(`${region}-${port}`),
      ...(this.profileDir !== undefined ? { cpuProfileDir: this.profileDir } : {}),
    });
    this.nodes.push(node);
    await node.start();
    return node;
  }

  /** Starts a redis-server (installing it first if needed). */
  async redis(persistence: RedisPersistence = "default"): Promise<RedisServer> {
    this.redisVersion ??= ensureRedisInstalled(this.log);
    const [port] = await freePorts(1);
    const server = new RedisServer(port!, this.folder(`redis-${port}`), persistence);
    this.redises.push(server);
    await server.start();
    return server;
  }

  /** The `redis-server --version` line, once a server was started. */
  get redisServerVersion(): string | undefined {
    return this.redisVersion;
  }

  /** Stops every process this context started. */
  async cleanup(): Promise<void> {
    await Promise.all([
      ...this.nodes.splice(0).map((n) => n.stop()),
      ...this.redises.splice(0).map((r) => r.stop()),
    ]);
  }
}

/** One benchmark of the suite. */
export interface Workload {
  /** Its letter, for `--only`. */
  readonly id: string;
  readonly title: string;
  run(ctx: BenchContext): Promise<Section>;
}
