import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Clock } from "@meridian/core";
import { type NodeConfig, nodeConfig, type RunningNode, startNode } from "@meridian/server";
import { freePorts, TcpProxy, waitFor } from "@meridian/server/testing";

export { waitFor };

/**
 * An in-process cluster on loopback: real nodes, real HTTP and WebSockets, and one TCP proxy per
 * directed link so that tests can partition regions.
 */
export class TestCluster {
  private constructor(
    readonly nodes: RunningNode[],
    readonly regions: string[],
    private readonly proxies: Map<string, TcpProxy>,
    private readonly dir: string,
    private readonly deps: { clock?: Clock },
  ) {}

  static async start(
    regions: string[],
    overrides: Partial<NodeConfig> = {},
    options: { disk?: boolean; clock?: Clock } = {},
  ): Promise<TestCluster> {
    const dir = mkdtempSync(join(tmpdir(), "meridian-test-"));
    const ports = await freePorts(regions.length);
    const proxies = new Map<string, TcpProxy>();
    const proxyPorts = new Map<string, number>();
    for (const [i, from] of regions.entries()) {
      for (const [j, to] of regions.entries()) {
        if (i === j) continue;
        const p = new TcpProxy(ports[j]!);
        proxyPorts.set(`${from}>${to}`, await p.listen());
        proxies.set(`${from}>${to}`, p);
      }
    }
    const configs = regions.map((region, i) =>
      nodeConfig(
        {
          region,
          dataDir: options.disk ? join(dir, region) : ":memory:",
          peers: regions
            .filter((r) => r !== region)
            .map((to) => `http://127.0.0.1:${proxyPorts.get(`${region}>${to}`)}`),
          secret: "test-secret",
        },
        { port: ports[i]!, logLevel: "silent", syncIntervalMs: 500, ...overrides },
      ),
    );
    const deps = options.clock === undefined ? {} : { clock: options.clock };
    const nodes = await Promise.all(configs.map((c) => startNode(c, deps)));
    const cluster = new TestCluster(nodes, regions, proxies, dir, deps);
    await waitFor(
      () => nodes.every((n) => n.replicator.connectedPeers() === regions.length - 1),
      "every peer to connect",
    );
    return cluster;
  }

  node(region: string): RunningNode {
    const i = this.regions.indexOf(region);
    const n = this.nodes[i];
    if (n === undefined) throw new Error(`no region ${region}`);
    return n;
  }

  /**
   * Stops `region`'s node and starts it again on the same port, on an empty disk: a new node id
   * that remembers nothing (nodes of a cluster started without `disk` keep nothing anyway).
   */
  async restartWiped(region: string): Promise<RunningNode> {
    const i = this.regions.indexOf(region);
    const old = this.node(region);
    await old.close();
    if (old.config.dataDir !== ":memory:") rmSync(old.config.dataDir, { recursive: true });
    const fresh = await startNode({ ...old.config, port: old.port }, this.deps);
    this.nodes[i] = fresh;
    return fresh;
  }

  url(region: string): string {
    return this.node(region).url;
  }

  /** Cuts both directions between `a` and `b`. */
  cut(a: string, b: string): void {
    this.proxies.get(`${a}>${b}`)?.cut();
    this.proxies.get(`${b}>${a}`)?.cut();
  }

  /** Cuts `region` off from every other. */
  isolate(region: string): void {
    for (const r of this.regions) if (r !== region) this.cut(region, r);
  }

  healAll(): void {
    for (const p of this.proxies.values()) p.heal();
  }

  /** Bytes that crossed the links into `region`. */
  bytesInto(region: string): number {
    let n = 0;
    for (const [key, p] of this.proxies) if (key.endsWith(`>${region}`)) n += p.bytes;
    return n;
  }

  digests(): string[] {
    return this.nodes.map((n) => n.replica.store.digest());
  }

  async converge(timeoutMs = 20_000): Promise<void> {
    await waitFor(() => new Set(this.digests()).size === 1, "replicas to converge", timeoutMs);
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.close()));
    await Promise.all([...this.proxies.values()].map((p) => p.close()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** JSON request helper: returns status and parsed body. */
export async function call(
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; body: ApiBody }> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text === "" ? {} : JSON.parse(text)) as ApiBody };
}

/** The union of answer shapes the API gives, loosely typed for assertions. */
export interface ApiBody {
  id?: string;
  data?: Record<string, unknown>;
  expiresAt?: string | null;
  userId?: string | null;
  version?: string;
  sessions?: ApiBody[];
  revoked?: number;
  error?: { code: string; message: string };
}

/** A clock that follows real time plus an offset tests move forward to make sessions expire. */
export class SteppingClock implements Clock {
  private offset = 0;

  now(): number {
    return Date.now() + this.offset;
  }

  /** Moves time forward by `ms`. */
  advance(ms: number): void {
    this.offset += ms;
  }
}
