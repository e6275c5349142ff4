/**
 * Replication benchmark: three node processes on loopback.
 *
 * 1. Replication lag p50/p99 at a paced 5,000 writes/s spread over the three regions, as each
 *    node measures it (origin's HLC wall time of the write to durably applied here).
 * 2. Catch-up after 100,000 writes made while one node was down: time and bytes received,
 *    against the encoded size of the missing changes.
 *
 * Run: `pnpm tsx bench/replication.ts [--rate 5000] [--seconds 10] [--catchup 100000]`.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { packValue, planWrite, sessionBytes } from "@meridian/core";
import { freePorts, NodeProcess, TcpProxy, waitFor } from "@meridian/server/testing";

const { values } = parseArgs({
  options: {
    rate: { type: "string", default: "5000" },
    seconds: { type: "string", default: "10" },
    catchup: { type: "string", default: "100000" },
  },
});
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const CATCHUP = Number(values.catchup);
const REGIONS = ["eu", "us", "ap"] as const;

interface Cluster {
  nodeId: string;
  seq?: number;
  peers: {
    nodeId: string;
    region: string;
    connected: boolean;
    lagP50Ms: number | null;
    lagP99Ms: number | null;
    caughtUpTo: number;
  }[];
}

async function cluster(url: string): Promise<Cluster> {
  return (await (await fetch(`${url}/v1/cluster`)).json()) as Cluster;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "meridian-bench-"));
  const ports = await freePorts(3);
  const proxies = new Map<string, TcpProxy>();
  const proxyPorts = new Map<string, number>();
  for (const [i, from] of REGIONS.entries()) {
    for (const [j, to] of REGIONS.entries()) {
      if (i === j) continue;
      const p = new TcpProxy(ports[j]!);
      proxyPorts.set(`${from}>${to}`, await p.listen());
      proxies.set(`${from}>${to}`, p);
    }
  }
  const nodes = REGIONS.map(
    (region, i) =>
      new NodeProcess({
        region,
        port: ports[i]!,
        dataDir: join(dir, region),
        peers: REGIONS.filter((r) => r !== region).map(
          (to) => `http://127.0.0.1:${proxyPorts.get(`${region}>${to}`)}`,
        ),
        secret: "bench",
      }),
  );
  const lines: string[] = [];
  const report = (line: string) => {
    console.log(line);
    lines.push(line);
  };
  try {
    await Promise.all(nodes.map((n) => n.start()));
    await waitFor(
      async () =>
        (await Promise.all(nodes.map((n) => cluster(n.url)))).every((c) =>
          c.peers.every((p) => p.connected),
        ),
      "peers to connect",
    );

    // 1. Paced writes.
    const total = RATE * SECONDS;
    let sent = 0;
    let done = 0;
    let failed = 0;
    const started = performance.now();
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * RATE));
      while (sent < due && sent - done < 512) {
        const node = nodes[sent % 3]!;
        const id = `lag-session-${String(sent).padStart(10, "0")}`;
        sent += 1;
        fetch(`${node.url}/v1/sessions/${id}`, {
          method: "PUT",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ data: { n: sent, user: "someone@example.com" } }),
        }).then(
          async (r) => {
            await r.arrayBuffer();
            if (r.status !== 201) failed += 1;
            done += 1;
          },
          () => {
            failed += 1;
            done += 1;
          },
        );
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await waitFor(() => done === total, "writes to finish", 120_000);
    const elapsed = (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 500));
    const views = await Promise.all(nodes.map((n) => cluster(n.url)));
    const p50s = views.flatMap((v) => v.peers.map((p) => p.lagP50Ms ?? Number.NaN));
    const p99s = views.flatMap((v) => v.peers.map((p) => p.lagP99Ms ?? Number.NaN));
    report(`## Replication lag, three regions on loopback`);
    report("");
    report(
      `- ${total} writes in ${elapsed.toFixed(1)} s (${(total / elapsed).toFixed(0)}/s offered ${RATE}/s), ${failed} failed`,
    );
    report(
      `- lag p50 per link: ${p50s.map((v) => v.toFixed(1)).join(", ")} ms (median ${median(p50s).toFixed(1)} ms)`,
    );
    report(
      `- lag p99 per link: ${p99s.map((v) => v.toFixed(1)).join(", ")} ms (worst ${Math.max(...p99s).toFixed(1)} ms; target < 10 ms)`,
    );
    report("");

    // 2. Catch-up after CATCHUP writes while ap is down.
    const ap = nodes[2]!;
    const eu = nodes[0]!;
    await ap.signal("SIGTERM");
    const bytesInto = () =>
      proxies.get("eu>ap")!.bytesToTarget +
      proxies.get("us>ap")!.bytesToTarget +
      proxies.get("ap>eu")!.bytesFromTarget +
      proxies.get("ap>us")!.bytesFromTarget;
    let next = 0;
    const writeStart = performance.now();
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < CATCHUP) {
          const i = next++;
          const r = await fetch(`${eu.url}/v1/sessions/catchup-${String(i).padStart(10, "0")}`, {
            method: "PUT",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ data: { n: i, user: "someone@example.com" } }),
          });
          await r.arrayBuffer();
        }
      }),
    );
    const writeSecs = (performance.now() - writeStart) / 1000;
    const euView = await cluster(eu.url);
    const euSeq = euView.seq ?? 0;
    const before = bytesInto();
    const t0 = performance.now();
    await ap.start();
    await waitFor(
      async () => {
        const v = await cluster(ap.url);
        return v.peers.some((p) => p.nodeId === euView.nodeId && p.caughtUpTo >= euSeq);
      },
      "ap to catch up",
      300_000,
    );
    const catchupSecs = (performance.now() - t0) / 1000;
    const received = bytesInto() - before;
    const missing = encodedSizeOfMissing(CATCHUP, euView.nodeId);
    report(`## Catch-up after ${CATCHUP} writes made while one region was down`);
    report("");
    report(`- writes at eu: ${(CATCHUP / writeSecs).toFixed(0)}/s over HTTP at concurrency 64`);
    report(
      `- ap restarted and caught up in ${catchupSecs.toFixed(2)} s (target for 100,000 divergent sessions: < 5 s)`,
    );
    report(
      `- bytes received by ap: ${received} against ${missing} bytes of encoded missing changes (ratio ${(received / missing).toFixed(2)}; target <= 1.5)`,
    );
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    await Promise.all([...proxies.values()].map((p) => p.close()));
    rmSync(dir, { recursive: true, force: true });
  }
  writeFileSync(new URL("./results/replication.md", import.meta.url), `${lines.join("\n")}\n`);
}

/** The encoded size of the writes ap missed: each as the session state it creates. */
function encodedSizeOfMissing(count: number, origin: string): number {
  let bytes = 0;
  const now = Date.now();
  for (let i = 0; i < count; i++) {
    const id = `catchup-${String(i).padStart(10, "0")}`;
    const data = new Map([
      ["n", packValue(i)],
      ["user", packValue("someone@example.com")],
    ]);
    const state = planWrite(
      undefined,
      { op: "replace", data, ttlMs: 86_400_000 },
      { hlc: { wall: now, logical: 0, node: origin }, seq: i + 1 },
      now,
      id,
    );
    bytes += sessionBytes(state).length;
  }
  return bytes;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

await main();
