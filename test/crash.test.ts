import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NODE_RUNTIME_FLAGS } from "@meridian/server";
import { freePorts, NodeProcess, TcpProxy } from "@meridian/server/testing";
import { afterAll, describe, expect, it } from "vitest";
import { call, waitFor } from "./cluster-kit.ts";

const REGIONS = ["eu", "us", "ap"] as const;

describe("kill -9 of a node during writes (real processes)", () => {
  const dir = mkdtempSync(join(tmpdir(), "meridian-crash-"));
  const proxies = new Map<string, TcpProxy>();
  const nodes = new Map<string, NodeProcess>();
  afterAll(async () => {
    await Promise.all([...nodes.values()].map((n) => n.stop()));
    await Promise.all([...proxies.values()].map((p) => p.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  /** Bytes the ap node received: pushes into it, and answers to its own requests. */
  const bytesIntoAp = () =>
    (proxies.get("eu>ap")?.bytesToTarget ?? 0) +
    (proxies.get("us>ap")?.bytesToTarget ?? 0) +
    (proxies.get("ap>eu")?.bytesFromTarget ?? 0) +
    (proxies.get("ap>us")?.bytesFromTarget ?? 0);

  it("loses no acknowledged write and catches up from where it was", async () => {
    const ports = await freePorts(3);
    const proxyPorts = new Map<string, number>();
    for (const [i, from] of REGIONS.entries()) {
      for (const [j, to] of REGIONS.entries()) {
        if (i === j) continue;
        const p = new TcpProxy(ports[j]!);
        proxyPorts.set(`${from}>${to}`, await p.listen());
        proxies.set(`${from}>${to}`, p);
      }
    }
    const proxyUrl = (from: string, to: string) =>
      `http://127.0.0.1:${proxyPorts.get(`${from}>${to}`)}`;
    for (const [i, region] of REGIONS.entries()) {
      nodes.set(
        region,
        new NodeProcess({
          region,
          port: ports[i]!,
          dataDir: join(dir, region),
          peers: REGIONS.filter((r) => r !== region).map((to) => proxyUrl(region, to)),
          secret: "crash-secret",
          extraArgs: ["--sync-interval", "500"],
        }),
      );
    }
    await Promise.all([...nodes.values()].map((n) => n.start()));
    // Started as a deployment starts them: node runs with the runtime flags.
    for (const node of nodes.values()) {
      const argv = readFileSync(`/proc/${node.pid}/cmdline`, "utf8").split("\0");
      for (const flag of NODE_RUNTIME_FLAGS) expect(argv).toContain(flag);
    }
    const eu = nodes.get("eu")!;
    const ap = nodes.get("ap")!;

    // Writes at ap until it is killed mid-flight; keep what it acknowledged.
    const acked: string[] = [];
    let n = 0;
    let killed = false;
    const writer = (async () => {
      while (!killed) {
        const id = `crash-session-${String(n++).padStart(6, "0")}`;
        try {
          const r = await call("PUT", `${ap.url}/v1/sessions/${id}`, { data: { n } });
          if (r.status === 201) acked.push(id);
        } catch {
          // The request in flight when the process died has an unknown outcome.
        }
      }
    })();
    await waitFor(() => acked.length >= 300, "ap to acknowledge 300 writes", 60_000);
    await ap.signal("SIGKILL");
    killed = true;
    await writer;

    // eu keeps writing while ap is down.
    const whileDown: string[] = [];
    for (let i = 0; i < 300; i++) {
      const id = `while-down-${String(i).padStart(6, "0")}`;
      expect((await call("PUT", `${eu.url}/v1/sessions/${id}`, { data: { i } })).status).toBe(201);
      whileDown.push(id);
    }

    const before = bytesIntoAp();
    await ap.start();
    const everything = [...acked, ...whileDown];
    await waitFor(
      async () => (await call("GET", `${ap.url}/v1/sessions/${whileDown.at(-1)}`)).status === 200,
      "ap to catch up",
      60_000,
    );
    await waitFor(
      async () => (await call("GET", `${eu.url}/v1/sessions/${acked.at(-1)}`)).status === 200,
      "eu to receive ap's last acknowledged write",
      60_000,
    );
    for (const id of everything) {
      expect((await call("GET", `${ap.url}/v1/sessions/${id}`)).status, id).toBe(200);
      expect((await call("GET", `${eu.url}/v1/sessions/${id}`)).status, id).toBe(200);
    }
    const catchUpBytes = bytesIntoAp() - before;

    // The same node on a wiped disk needs a full copy: compare.
    await ap.signal("SIGKILL");
    rmSync(join(dir, "ap"), { recursive: true, force: true });
    const beforeFull = bytesIntoAp();
    await ap.start();
    await waitFor(
      async () => {
        for (const id of [acked[0]!, whileDown.at(-1)!]) {
          if ((await call("GET", `${ap.url}/v1/sessions/${id}`)).status !== 200) return false;
        }
        return true;
      },
      "ap to bootstrap from its peers",
      60_000,
    );
    for (const id of everything)
      expect((await call("GET", `${ap.url}/v1/sessions/${id}`)).status).toBe(200);
    const fullBytes = bytesIntoAp() - beforeFull;
    console.log(
      `kill -9: ${acked.length} acknowledged writes kept; catch-up received ${catchUpBytes} bytes, ` +
        `a full copy ${fullBytes} bytes (${((100 * catchUpBytes) / fullBytes).toFixed(1)}%)`,
    );
    expect(catchUpBytes).toBeLessThan(fullBytes * 0.75);
  });
});
