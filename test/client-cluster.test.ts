import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import {
  createClient,
  type MeridianClient,
  PayloadTooLargeError,
  RegionsUnavailableError,
  SessionDeletedError,
  SessionNotFoundError,
  UnauthorizedError,
} from "@meridian/client";
import { nodeConfig, startNode } from "@meridian/server";
import { afterEach, describe, expect, it } from "vitest";
import * as Y from "yjs";
import { freePorts } from "@meridian/server/testing";
import { TestCluster, waitFor } from "./cluster-kit.ts";

describe("client SDK against a real three-region cluster", () => {
  let cluster: TestCluster | undefined;
  const clients: MeridianClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await cluster?.close();
    cluster = undefined;
  });

  function clientIn(c: TestCluster, localRegion: string): MeridianClient {
    const client = createClient({
      regions: Object.fromEntries(c.regions.map((r) => [r, c.url(r)])),
      localRegion,
      probeIntervalMs: 200,
      backoff: { baseMs: 20, capMs: 200 },
    });
    clients.push(client);
    return client;
  }

  it("round-trips Dates, binary and nested values through msgpack, in every region", async () => {
    cluster = await TestCluster.start(["eu", "us", "ap"]);
    const eu = clientIn(cluster, "eu");
    const when = new Date("2025-01-02T03:04:05.678Z");
    const blob = new Uint8Array([0, 1, 2, 254, 255]);
    const s = await eu.create({ data: { when, blob, cart: [{ sku: "a", n: 2 }] }, ttl: 600 });
    expect(s.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(s.expiresAt).toBeInstanceOf(Date);
    await cluster.converge();
    for (const region of cluster.regions) {
      const got = await clientIn(cluster, region).get(s.id);
      expect(got.data.when).toBeInstanceOf(Date);
      expect((got.data.when as Date).toISOString()).toBe(when.toISOString());
      expect(new Uint8Array(got.data.blob as Uint8Array)).toEqual(blob);
      expect(got.data.cart).toEqual([{ sku: "a", n: 2 }]);
    }
  });

  it("merges Yjs updates sent from two regions and reads back the merged document", async () => {
    cluster = await TestCluster.start(["eu", "us", "ap"]);
    const eu = clientIn(cluster, "eu");
    const us = clientIn(cluster, "us");
    const { id } = await eu.create({ ttl: 600 });
    await cluster.converge();
    const a = new Y.Doc();
    a.getArray<string>("items").push(["from-eu"]);
    const b = new Y.Doc();
    b.getArray<string>("items").push(["from-us"]);
    await Promise.all([
      eu.patch(id, { yjs: { draft: Y.encodeStateAsUpdate(a) } }),
      us.patch(id, { yjs: { draft: Y.encodeStateAsUpdate(b) } }),
    ]);
    await cluster.converge();
    for (const client of [eu, us]) {
      const merged = await client.getYjs(id, "draft");
      expect(merged).not.toBeNull();
      const doc = new Y.Doc();
      Y.applyUpdate(doc, merged!);
      expect(doc.getArray<string>("items").toArray().sort()).toEqual(["from-eu", "from-us"]);
    }
    expect(await eu.getYjs(id, "missing")).toBeNull();
  });

  it("fails over when the local region dies, and reads after failover see their own writes", async () => {
    cluster = await TestCluster.start(["eu", "us", "ap"]);
    const c = cluster;
    const client = clientIn(c, "eu");
    const events: string[] = [];
    client.on("failover", (e) => events.push(`failover ${e.from}>${e.to}`));
    client.on("region-down", (e) => events.push(`down ${e.region}`));
    const { id } = await client.create({ data: { n: 0 }, ttl: 600 });
    for (let n = 1; n <= 3; n++) {
      await client.patch(id, { set: { n } }, { consistency: "quorum" });
      expect((await client.get(id)).data.n).toBe(n);
    }
    await c.node("eu").close();
    for (let n = 4; n <= 10; n++) {
      await client.patch(id, { set: { n } });
      expect((await client.get(id)).data.n).toBe(n);
    }
    expect(events.filter((e) => e.startsWith("failover eu>")).length).toBeGreaterThan(0);
    expect(events).toContain("down eu");
    expect(client.regions().find((r) => r.name === "eu")?.up).toBe(false);
    expect(client.versionOf(id)).toBeDefined();
  });

  it("raises typed errors, and logs a user out everywhere through the user index", async () => {
    cluster = await TestCluster.start(["eu", "us", "ap"]);
    const eu = clientIn(cluster, "eu");
    const us = clientIn(cluster, "us");
    await expect(eu.get("no-such-session-000001")).rejects.toBeInstanceOf(SessionNotFoundError);
    const one = await eu.create({ data: {}, userId: "alice", ttl: 600 });
    const two = await us.create({ data: {}, userId: "alice", ttl: 600, maxLifetime: 3600 });
    await waitFor(async () => (await eu.listUser("alice")).length === 2, "eu to index both");
    // `all`: answered once every region applied the deletes, so us refuses at once.
    expect(await eu.revokeUser("alice", { consistency: "all" })).toBe(2);
    await expect(us.get(two.id)).rejects.toBeInstanceOf(SessionDeletedError);
    await expect(eu.get(one.id)).rejects.toBeInstanceOf(SessionDeletedError);
    await expect(eu.patch(one.id, { set: { back: true } })).rejects.toMatchObject({
      code: "MERIDIAN_ERR_SESSION_DELETED",
      status: 410,
    });
  });

  it("gives the same answers and errors over the channel and over HTTP", async () => {
    cluster = await TestCluster.start(["eu", "us"]);
    const outcomes: unknown[] = [];
    for (const transport of ["channel", "http"] as const) {
      const client = createClient({
        regions: { eu: cluster.url("eu"), us: cluster.url("us") },
        localRegion: "eu",
        transport,
      });
      clients.push(client);
      const s = await client.create({ data: { cart: [1, 2], at: new Date(5) }, ttl: 600 });
      const patched = await client.patch(s.id, { set: { n: 1 }, unset: ["at"] });
      const read = await client.get(s.id);
      await client.delete(s.id);
      const gone = await client.get(s.id).catch((e: Error) => e.constructor.name);
      const bad = await client.get("short").catch((e: Error) => e.constructor.name);
      outcomes.push({ data: read.data, patched: patched.data, gone, bad });
    }
    const [channel, http] = outcomes;
    expect(channel).toEqual(http);
    expect(channel).toMatchObject({
      data: { cart: [1, 2], n: 1 },
      gone: "SessionDeletedError",
    });
  });

  it("over the channel, fails over from a region nobody listens on", async () => {
    cluster = await TestCluster.start(["eu", "us"]);
    const [deadPort] = await freePorts(1);
    const client = createClient({
      regions: { eu: `http://127.0.0.1:${deadPort}`, us: cluster.url("us") },
      localRegion: "eu",
      backoff: { baseMs: 1, capMs: 5 },
    });
    clients.push(client);
    const failovers: string[] = [];
    client.on("failover", (e) => failovers.push(`${e.from}->${e.to}:${e.cause.code}`));
    const s = await client.create({ data: { a: 1 }, ttl: 600 });
    expect((await client.get(s.id)).data).toEqual({ a: 1 });
    expect(failovers[0]).toBe("eu->us:MERIDIAN_ERR_UNREACHABLE");
  });

  it("over the channel, sends an oversized write by HTTP (413) without failing the others", async () => {
    cluster = await TestCluster.start(["eu"]);
    const client = createClient({ regions: { eu: cluster.url("eu") }, localRegion: "eu" });
    clients.push(client);
    const small = await client.create({ data: { a: 1 }, ttl: 600 });
    const [big, read] = await Promise.allSettled([
      client.create({ data: { blob: "x".repeat(3_000_000) }, ttl: 600 }),
      client.get(small.id),
    ]);
    expect(big.status === "rejected" && big.reason).toBeInstanceOf(PayloadTooLargeError);
    expect(read.status === "fulfilled" && read.value.data).toEqual({ a: 1 });
  });

  it("over the channel, a wrong token is UnauthorizedError and a silent node times out", async () => {
    const node = await startNode(
      nodeConfig(
        { region: "eu", dataDir: ":memory:", peers: [], secret: "s" },
        { port: 0, logLevel: "silent", tokens: ["right"] },
      ),
    );
    const silent = createServer(() => {}); // accepts connections, never answers
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    try {
      const wrong = createClient({
        regions: { eu: node.url },
        localRegion: "eu",
        authToken: "wrong",
      });
      clients.push(wrong);
      await expect(wrong.get("some-session-id-0001")).rejects.toBeInstanceOf(UnauthorizedError);
      const right = createClient({
        regions: { eu: node.url },
        localRegion: "eu",
        authToken: "right",
      });
      clients.push(right);
      expect((await right.create({ data: { ok: true } })).data).toEqual({ ok: true });
      const port = (silent.address() as AddressInfo).port;
      const stuck = createClient({
        regions: { eu: `http://127.0.0.1:${port}` },
        localRegion: "eu",
        timeoutMs: 200,
        retries: 1,
        backoff: { baseMs: 1, capMs: 5 },
      });
      clients.push(stuck);
      const started = Date.now();
      await expect(stuck.get("some-session-id-0001")).rejects.toBeInstanceOf(
        RegionsUnavailableError,
      );
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      silent.close();
      await node.close();
    }
  });
});
