import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { nodeConfig } from "../config.ts";
import { type RunningNode, startNode } from "../node.ts";
import { freePorts } from "../testing/free-ports.ts";
import { TcpProxy } from "../testing/tcp-proxy.ts";

const REGIONS = ["eu", "us", "ap"] as const;

/**
 * `meridian demo`: three regions on this machine, embedded SQLite in a temporary folder, writes
 * in every region, one region cut off and healed, convergence and lag printed.
 *
 * @remarks Every node reaches every other through its own TCP proxy, so cutting a region off is
 * cutting the proxies of its links: the same thing a network partition does to the sockets.
 */
export async function runDemo(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: { sessions: { type: "string" }, keep: { type: "boolean" } },
  });
  const perRegion = Number(values.sessions ?? 300);
  const dir = mkdtempSync(join(tmpdir(), "meridian-demo-"));
  const say = (line: string) => console.log(line);
  const nodePorts = await freePorts(REGIONS.length);
  const proxies = new Map<string, TcpProxy>();
  const proxyPort = new Map<string, number>();
  for (const [i, from] of REGIONS.entries()) {
    for (const [j, to] of REGIONS.entries()) {
      if (i === j) continue;
      const proxy = new TcpProxy(nodePorts[j]!);
      proxies.set(`${from}>${to}`, proxy);
      proxyPort.set(`${from}>${to}`, await proxy.listen());
    }
  }
  say(`meridian demo: three regions in ${dir}`);
  const nodes: RunningNode[] = [];
  try {
    for (const [i, region] of REGIONS.entries()) {
      const peers = REGIONS.filter((r) => r !== region).map(
        (to) => `http://127.0.0.1:${proxyPort.get(`${region}>${to}`)}`,
      );
      const node = await startNode(
        nodeConfig(
          { region, dataDir: join(dir, region), peers, secret: "demo-secret" },
          { port: nodePorts[i]!, logLevel: "silent", syncIntervalMs: 1000 },
        ),
      );
      nodes.push(node);
      say(`  ${region}: ${node.url}  node ${node.nodeId}`);
    }
    await until(
      () => nodes.every((n) => n.replicator.connectedPeers() === 2),
      10_000,
      "peers connect",
    );
    say("  all regions connected\n");

    say(`1. ${perRegion} sessions written in every region, through the HTTP API`);
    const lags: number[] = [];
    for (const n of nodes) n.replicator.on("applied", (_p, applied) => lags.push(...applied));
    let t0 = performance.now();
    const ids = await writeEverywhere(nodes, perRegion, "before");
    await until(() => converged(nodes), 30_000, "convergence");
    say(
      `   converged in ${ms(performance.now() - t0)}; ${nodes[0]!.replica.store.sessionCount()} sessions in each region`,
    );
    say(`   replication lag: p50 ${pct(lags, 0.5)} ms, p99 ${pct(lags, 0.99)} ms\n`);

    const cutRegion = REGIONS[2];
    say(`2. ${cutRegion} cut off from the others; every region keeps writing`);
    for (const [key, p] of proxies) if (key.includes(cutRegion)) p.cut();
    await until(() => nodes[2]!.replicator.connectedPeers() === 0, 10_000, "partition");
    await writeEverywhere(nodes, perRegion, "during");
    const shared = ids[0]!;
    await fetch(`${nodes[0]!.url}/v1/sessions/${shared}`, patchBody({ cart: ["book"] }));
    await fetch(`${nodes[2]!.url}/v1/sessions/${shared}`, patchBody({ theme: "dark" }));
    const digests = nodes.map((n) => n.replica.store.digest());
    say(`   digests now differ: ${digests.join("  ")}\n`);

    say("3. partition healed");
    lags.length = 0;
    t0 = performance.now();
    for (const p of proxies.values()) p.heal();
    await until(() => converged(nodes), 60_000, "convergence after heal");
    say(
      `   converged in ${ms(performance.now() - t0)}; digest ${nodes[0]!.replica.store.digest()} everywhere`,
    );
    const res = await fetch(`${nodes[1]!.url}/v1/sessions/${shared}`);
    const body = (await res.json()) as { data: Record<string, unknown> };
    say(
      `   session edited on both sides of the partition, read in us: ${JSON.stringify(body.data)}`,
    );
    const bytes = [...proxies.values()].reduce((a, p) => a + p.bytes, 0);
    say(
      `   ${nodes[0]!.replica.store.sessionCount()} sessions per region; ${(bytes / 1024).toFixed(0)} KiB crossed the network in all`,
    );
    say(
      lags.length === 0
        ? "   the partition's writes caught up by anti-entropy (nothing pushed after the heal to time)"
        : `   replication lag after heal: p50 ${pct(lags, 0.5)} ms, p99 ${pct(lags, 0.99)} ms`,
    );
  } finally {
    await Promise.all(nodes.map((n) => n.close()));
    await Promise.all([...proxies.values()].map((p) => p.close()));
    if (values.keep !== true) rmSync(dir, { recursive: true, force: true });
  }
}

function patchBody(set: Record<string, unknown>): RequestInit {
  return {
    method: "PATCH",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ set }),
  };
}

async function writeEverywhere(
  nodes: RunningNode[],
  count: number,
  phase: string,
): Promise<string[]> {
  const ids: string[] = [];
  await Promise.all(
    nodes.map(async (node) => {
      for (let i = 0; i < count; i++) {
        const res = await fetch(`${node.url}/v1/sessions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ data: { phase, region: node.config.region, n: i }, ttl: 3600 }),
        });
        if (res.status !== 201)
          throw new Error(`write in ${node.config.region} answered ${res.status}`);
        ids.push(((await res.json()) as { id: string }).id);
      }
    }),
  );
  return ids;
}

function converged(nodes: RunningNode[]): boolean {
  const first = nodes[0]!.replica.store.digest();
  return nodes.every((n) => n.replica.store.digest() === first);
}

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`demo: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function pct(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function ms(v: number): string {
  return `${v.toFixed(0)} ms`;
}
