import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
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
  readonly extraArgs?: readonly string[];
}

/**
 * A real `meridian node` process on loopback, for tests that need SIGKILL, SIGSTOP or SIGTERM.
 */
export class NodeProcess {
  private child: ChildProcess | undefined;
  /** Everything the process wrote to stderr, for failure messages. */
  stderr = "";

  constructor(readonly options: NodeProcessOptions) {}

  get url(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Spawns the node and waits until `/readyz` answers 200. */
  async start(): Promise<void> {
    const o = this.options;
    const args = [
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
    child.stderr?.on("data", (d: Buffer) => {
      this.stderr += d.toString();
    });
    let exited = false;
    child.once("exit", () => {
      exited = true;
    });
    await waitFor(
      async () => {
        if (exited) throw new Error(`node ${o.region} exited during start:\n${this.stderr}`);
        try {
          return (await fetch(`${this.url}/readyz`)).status === 200;
        } catch {
          return false;
        }
      },
      `node ${o.region} to be ready`,
      30_000,
    );
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
}
