import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  decodeMessage,
  encodeMessage,
  MemoryStore,
  PROTOCOL_VERSION,
  type PeerLink,
  type PeerMessage,
  packValue,
  unpackValue,
} from "@meridian/core";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { nodeConfig, type RunningNode, startNode } from "../src/index.ts";
import { createLogger } from "../src/log.ts";
import type { ConnectionEnd } from "../src/peer/connection.ts";
import { attachPeerTransport } from "../src/peer/transport.ts";
import { Replica } from "../src/replica.ts";
import { Replicator } from "../src/replicator.ts";
import { cryptoRng, eventLoopScheduler, systemClock } from "../src/scheduler.ts";
import { freePorts } from "../src/testing/free-ports.ts";
import { waitFor } from "../src/testing/wait-for.ts";
import { RawPeer } from "./raw-peer.ts";

const SECRET = "peer-transport-test-secret";
const running = new Set<RunningNode>();
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all([...running].map((n) => n.close()));
  running.clear();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const url = (port: number) => `http://127.0.0.1:${port}`;

async function start(
  region: string,
  port: number,
  peers: number[],
  secret = SECRET,
  dataDir = ":memory:",
) {
  const node = await startNode(
    nodeConfig(
      { region, dataDir, peers: peers.map(url), secret },
      { port, logLevel: process.env.LOG_LEVEL ?? "silent", syncIntervalMs: 200 },
    ),
  );
  running.add(node);
  return node;
}

/** Nodes that all know each other, started on ports picked beforehand. */
async function cluster(regions: string[]): Promise<{ nodes: RunningNode[]; ports: number[] }> {
  const ports = await freePorts(regions.length);
  const nodes = await Promise.all(
    regions.map((r, i) =>
      start(
        r,
        ports[i]!,
        ports.filter((_, j) => j !== i),
      ),
    ),
  );
  return { nodes, ports };
}

async function write(node: RunningNode, id: string, field: string, value: unknown): Promise<void> {
  const set = new Map([[field, packValue(value)]]);
  await node.service.patch(id, { op: "patch", set, defaultTtlMs: 600_000 }, "local");
}

function read(node: RunningNode, id: string, field: string): unknown {
  const reg = node.replica.get(id)?.fields.get(field);
  return reg?.kind === "value" && reg.value !== null ? unpackValue(reg.value) : undefined;
}

const connected = (nodes: RunningNode[], peers: number) =>
  waitFor(
    () => nodes.every((n) => n.replicator.connectedPeers() === peers),
    `every node to have ${peers} connected peers`,
    10_000,
  );

const proofOf = (secret: string, nonce: Uint8Array, prover: string) =>
  new Uint8Array(createHmac("sha256", secret).update(nonce).update(prover).digest());

function hello(nodeId: string, protocol = PROTOCOL_VERSION): PeerMessage {
  return {
    type: "hello",
    protocol,
    nodeId,
    region: "probe",
    nonce: new Uint8Array(randomBytes(32)),
  };
}

