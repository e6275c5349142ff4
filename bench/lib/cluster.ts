import { freePorts, TcpProxy, waitFor } from "@meridian/server/testing";
import type { BenchNode } from "./bench-node.ts";
import type { BenchContext } from "./context.ts";

/** The regions of the multi-node workloads. */
export const REGIONS = ["eu", "us", "ap"] as const;

/** One peer as `/v1/cluster` reports it. */
export interface ClusterPeer {
  readonly nodeId: string;
  readonly region: string;
  readonly connected: boolean;
  readonly lagP50Ms: number | null;
  readonly lagP99Ms: number | null;
  readonly caughtUpTo: number;
}

/** A node's `/v1/cluster` answer. */
export interface ClusterView {
  readonly nodeId: string;
  readonly region: string;
  /** Sessions stored (tombstones included), when the node reports it. */
  readonly sessionCount?: number;
  readonly peers: readonly ClusterPeer[];
}

/** Reads a node's view of the cluster. */
export async function clusterView(node: BenchNode): Promise<ClusterView> {
  const res = await fetch(`${node.url}/v1/cluster`);
  if (!res.ok) throw new Error(`${node.url}/v1/cluster answered ${res.status}`);
  return (await res.json()) as ClusterView;
}

/** Three regions of node processes. */
export interface BenchCluster {
  readonly nodes: readonly BenchNode[];
  /** One proxy per directed link `from>to` when started with proxies, else empty. */
  readonly proxies: ReadonlyMap<string, TcpProxy>;
  close(): Promise<void>;
}

/**
 * Starts three node processes that peer with each other, directly or each link through its own
 * {@link TcpProxy} (to cut links and count their bytes), and waits until every link is up.
 */
export async function startCluster(
  ctx: BenchContext,
  options: { proxies: boolean; args?: readonly string[] },
): Promise<BenchCluster> {
  const ports = await freePorts(REGIONS.length);
  const proxies = new Map<string, TcpProxy>();
  const peerUrl = new Map<string, string>();
  for (const [i, from] of REGIONS.entries()) {
    for (const [j, to] of REGIONS.entries()) {
      if (i === j) continue;
      if (options.proxies) {
        const p = new TcpProxy(ports[j]!);
        proxies.set(`${from}>${to}`, p);
        peerUrl.set(`${from}>${to}`, `http://127.0.0.1:${await p.listen()}`);
      } else {
        peerUrl.set(`${from}>${to}`, `http://127.0.0.1:${ports[j]}`);
      }
    }
  }
  const nodes = await Promise.all(
    REGIONS.map((region, i) =>
      ctx.node(region, {
        port: ports[i]!,
        peers: REGIONS.filter((r) => r !== region).map((to) => peerUrl.get(`${region}>${to}`)!),
        ...(options.args !== undefined ? { args: options.args } : {}),
      }),
    ),
  );
  await waitFor(
    async () =>
      (await Promise.all(nodes.map(clusterView))).every(
        (v) => v.peers.length === REGIONS.length - 1 && v.peers.every((p) => p.connected),
      ),
    "every peer link to come up",
    30_000,
  );
  return {
    nodes,
    proxies,
    async close() {
      await Promise.all(nodes.map((n) => n.stop()));
      await Promise.all([...proxies.values()].map((p) => p.close()));
    },
  };
}
