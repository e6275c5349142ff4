import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { waitFor } from "@meridian/server/testing";

const ROOT = join(import.meta.dirname, "../..");
const CLI = join(ROOT, "packages/server/src/cli.ts");

/** How to start one node process. */
export interface BenchNodeOptions {
  readonly region: string;
  readonly port: number;
  readonly dataDir: string;
  readonly peers?: readonly string[];
  readonly secret?: string;
  /** More `meridian node` flags, e.g. `["--synchronous", "NORMAL"]`. */
  readonly args?: readonly string[];
  /** Where to write a V8 CPU profile at exit (`node --cpu-prof`); none when undefined. */
  readonly cpuProfileDir?: string;
}

/**
 * A `meridian node` process started the way an operator starts it (`node --import tsx cli.ts
 * node …`), with the knobs a benchmark needs: extra node flags for CPU profiles, its pid for
 * memory readings, SIGKILL and a graceful SIGTERM stop.
 */
export class BenchNode {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  /** The tail of what the process wrote to stderr, for failure messages. */
  stderr = "";

  constructor(readonly options: BenchNodeOptions) {}

  /** Base URL of the node. */
  get url(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  /** Process id while it runs. */
  get pid(): number {
    const pid = this.child?.pid;
    if (pid === undefined) throw new Error(`node ${this.options.region} is not running`);
    return pid;
  }

  /** Spawns the node and waits until `/readyz` answers 200. */
  async start(timeoutMs = 60_000): Promise<void> {
    const o = this.options;
    // One folder per node: V8 writes one profile per thread (the main one and tsx's loader).
    const nodeFlags =
      o.cpuProfileDir === undefined
        ? []
        : ["--cpu-prof", "--cpu-prof-dir", join(o.cpuProfileDir, `${o.region}-${o.port}`)];
    const args = [
      ...nodeFlags,
      "--import",
      "tsx",
      CLI,
      "node",
      "--region",
      o.region,
      "--port",
      String(o.port),
      "--data",
      o.dataDir,
      "--peers",
      (o.peers ?? []).join(","),
      "--secret",
      o.secret ?? "bench-secret",
      "--log-level",
      "warn",
      ...(o.args ?? []),
    ];
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
    this.child = child;
    this.stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-8000);
    });
    let gone = false;
    this.exited = new Promise((resolve) =>
      child.once("exit", () => {
        gone = true;
        resolve();
      }),
    );
    await waitFor(
      async () => {
        if (gone) throw new Error(`node ${o.region} exited during start:\n${this.stderr}`);
        try {
          return (await fetch(`${this.url}/readyz`)).status === 200;
        } catch {
          return false;
        }
      },
      `node ${o.region} to be ready`,
      timeoutMs,
    );
  }

  /** Whether the process runs. */
  get running(): boolean {
    const c = this.child;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  /** kill -9, and waits for the process to be gone. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child!.kill("SIGKILL");
    await this.exited;
  }

  /**
   * Graceful stop: SIGTERM (the node drains and closes SQLite, and a CPU profile is written),
   * then SIGKILL if it is still running after `graceMs`.
   */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.running) return;
    this.child!.kill("SIGTERM");
    const timer = setTimeout(() => this.child?.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