describe("peer transport between real nodes", () => {
  it("connects every pair and replicates writes in both directions", async () => {
    const { nodes } = await cluster(["eu", "us", "ap"]);
    const [eu, us, ap] = nodes as [RunningNode, RunningNode, RunningNode];
    await connected(nodes, 2);
    const seen = eu.replicator
      .status()
      .map((p) => [p.nodeId, p.region, p.connected])
      .sort();
    expect(seen).toEqual(
      [
        [ap.nodeId, "ap", true],
        [us.nodeId, "us", true],
      ].sort(),
    );

    await write(eu, "from-eu-0000000001", "cart", ["book"]);
    await write(ap, "from-ap-0000000001", "theme", "dark");
    await waitFor(
      () =>
        nodes.every(
          (n) =>
            read(n, "from-eu-0000000001", "cart") !== undefined &&
            read(n, "from-ap-0000000001", "theme") !== undefined,
        ),
      "both writes everywhere",
      10_000,
    );
    expect(read(us, "from-eu-0000000001", "cart")).toEqual(["book"]);
    expect(read(us, "from-ap-0000000001", "theme")).toBe("dark");
  });

  it("refuses a node with the wrong secret, which receives nothing", async () => {
    const [pEu, pUs, pX] = (await freePorts(3)) as [number, number, number];
    const [eu, us, intruder] = await Promise.all([
      start("eu", pEu, [pUs, pX]),
      start("us", pUs, [pEu, pX]),
      start("xx", pX, [pEu, pUs], "not-the-secret"),
    ]);
    const refusedByEu: ConnectionEnd[] = [];
    const refusedByIntruder: ConnectionEnd[] = [];
    const intruderLinks: string[] = [];
    // Attempts made before every node listened end unrefused (connection refused): not counted.
    eu.transport.on("handshake-failed", (_d, end) => end.byUs && refusedByEu.push(end));
    intruder.transport.on("handshake-failed", (_d, end) => end.byUs && refusedByIntruder.push(end));
    intruder.transport.on("link-up", (peer) => intruderLinks.push(peer));
    await connected([eu, us], 1);
    await waitFor(
      () => refusedByEu.length > 0 && refusedByIntruder.length > 0,
      "both sides to refuse",
      10_000,
    );

    const id = "secret-session-0001";
    await write(eu, id, "token", "s3cr3t");
    await waitFor(() => read(us, id, "token") === "s3cr3t", "us to get the write", 10_000);
    // The intruder keeps retrying after the write and is still refused.
    const before = refusedByEu.length;
    await waitFor(() => refusedByEu.length > before, "another refused attempt", 15_000);

    for (const end of [...refusedByEu, ...refusedByIntruder]) {
      expect(end).toMatchObject({ code: 4401, byUs: true, authenticated: false });
    }
    expect(intruderLinks).toEqual([]);
    expect(intruder.replica.get(id)).toBeUndefined();
    expect(intruder.replica.store.sessionCount()).toBe(0);
    expect(intruder.replicator.status()).toEqual([]);
    expect(eu.replicator.status().map((p) => p.nodeId)).toEqual([us.nodeId]);
    expect(us.replicator.status().map((p) => p.nodeId)).toEqual([eu.nodeId]);
  });

  it.each([
    ["in memory (it comes back as a new, empty node)", false],
    ["on disk (it comes back with its id and data)", true],
  ])("reconnects a restarted peer %s, which catches up by anti-entropy", async (_, disk) => {
    const [pEu, pUs] = (await freePorts(2)) as [number, number];
    const dataDir = disk ? mkdtempSync(join(tmpdir(), "meridian-peer-")) : ":memory:";
    if (disk) dirs.push(dataDir);
    const eu = await start("eu", pEu, [pUs]);
    const us = await start("us", pUs, [pEu], SECRET, dataDir);
    await connected([eu, us], 1);
    await write(eu, "before-restart-0001", "n", 1);
    await waitFor(() => read(us, "before-restart-0001", "n") === 1, "first write at us", 10_000);

    await us.close();
    running.delete(us);
    await waitFor(() => eu.replicator.connectedPeers() === 0, "eu to see us go", 10_000);
    await write(eu, "while-down-000001", "n", 2);

    const back = await start("us", pUs, [pEu], SECRET, dataDir);
    expect(back.nodeId === us.nodeId).toBe(disk);
    await waitFor(
      () =>
        read(back, "while-down-000001", "n") === 2 && read(back, "before-restart-0001", "n") === 1,
      "the restarted node to catch up",
      10_000,
    );
    await waitFor(
      () => eu.replicator.status().some((p) => p.nodeId === back.nodeId && p.connected),
      "eu to redial the restarted node",
      15_000,
    );
    await write(back, "after-restart-0001", "n", 3);
    await waitFor(
      () => read(eu, "after-restart-0001", "n") === 3,
      "a write from the restarted us",
      10_000,
    );
  });

  it("sends a run of messages in one socket write, on the links it dials and on those it accepts", async () => {
    const [pEu, pUs] = (await freePorts(2)) as [number, number];
    const eu = await start("eu", pEu, [pUs]);
    // eu's links, caught before us listens: the one eu dials, and the one us dials to eu.
    let dialled: PeerLink | undefined;
    let accepted: PeerLink | undefined;
    const { attach, receive } = eu.replicator;
    eu.replicator.attach = (link) => {
      dialled = link;
      attach.call(eu.replicator, link);
    };
    eu.replicator.receive = (link, message) => {
      if (link !== dialled) accepted = link;
      receive.call(eu.replicator, link, message);
    };
    await start("us", pUs, [pEu]);
    await waitFor(() => dialled !== undefined && accepted !== undefined, "both links", 10_000);

    const ping = (req: number): PeerMessage => ({
      type: "ping",
      req,
      sent: { wall: 1, logical: 0, node: eu.nodeId },
    });
    const { _write, _writev } = Socket.prototype;
    for (const link of [dialled!, accepted!]) {
      let writes = 0;
      Socket.prototype._write = function (...args) {
        writes += 1;
        _write.apply(this, args);
      };
      Socket.prototype._writev = function (...args) {
        writes += 1;
        _writev?.apply(this, args);
      };
      try {
        expect([link.send(ping(1)), link.send(ping(2)), link.send(ping(3))]).toEqual([
          true,
          true,
          true,
        ]);
        await Promise.resolve();
      } finally {
        Socket.prototype._write = _write;
        Socket.prototype._writev = _writev;
      }
      expect(writes).toBe(1);
    }
  });

  it("refuses a connection to itself with 4508", async () => {
    const [port] = (await freePorts(1)) as [number];
    const selfIds: string[] = [];
    const node = await start("eu", port, [port]);
    node.transport.on("handshake-failed", (_d, end) => selfIds.push(`${end.code}:${end.byUs}`));
    await waitFor(() => selfIds.includes("4508:true"), "the self connection to be refused", 10_000);
    expect(node.replicator.status()).toEqual([]);
  });
});

