import { packValue, unpackValue } from "@meridian/core";
import { afterEach, describe, expect, it } from "vitest";
import { clusterSecrets } from "../src/config.ts";
import { nodeConfig, type RunningNode, startNode } from "../src/index.ts";
import type { ConnectionEnd } from "../src/peer/connection.ts";
import { freePorts } from "../src/testing/free-ports.ts";
import { waitFor } from "../src/testing/wait-for.ts";
import { call } from "./http-kit.ts";

const running = new Set<RunningNode>();
afterEach(async () => {
  await Promise.all([...running].map((n) => n.close()));
  running.clear();
});

const url = (port: number) => `http://127.0.0.1:${port}`;

async function start(
  region: string,
  port: number,
  peers: number[],
  secret: string,
  tokens: string[] = [],
): Promise<RunningNode> {
  const node = await startNode(
    nodeConfig(
      { region, dataDir: ":memory:", peers: peers.map(url), secret },
      { port, logLevel: process.env.LOG_LEVEL ?? "silent", syncIntervalMs: 200, tokens },
    ),
  );
  running.add(node);
  return node;
}

async function stop(node: RunningNode): Promise<void> {
  await node.close();
  running.delete(node);
}

async function write(node: RunningNode, id: string, value: unknown): Promise<void> {
  const set = new Map([["v", packValue(value)]]);
  await node.service.patch(id, { op: "patch", set, defaultTtlMs: 600_000 }, "local");
}

const read = (node: RunningNode, id: string): unknown => {
  const reg = node.replica.get(id)?.fields.get("v");
  return reg?.kind === "value" && reg.value !== null ? unpackValue(reg.value) : undefined;
};

/** Waits until `a` and `b` are linked both ways and a write on each reaches the other. */
async function linkedAndReplicating(a: RunningNode, b: RunningNode, tag: string): Promise<void> {
  await waitFor(
    () => a.replicator.connectedPeers() === 1 && b.replicator.connectedPeers() === 1,
    `${a.config.region} and ${b.config.region} to link (${tag})`,
    15_000,
  );
  const ida = `rot-${tag}-a`.padEnd(20, "0");
  const idb = `rot-${tag}-b`.padEnd(20, "0");
  await write(a, ida, tag);
  await write(b, idb, tag);
  await waitFor(
    () => read(b, ida) === tag && read(a, idb) === tag,
    `writes to cross (${tag})`,
    15_000,
  );
}

describe("cluster secret rotation", () => {
  it("splits a secret list: first signs, all verify", () => {
    expect(clusterSecrets(" new , old ,,")).toEqual(["new", "old"]);
    expect(clusterSecrets("only")).toEqual(["only"]);
  });

  it("keeps the cluster linked through old -> old,new -> new,old -> new, then refuses old", async () => {
    const [pEu, pUs, pOld] = (await freePorts(3)) as [number, number, number];
    let eu = await start("eu", pEu, [pUs], "old");
    let us = await start("us", pUs, [pEu], "old");
    await linkedAndReplicating(eu, us, "s0");

    // Step 1, rolling: every node accepts new, still signs with old.
    await stop(us);
    us = await start("us", pUs, [pEu], "old,new");
    await linkedAndReplicating(eu, us, "s1a");
    await stop(eu);
    eu = await start("eu", pEu, [pUs], "old,new");
    await linkedAndReplicating(eu, us, "s1b");

    // Step 2, rolling: sign with new; peers still on step 1 accept it.
    await stop(us);
    us = await start("us", pUs, [pEu], "new,old");
    await linkedAndReplicating(eu, us, "s2a");
    await stop(eu);
    eu = await start("eu", pEu, [pUs], "new,old");
    await linkedAndReplicating(eu, us, "s2b");

    // Step 3, rolling: drop old.
    await stop(us);
    us = await start("us", pUs, [pEu], "new");
    await linkedAndReplicating(eu, us, "s3a");
    await stop(eu);
    eu = await start("eu", pEu, [pUs], "new");
    await linkedAndReplicating(eu, us, "s3b");

    // A node that still only knows the old secret is refused by both, and gets nothing.
    const refused: ConnectionEnd[] = [];
    for (const n of [eu, us])
      n.transport.on("handshake-failed", (_d, e) => e.byUs && refused.push(e));
    const stale = await start("xx", pOld, [pEu, pUs], "old");
    await waitFor(() => refused.length >= 2, "the old secret to be refused", 15_000);
    for (const end of refused) expect(end).toMatchObject({ code: 4401, authenticated: false });
    expect(stale.replicator.connectedPeers()).toBe(0);
    expect(stale.replica.store.sessionCount()).toBe(0);
  });
});

describe("client token rotation", () => {
  const OLD = "old-client-token-0000000000";
  const NEW = "new-client-token-1111111111";
  const status = async (node: RunningNode, token: string) =>
    (await call("GET", `${node.url}/v1/cluster`, undefined, { authorization: `Bearer ${token}` }))
      .status;

  it("accepts old and new during the change, and refuses old after it", async () => {
    // A fresh port per restart: the HTTP client would otherwise reuse a socket the old one closed.
    const [p0, p1, p2] = (await freePorts(3)) as [number, number, number];
    let node = await start("eu", p0, [], "s", [OLD]);
    expect(await status(node, OLD)).toBe(200);
    expect(await status(node, NEW)).toBe(401);

    await stop(node);
    node = await start("eu", p1, [], "s", [NEW, OLD]);
    expect(await status(node, OLD)).toBe(200);
    expect(await status(node, NEW)).toBe(200);
    expect(await status(node, "some-other-token-22222222")).toBe(401);

    await stop(node);
    node = await start("eu", p2, [], "s", [NEW]);
    expect(await status(node, OLD)).toBe(401);
    expect(await status(node, NEW)).toBe(200);
  });

  it("leaves the API open when no token is configured", async () => {
    const [port] = (await freePorts(1)) as [number];
    const node = await start("eu", port, [], "s");
    expect((await call("GET", `${node.url}/v1/cluster`)).status).toBe(200);
  });
});
