import { parseArgs } from "node:util";
import { UsageError } from "./options.ts";

interface ClusterAnswer {
  nodeId: string;
  region: string;
  peers: { nodeId: string; region: string; connected: boolean; lagMs: number | null }[];
}

/** `meridian status --url URL`: prints each region's connectivity and lag as a table. */
export async function printStatus(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({ args: [...argv], options: { url: { type: "string" } } });
  const url = values.url ?? process.env.MERIDIAN_URL;
  if (url === undefined) throw new UsageError("status needs --url (or MERIDIAN_URL)");
  const res = await fetch(new URL("/v1/cluster", url));
  if (!res.ok) {
    console.error(`meridian: ${url} answered ${res.status}`);
    return 1;
  }
  const c = (await res.json()) as ClusterAnswer;
  console.log(statusTable(c));
  return 0;
}

/** The status table for one node's view of the cluster. */
export function statusTable(c: ClusterAnswer): string {
  const rows = [
    ["REGION", "NODE", "CONNECTED", "LAG"],
    [c.region, c.nodeId, "self", "-"],
    ...c.peers.map((p) => [
      p.region,
      p.nodeId,
      p.connected ? "yes" : "no",
      p.lagMs === null ? "-" : `${p.lagMs} ms`,
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join("  ")).join("\n");
}
