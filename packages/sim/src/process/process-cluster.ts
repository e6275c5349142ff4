import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteStore } from "@meridian/storage-sqlite";
import { freePorts, NodeProcess, TcpProxy } from "@meridian/server/testing";
import type { FinalNodeState, NodeEvent } from "../history.ts";

/**
 * Real `meridian node` processes on loopback, one per region, each directed link behind its own
 * fault-injecting TCP proxy: the process tier of the harness.
 *
 * @remarks Proxy `a>b` carries the connection `a` dials to `b` (both directions of its traffic).
 * A region's incarnation number grows with every restart, so histories can tell lives apart.
 * Final states are read from the nodes' SQLite files after a clean stop.
 */
export class ProcessCluster {
  private readonly proxies = new Map<string, TcpProxy>();
  private readonly nodes = new Map<string, NodeProcess>();
  private readonly lives = new Map<string, number>();
  /** Crashes and restarts, for the history. */
  readonly events: NodeEvent[] = [];

  private constructor(
    readonly regions: readonly string[],
    private readonly dir: string,
  ) {}

  /** Starts every node and waits until each is ready. */
  static async start(
    regions: readonly string[],
    extraArgs: readonly string[] = ["--sync-interval", "500", "--quorum-timeout", "1000"],
  ): Promise<ProcessCluster> {
    const cluster = new ProcessCluster(regions, mkdtempSync(join(tmpdir(), "meridian-proc-")));
    const ports = await freePorts(regions.length);
    const proxyPorts = new Map<string, number>();
    for (const [i, from] of regions.entries()) {
      for (const [j, to] of regions.entries()) {
        if (i === j) continue;
        const p = new TcpProxy(ports[j]!);
        proxyPorts.set(`${from}>${to}`, await p.listen());
        cluster.proxies.set(`${from}>${to}`, p);
      }
    }
    for (const [i, region] of regions.entries()) {
      cluster.nodes.set(
        region,
        new NodeProcess({
          region,
          port: ports[i]!,
          dataDir: join(cluster.dir, region),
          peers: regions
            .filter((r) => r !== region)
            .map((to) => `http://127.0.0.1:${proxyPorts.get(`${region}>${to}`)}`),
          secret: "sim-process-secret",
          extraArgs,
        }),
      );
      cluster.lives.set(region, 1);
    }
    await Promise.all([...cluster.nodes.values()].map((n) => n.start()));
    return cluster;
  }

  /** Base URL of a region's node. */
  url(region: string): string {
    return this.node(region).url;
  }

  /** Label of the region's current life (`eu#2` after one restart). */
  incarnation(region: string): string {
    return `${region}#${this.lives.get(region)}`;
  }

  /** Cuts both directions between `a` and `b`: their connections drop and cannot reopen. */
  cut(a: string, b: string): void {
    this.proxy(a, b).cut();
    this.proxy(b, a).cut();
  }

  /** Holds everything `a` sends to `b`, on both connections between them. */
  cutOneWay(a: string, b: string): void {
    this.proxy(a, b).cutOneWay("to-target");
    this.proxy(b, a).cutOneWay("from-target");
  }

  /** Adds one-way latency to every link. */
  delay(ms: number): void {
    for (const p of this.proxies.values()) p.delayMs = ms;
  }

  /** Heals every cut and removes delays. */
  healAll(): void {
    for (const p of this.proxies.values()) {
      p.heal();
      p.delayMs = 0;
    }
  }

  /** kill -9, then a restart on the same data folder. */
  async killAndRestart(region: string, downMs: number): Promise<void> {
    const node = this.node(region);
    await node.signal("SIGKILL");
    this.events.push({
      type: "crash",
      region,
      incarnation: this.incarnation(region),
      at: Date.now(),
      wiped: false,
    });
    await new Promise((r) => setTimeout(r, downMs));
    this.lives.set(region, (this.lives.get(region) ?? 1) + 1);
    await node.start();
    this.events.push({
      type: "restart",
      region,
      incarnation: this.incarnation(region),
      at: Date.now(),
      wiped: false,
    });
  }

  /** SIGSTOP for `ms`, then SIGCONT: the process is frozen, its sockets stay open. */
  async freeze(region: string, ms: number): Promise<void> {
    const node = this.node(region);
    await node.signal("SIGSTOP");
    await new Promise((r) => setTimeout(r, ms));
    await node.signal("SIGCONT");
  }

  /**
   * Stops every node cleanly and reads each one's final state from its SQLite file.
   *
   * @remarks `now` is the machine clock: every node of this tier shares it.
   */
  async finalStates(): Promise<FinalNodeState[]> {
    await Promise.all([...this.nodes.values()].map((n) => n.signal("SIGTERM")));
    return this.regions.map((region) => {
      const store = openSqliteStore(join(this.dir, region, "meridian.db"));
      try {
        return {
          region,
          nodeId: store.getMeta("nodeId") ?? region,
          digest: store.digest(),
          sessions: [...store.allSessions()],
          now: Date.now(),
        };
      } finally {
        store.close();
      }
    });
  }

  /** The last lines each node wrote to stderr, for failure reports. */
  stderrTails(lines = 20): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [region, node] of this.nodes) {
      out[region] = node.stderr.split("\n").slice(-lines).join("\n");
    }
    return out;
  }

  /** Kills what still runs and removes the data. */
  async close(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((n) => n.stop()));
    await Promise.all([...this.proxies.values()].map((p) => p.close()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private node(region: string): NodeProcess {
    const n = this.nodes.get(region);
    if (n === undefined) throw new Error(`no region ${region}`);
    return n;
  }

  private proxy(a: string, b: string): TcpProxy {
    const p = this.proxies.get(`${a}>${b}`);
    if (p === undefined) throw new Error(`no link ${a}>${b}`);
    return p;
  }
}
