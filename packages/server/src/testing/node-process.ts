import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { NODE_RUNTIME_FLAGS } from "../runtime-flags.ts";
import { waitFor } from "./wait-for.ts";

const ROOT = fileURLToPath(new URL("../../../..", import.meta.url));
const CLI = fileURLToPath(new URL("../cli.ts", import.meta.url));

/** Options of one node process. */
export interface NodeProcessOptions {
  readonly region: string;
  readonly port: number;
  readonly dataDir: string;
  readonly peers: readonly string[];
  readonly secret: string;
  /** More `meridian node` flags, e.g. `["--synchronous", "FULL"]`. */
  readonly extraArgs?: readonly string[];
  /** More flags for `node` itself (e.g. `--cpu-prof`), after {@link NODE_RUNTIME_FLAGS}. */
  readonly nodeFlags?: readonly string[];
}

/**
 * A real `meridian node` process on loopback, for tests that need SIGKILL, SIGSTOP or SIGTERM.
 */
export class NodeProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  /** The tail of what the process wrote to stderr, for failure messages. */
  stderr = "";

  constructor(readonly options: NodeProcessOptions) {}

  get url(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Spawns the node and waits until `/readyz` answers 200. */
  async start(timeoutMs = 30_000): Promise<void> {
    const o = this.options;
    const args = [
      ...NODE_RUNTIME_FLAGS,
      ...(o.nodeFlags ?? []),
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
      o.peers.join(","),
      "--secret",
      o.secret,
      "--log-level",
      "warn",
      ...(o.extraArgs ?? []),
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

  /** Sends a signal and, for terminating ones, waits for the exit. */
  async signal(sig: NodeJS.Signals): Promise<number | null> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return null;
    if (sig === "SIGSTOP" || sig === "SIGCONT") {
      child.kill(sig);
      return null;
    }
    const exited = new Promise<number | null>((resolve) =>
      child.once("exit", (code) => resolve(code)),
    );
    child.kill(sig);
    return exited;
  }

  /** Stops the process if it runs (SIGKILL). */
  async stop(): Promise<void> {
    await this.signal("SIGKILL");
  }

  /**
   * Graceful stop: SIGTERM (the node drains and closes SQLite; a CPU profile is written), then
   * SIGKILL if it still runs after `graceMs`.
   */
  async terminate(graceMs = 15_000): Promise<void> {
    if (!this.running) return;
    this.child!.kill("SIGTERM");
    const timer = setTimeout(() => this.child?.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
