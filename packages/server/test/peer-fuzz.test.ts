import { createHmac, randomBytes } from "node:crypto";
import {
  type Delta,
  encodeMessage,
  PROTOCOL_VERSION,
  packValue,
  type PeerMessage,
  type SessionState,
  VersionVector,
} from "@meridian/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeConfig, type RunningNode, startNode } from "../src/index.ts";
import { RawPeer } from "./raw-peer.ts";

const SECRET = "peer-fuzz-secret";
const SEED = Number(process.env.SEED ?? Math.floor(Math.random() * 2 ** 31));
const ROUNDS = Number(process.env.RUNS ?? 120);

/** A small seeded PRNG (mulberry32), so a failing run replays from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function proof(nonce: Uint8Array, nodeId: string): Uint8Array {
  return new Uint8Array(createHmac("sha256", SECRET).update(nonce).update(nodeId).digest());
}

/** Opens an authenticated raw peer connection, as a real peer would. */
async function authenticated(port: number, nodeId: string): Promise<RawPeer> {
  const raw = await RawPeer.open(port);
  const theirs = await raw.next();
  if (theirs.type !== "hello") throw new Error(`expected hello, got ${theirs.type}`);
  const nonce = new Uint8Array(randomBytes(32));
  raw.send(
    encodeMessage({ type: "hello", protocol: PROTOCOL_VERSION, nodeId, region: "fuzz", nonce }),
  );
  await raw.next(); // its auth
  raw.send(encodeMessage({ type: "auth", proof: proof(theirs.nonce, nodeId) }));
  const welcome = await raw.next();
  if (welcome.type !== "welcome") throw new Error(`expected welcome, got ${welcome.type}`);
  raw.send(encodeMessage({ type: "welcome", vv: new VersionVector() }));
  return raw;
}

const FUTURE_MS = 365 * 24 * 3600 * 1000;

function fragment(id: string, origin: string, seq: number, wall: number): SessionState {
  const stamp = { hlc: { wall, logical: 0, node: origin }, seq };
  return {
    id,
    fields: new Map([["f", { kind: "value", stamp, value: packValue("x") }]]),
    lifetimes: [{ from: wall, until: wall + 60_000, stamp }],
  };
}

describe("hostile peer frames", () => {
  let node: RunningNode;
  beforeAll(async () => {
    node = await startNode(
      nodeConfig(
        { region: "eu", dataDir: ":memory:", peers: [], secret: SECRET },
        { port: 0, logLevel: "silent" },
      ),
    );
  });
  afterAll(async () => node.close());

  it("stays up, closes bad peers with a code, and stores nothing they send", async () => {
    console.log(
      `seed=${SEED} rounds=${ROUNDS} (replay: SEED=${SEED} pnpm vitest run packages/server/test/peer-fuzz.test.ts)`,
    );
    const rnd = prng(SEED);
    const int = (n: number) => Math.floor(rnd() * n);
    const before = node.replica.store.digest();
    const kinds = new Map<string, number>();
    let frames = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const origin = `fuzz-${round}`;
      const raw = await authenticated(node.port, origin);
      const now = Date.now();
      const id = `fuzzed-session-${String(round).padStart(6, "0")}`;
      const valid: Delta = {
        dot: { origin, seq: 1 },
        session: fragment(id, origin, 1, now + FUTURE_MS),
      };
      const choices: [string, () => Uint8Array][] = [
        ["random bytes", () => new Uint8Array(randomBytesSeeded(int(200) + 1, rnd))],
        [
          "far-future clock",
          () =>
            encodeMessage({
              type: "deltas",
              deltas: [valid],
              sent: valid.session.lifetimes![0]!.stamp.hlc,
            }),
        ],
        [
          "mutated far-future deltas",
          () => {
            const b = encodeMessage({
              type: "deltas",
              deltas: [valid],
              sent: valid.session.lifetimes![0]!.stamp.hlc,
            });
            for (let i = 0; i < 1 + int(4); i++) b[int(b.length)] = int(256);
            return b;
          },
        ],
        [
          "dot that is not the write's",
          () =>
            encodeMessage({
              type: "deltas",
              deltas: [{ dot: { origin, seq: 7 }, session: fragment(id, origin, 1, now) }],
              sent: { wall: now, logical: 0, node: origin },
            }),
        ],
        [
          "out-of-range numbers",
          () => packValue([PROTOCOL_VERSION, 4, [[[origin, 2 ** 60], []]], [1e300, -1, origin]]),
        ],
        ["wrong types", () => packValue([PROTOCOL_VERSION, int(20), "x", { a: 1 }, null, true])],
        [
          "far-future sync chunk",
          () =>
            encodeMessage({ type: "sync-chunk", round: 1, index: 0, sessions: [valid.session] }),
        ],
        [
          "truncated frame",
          () =>
            encodeMessage({
              type: "deltas",
              deltas: [valid],
              sent: valid.session.lifetimes![0]!.stamp.hlc,
            }).slice(0, int(40) + 1),
        ],
      ];
      const count = 1 + int(4);
      for (let i = 0; i < count; i++) {
        const [kind, make] = choices[int(choices.length)]!;
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
        raw.send(make());
        frames += 1;
      }
      // Either the node closed the link with a code, or it is still answering on it.
      raw.send(
        encodeMessage({ type: "ping", req: 1, sent: { wall: now, logical: 0, node: origin } }),
      );
      const outcome = await Promise.race([
        raw.closed.then((c) => ({ closed: c.code })),
        nextPong(raw),
      ]);
      if ("closed" in outcome) expect([4400, 4426, 1009, 1002, 1007]).toContain(outcome.closed);
      raw.close();
      expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
    }
    expect(node.replica.store.digest()).toBe(before);
    expect(node.replica.store.sessionCount()).toBe(0);
    console.log(
      `peer fuzz: ${frames} frames over ${ROUNDS} connections: ${JSON.stringify(Object.fromEntries(kinds))}`,
    );
  });
});

async function nextPong(raw: RawPeer): Promise<{ pong: true }> {
  for (;;) {
    let m: PeerMessage;
    try {
      m = await raw.next();
    } catch {
      return new Promise(() => {}); // closed: the other branch of the race settles
    }
    if (m.type === "pong") return { pong: true };
  }
}

function randomBytesSeeded(n: number, rnd: () => number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rnd() * 256);
  return out;
}
