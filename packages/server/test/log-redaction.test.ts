import { randomBytes } from "node:crypto";
import { encodeMessage, PROTOCOL_VERSION, type PeerMessage, packValue } from "@meridian/core";
import { testDelta, testStamp, yjsUpdate } from "@meridian/core/testing";
import { afterAll, describe, expect, it } from "vitest";
import { nodeConfig, type RunningNode, startNode } from "../src/index.ts";
import { logId } from "../src/log.ts";
import { signNonce } from "../src/peer/handshake.ts";
import { freePorts } from "../src/testing/free-ports.ts";
import { waitFor } from "../src/testing/wait-for.ts";
import { call } from "./http-kit.ts";
import { RawPeer } from "./raw-peer.ts";

/** A pino destination that keeps every line. */
class LogCapture {
  readonly lines: string[] = [];
  write(line: string): void {
    this.lines.push(line);
  }
}

const SECRET = "log-test-secret";
const captures = new Map<string, LogCapture>();
const running: RunningNode[] = [];
afterAll(async () => {
  await Promise.all(running.map((n) => n.close()));
});

async function start(region: string, port: number, peers: number[], secret = SECRET) {
  const capture = new LogCapture();
  captures.set(region, capture);
  const node = await startNode(
    nodeConfig(
      { region, dataDir: ":memory:", peers: peers.map((p) => `http://127.0.0.1:${p}`), secret },
      { port, logLevel: "debug", syncIntervalMs: 200, maxValueBytes: 1024 },
    ),
    { logDestination: capture },
  );
  running.push(node);
  return node;
}

// Everything secret the test sends. Ids are valid session ids; values and userIds distinctive.
const ID = "logtest-session-aaaaaaaa";
const GONE = "logtest-session-deleted1";
const ABSENT = "logtest-session-absent01";
const PEER_ID = "logtest-session-frompeer";
const VALUES = ["VALUE-card-4111", "VALUE-note-text", "VALUE-yjs-draft", "VALUE-oversized"];
const USER = "user-logtest-alice";

/** Runs a raw client through the handshake with the right secret; returns it authenticated. */
async function authenticatedPeer(node: RunningNode, port: number): Promise<RawPeer> {
  const raw = await RawPeer.open(port);
  const theirs = await raw.next();
  if (theirs.type !== "hello") throw new Error(`expected hello, got ${theirs.type}`);
  const nonce = new Uint8Array(randomBytes(32));
  raw.send(
    encodeMessage({
      type: "hello",
      protocol: PROTOCOL_VERSION,
      nodeId: "probe-1",
      region: "probe",
      nonce,
    }),
  );
  await raw.next(); // the node's auth
  raw.send(encodeMessage({ type: "auth", proof: signNonce(SECRET, theirs.nonce, "probe-1") }));
  await raw.next(); // welcome
  raw.send(encodeMessage({ type: "welcome", vv: node.replica.store.versionVector() }));
  return raw;
}

