import { parseArgs } from "node:util";
import { UsageError } from "./options.ts";

/** One peer as `/v1/cluster` reports it (the replicator's `PeerStatus`). */
export interface ClusterPeer {
  readonly nodeId: string;
  readonly region: string;
  readonly connected: boolean;
  readonly lagMs: number | null;
  readonly lagP50Ms?: number | null;
  readonly lagP99Ms?: number | null;
  readonly caughtUpTo?: number;
}

/** The `/v1/cluster` answer of one node. */
export interface ClusterAnswer {
  readonly nodeId: string;
  readonly region: string;
  readonly peers: readonly ClusterPeer[];
}

/**
 * `meridian status --url URL`: prints each region's connectivity and replication lag, as the node
 * at `URL` sees them, as a table. Exits 1 when the node cannot be reached or answers an error.
 */
export async function printStatus(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({ args: [...argv], options: { url: { type: "string" } } });
  const url = values.url ?? process.env.MERIDIAN_URL;
  if (url === undefined) throw new UsageError("status needs --url (or MERIDIAN_URL)");
  let res: Response;
  try {
    res = await fetch(new URL("/v1/cluster", url), { signal: AbortSignal.timeout(5000) });
  } catch (e) {
    console.error(`meridian: cannot reach ${url}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  if (!res.ok) {
    console.error(`meridian: ${url} answered ${res.status}`);
    return 1;
  }
  console.log(statusTable((await res.json()) as ClusterAnswer));
  return 0;
}

/**
 * The status table for one node's view of the cluster: one row per region, this node first.
 *
 * @remarks Lag is measured where writes land: a peer's row tells how long that region's writes
 * took to be durably applied at this node (last batch, then p50 and p99 of recent batches).
 * `CAUGHT UP TO` is the highest sequence number of that peer held here without a gap.
 */
export function statusTable(c: ClusterAnswer): string {
  const rows = [
    ["REGION", "NODE", "CONNECTED", "LAG", "LAG P50", "LAG P99", "CAUGHT UP TO"],
    [c.region, c.nodeId, "self", "-", "-", "-", "-"],
    ...[...c.peers]
      .sort((a, b) => a.region.localeCompare(b.region))
      .map((p) => [
        p.region,
        p.nodeId,
        p.connected ? "yes" : "no",
        ms(p.lagMs),
        ms(p.lagP50Ms),
        ms(p.lagP99Ms),
        p.caughtUpTo === undefined ? "-" : String(p.caughtUpTo),
      ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

function ms(v: number | null | undefined): string {
  if (v === null || v === undefined) return "-";
  return `${v < 10 ? v.toFixed(1) : v.toFixed(0)} ms`;
}