describe("peer endpoint against raw clients", () => {
  it("closes a client that sends garbage, text or a message out of place with 4400, and stays up", async () => {
    const { nodes, ports } = await cluster(["eu", "us"]);
    const [eu, us] = nodes as [RunningNode, RunningNode];
    await connected(nodes, 1);
    const ping: PeerMessage = {
      type: "ping",
      req: 1,
      sent: { wall: 1, logical: 0, node: "probe-1" },
    };
    const welcome = encodeMessage({ type: "welcome", vv: eu.replica.store.versionVector() });
    const attempts: (Uint8Array | string)[][] = [
      [new Uint8Array([0xc1, 0xff, 0x00, 0x13, 0x37])],
      ["hello"],
      [encodeMessage(ping)],
      [encodeMessage(hello("probe-1")), welcome],
    ];
    for (const frames of attempts) {
      const raw = await RawPeer.open(ports[0]!);
      expect((await raw.next()).type).toBe("hello");
      for (const f of frames) raw.send(f);
      expect((await raw.closed).code).toBe(4400);
    }
    await write(eu, "still-working-0001", "ok", true);
    await waitFor(
      () => read(us, "still-working-0001", "ok") === true,
      "replication to go on",
      10_000,
    );
    expect(eu.replicator.connectedPeers()).toBe(1);
  });

  it("admits a client that follows the documented handshake, answers it, and never attaches it", async () => {
    const { nodes, ports } = await cluster(["eu"]);
    const [eu] = nodes as [RunningNode];
    await write(eu, "readable-session-01", "v", 7);
    const raw = await RawPeer.open(ports[0]!);
    const theirs = await raw.next();
    if (theirs.type !== "hello") throw new Error(`expected hello, got ${theirs.type}`);
    expect(theirs).toMatchObject({ protocol: PROTOCOL_VERSION, nodeId: eu.nodeId, region: "eu" });
    const mine = hello("probe-1");
    if (mine.type !== "hello") throw new Error("unreachable");
    raw.send(encodeMessage(mine));
    const auth = await raw.next();
    expect(auth).toEqual({ type: "auth", proof: proofOf(SECRET, mine.nonce, eu.nodeId) });
    raw.send(encodeMessage({ type: "auth", proof: proofOf(SECRET, theirs.nonce, "probe-1") }));
    expect((await raw.next()).type).toBe("welcome");
    raw.send(encodeMessage({ type: "welcome", vv: eu.replica.store.versionVector() }));
    raw.send(encodeMessage({ type: "read-request", req: 9, id: "readable-session-01" }));
    const reply = await raw.next();
    expect(reply).toMatchObject({
      type: "read-reply",
      req: 9,
      session: { id: "readable-session-01" },
    });
    expect(eu.replicator.status()).toEqual([]);
    raw.close();
  });

  it("refuses a wrong proof with 4401", async () => {
    const { ports } = await cluster(["eu"]);
    const raw = await RawPeer.open(ports[0]!);
    const theirs = await raw.next();
    if (theirs.type !== "hello") throw new Error(`expected hello, got ${theirs.type}`);
    raw.send(encodeMessage(hello("probe-1")));
    raw.send(encodeMessage({ type: "auth", proof: proofOf("guess", theirs.nonce, "probe-1") }));
    expect(await raw.closed).toEqual({ code: 4401, reason: "authentication failed" });
  });

  it("refuses another protocol version with 4426, in the envelope or in hello", async () => {
    const { ports } = await cluster(["eu"]);
    const nonce = new Uint8Array(32);
    const frames = [
      packValue([PROTOCOL_VERSION + 1, 1, PROTOCOL_VERSION + 1, "probe-1", "probe", nonce]),
      encodeMessage(hello("probe-1", PROTOCOL_VERSION + 1)),
    ];
    for (const frame of frames) {
      const raw = await RawPeer.open(ports[0]!);
      await raw.next();
      raw.send(frame);
      expect((await raw.closed).code).toBe(4426);
    }
  });

  it("answers other upgrade paths with 404", async () => {
    const { ports } = await cluster(["eu"]);
    const status = await new Promise<number | undefined>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${ports[0]}/v1/other`);
      ws.on("unexpected-response", (_req, res) => {
        resolve(res.statusCode);
        ws.terminate();
      });
      ws.on("open", () => resolve(undefined));
      ws.on("error", () => {});
    });
    expect(status).toBe(404);
    const raw = await RawPeer.open(ports[0]!);
    expect((await raw.next()).type).toBe("hello");
    raw.close();
  });

  it("closes a connection that does not finish the handshake in time with 4408", async () => {
    const server = createHttpServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    const replica = new Replica({
      store: new MemoryStore(),
      clock: systemClock,
      rng: cryptoRng,
      scheduler: eventLoopScheduler,
      region: "solo",
    });
    const replicator = new Replicator(replica, eventLoopScheduler);
    const transport = attachPeerTransport({
      server,
      replicator,
      replica,
      secret: SECRET,
      peers: [],
      logger: createLogger("silent", "solo"),
      rng: cryptoRng,
      scheduler: eventLoopScheduler,
      handshakeTimeoutMs: 100,
    });
    transport.start();
    try {
      const raw = await RawPeer.open(address.port);
      expect((await raw.next()).type).toBe("hello");
      raw.send(encodeMessage(hello("probe-1")));
      expect((await raw.next()).type).toBe("auth");
      expect(await raw.closed).toEqual({ code: 4408, reason: "handshake timed out" });
    } finally {
      await transport.close();
      replicator.stop();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("frames a node sends on the links it dials", () => {
  it("are masked with an all-zero key, so their payload crosses the wire as it was encoded", async () => {
    const [peerPort, nodePort] = await freePorts(2);
    const wss = new WebSocketServer({ port: peerPort!, host: "127.0.0.1" });
    const firstFrame = new Promise<Buffer>((resolve) =>
      wss.on("connection", (_ws, req) =>
        req.socket.once("data", (chunk: Buffer) => resolve(chunk)),
      ),
    );
    // A stock ws server, which refuses unmasked client frames, takes them as any other.
    const firstMessage = new Promise<PeerMessage>((resolve) =>
      wss.on("connection", (ws) =>
        ws.once("message", (data) => resolve(decodeMessage(data as Buffer))),
      ),
    );
    try {
      await start("eu", nodePort!, [peerPort!]);
      const frame = await firstFrame;
      expect(frame[0]).toBe(0x82); // FIN, binary
      const length = frame[1]! & 0x7f;
      expect(frame[1]! & 0x80).toBe(0x80); // masked, as a client must
      expect(length).toBeLessThan(126);
      expect([...frame.subarray(2, 6)]).toEqual([0, 0, 0, 0]);
      const hello = decodeMessage(frame.subarray(6, 6 + length));
      expect(hello).toMatchObject({ type: "hello", region: "eu" });
      expect(await firstMessage).toEqual(hello);
    } finally {
      for (const c of wss.clients) c.terminate();
      await new Promise((resolve) => wss.close(resolve));
    }
  });
});