describe("logs at debug level", () => {
  it("never hold a session id, a value or a userId, whatever the node is asked", async () => {
    const [pEu, pUs, pX] = (await freePorts(3)) as [number, number, number];
    const [eu, us] = await Promise.all([start("eu", pEu, [pUs]), start("us", pUs, [pEu])]);
    await waitFor(
      () => eu.replicator.connectedPeers() === 1 && us.replicator.connectedPeers() === 1,
      "link",
    );
    const intruder = await start("xx", pX, [pEu], "wrong-secret");
    const u = (path: string) => `${eu.url}${path}`;

    // Writes and reads of every kind, in every consistency level.
    const created = await call("POST", u("/v1/sessions"), {
      data: { note: VALUES[1] },
      userId: USER,
    });
    expect(created.status).toBe(201);
    const createdId = created.body!.id!;
    expect(
      (await call("PUT", u(`/v1/sessions/${ID}`), { data: { card: VALUES[0] }, userId: USER }))
        .status,
    ).toBe(201);
    const draft = Buffer.from(yjsUpdate(3, VALUES[2]!)).toString("base64");
    expect(
      (
        await call("PATCH", u(`/v1/sessions/${ID}?consistency=all`), {
          set: { n: 1 },
          yjs: { draft },
        })
      ).status,
    ).toBe(200);
    expect((await call("GET", u(`/v1/sessions/${ID}?consistency=quorum`))).status).toBe(200);
    expect((await call("POST", u(`/v1/sessions/${ID}/touch`), { ttl: 600 })).status).toBe(200);
    expect((await call("GET", u(`/v1/users/${USER}/sessions`))).status).toBe(200);
    // Errors: absent, deleted, bad input quoting values, oversized values, bad ids, no route.
    expect((await call("GET", u(`/v1/sessions/${ABSENT}`))).status).toBe(404);
    expect((await call("PUT", u(`/v1/sessions/${GONE}`), { data: { x: VALUES[1] } })).status).toBe(
      201,
    );
    expect((await call("DELETE", u(`/v1/sessions/${GONE}`))).status).toBe(204);
    expect((await call("GET", u(`/v1/sessions/${GONE}`))).status).toBe(410);
    expect((await call("PATCH", u(`/v1/sessions/${GONE}`), { set: { x: VALUES[0] } })).status).toBe(
      410,
    );
    expect(
      (await call("PATCH", u(`/v1/sessions/${ID}`), { set: VALUES[0], [VALUES[1]!]: 1 })).status,
    ).toBe(400);
    expect(
      (await call("PATCH", u(`/v1/sessions/${ID}`), `{"set": {"a": "${VALUES[0]}"`)).status,
    ).toBe(400);
    const big = { set: { big: `${VALUES[3]}${"x".repeat(2000)}` } };
    expect((await call("PATCH", u(`/v1/sessions/${ID}`), big)).status).toBe(413);
    expect((await call("GET", u(`/v1/sessions/${ID}/${VALUES[0]}`))).status).toBe(404);
    expect((await call("GET", u(`/v1/sessions/${ID}?after=${ID}`))).status).toBe(400);
    expect((await call("DELETE", u(`/v1/users/${USER}/sessions`))).status).toBe(200);
    await waitFor(() => us.replica.get(createdId) !== undefined, "replication to us");

    // Peer traffic from a raw client: a write, then frames that break the protocol.
    const peer = await authenticatedPeer(eu, pEu);
    const write = testDelta(PEER_ID, testStamp("probe-1", 1), {
      set: { v: VALUES[1] },
      userId: USER,
    });
    peer.send(
      encodeMessage({ type: "deltas", deltas: [write], sent: testStamp("probe-1", 1).hlc }),
    );
    await waitFor(() => eu.replica.get(PEER_ID) !== undefined, "the raw peer's write");
    peer.send(Buffer.concat([Buffer.from([0x93, 0x01]), Buffer.from(`${PEER_ID}${VALUES[0]}`)]));
    expect((await peer.closed).code).toBe(4400);
    const early = await RawPeer.open(pEu);
    await early.next();
    const sneaky: PeerMessage = { type: "read-request", req: 1, id: ID };
    early.send(encodeMessage(sneaky));
    expect((await early.closed).code).toBe(4400);
    const skewed = await authenticatedPeer(eu, pEu);
    const future = { wall: Date.now() + 3_600_000, logical: 0, node: "probe-1" };
    const far = testDelta(PEER_ID, { hlc: future, seq: 2 }, { set: { v: VALUES[0] } });
    skewed.send(encodeMessage({ type: "deltas", deltas: [far], sent: future }));
    skewed.send(packValue([PROTOCOL_VERSION, 99, ID, VALUES[0]]));
    expect((await skewed.closed).code).toBe(4400);
    await waitFor(
      () =>
        captures.get("eu")!.lines.some((l) => l.includes("closing peer connection")) &&
        captures.get("xx")!.lines.some((l) => l.includes('"code":4401')),
      "the refusals to be logged",
    );
    await intruder.close();

    const all = [...captures.values()].flatMap((c) => c.lines);
    const text = all.join("");
    const secrets = [ID, GONE, ABSENT, PEER_ID, createdId, USER, ...VALUES];
    expect(secrets.filter((s) => text.includes(s))).toEqual([]);
    // The capture did see the debug traffic, with ids in their keyed-hash form.
    expect(all.length).toBeGreaterThan(10);
    expect(all.some((l) => JSON.parse(l).level === 20)).toBe(true);
    expect(text).toContain(logId(ABSENT));
    expect(text).toContain("peer link up");
  });
});
