import { join } from "node:path";
import { NodeProcess } from "@meridian/server/testing";

/** How to start one node process. */
export interface BenchNodeOptions {
  readonly region: string;
  readonly port: number;
  readonly dataDir: string;
  readonly peers?: readonly string[];
  readonly secret?: string;
  /** More `meridian node` flags, e.g. `["--synchronous", "FULL"]`. */
  readonly args?: readonly string[];
  /** Where to write a V8 CPU profile at exit (`node --cpu-prof`); none when undefined. */
  readonly cpuProfileDir?: string;
}

/**
 * A `meridian node` process ({@link NodeProcess}) with the knobs a benchmark needs: a CPU
 * profile folder, its pid for memory readings, SIGKILL and a graceful SIGTERM stop.
 */
export class BenchNode {
  private readonly process: NodeProcess;

  constructor(readonly options: BenchNodeOptions) {
    const o = options;
    this.process = new NodeProcess({
      region: o.region,
      port: o.port,
      dataDir: o.dataDir,
      peers: o.peers ?? [],
      secret: o.secret ?? "bench-secret",
      extraArgs: o.args ?? [],
      // One folder per node: V8 writes one profile per thread (the main one and tsx's loader).
      nodeFlags:
        o.cpuProfileDir === undefined
          ? []
          : ["--cpu-prof", "--cpu-prof-dir", join(o.cpuProfileDir, `${o.region}-${o.port}`)],
    });
  }

  /** Base URL of the node. */
  get url(): string {
    return this.process.url;
  }

  /** The tail of what the process wrote to stderr, for failure messages. */
  get stderr(): string {
    return this.process.stderr;
  }

  /** Process id while it runs. */
  get pid(): number {
    const pid = this.process.pid;
    if (pid === undefined) throw new Error(`node ${this.options.region} is not running`);
    return pid;
  }

  /** Whether the process runs. */
  get running(): boolean {
    return this.process.running;
  }

  /** Spawns the node and waits until `/readyz` answers 200. */
  start(timeoutMs = 60_000): Promise<void> {
    return this.process.start(timeoutMs);
  }

  /** kill -9, and waits for the process to be gone. */
  async kill(): Promise<void> {
    await this.process.stop();
  }

  /** Graceful stop: SIGTERM, then SIGKILL if it still runs after `graceMs`. */
  stop(graceMs = 15_000): Promise<void> {
    return this.process.terminate(graceMs);
  }
}
