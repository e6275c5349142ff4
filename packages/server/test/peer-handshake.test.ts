import { PROTOCOL_VERSION, type PeerMessage, VersionVector } from "@meridian/core";
import { describe, expect, it } from "vitest";
import { Handshake, type HandshakeStep } from "../src/peer/handshake.ts";
import { redactIds } from "../src/peer/loggable-error.ts";

function side(nodeId: string, secrets: string[], nonceByte: number): Handshake {
  const vv = new VersionVector();
  vv.add({ origin: nodeId, seq: 1 });
  return new Handshake({
    nodeId,
    region: nodeId.split("-")[0]!,
    secrets,
    nonce: new Uint8Array(32).fill(nonceByte),
    versionVector: () => vv,
  });
}

/** Runs both sides until each opens or refuses, delivering messages in order; their last steps. */
function run(a: Handshake, b: Handshake): [HandshakeStep | undefined, HandshakeStep | undefined] {
  const toA: PeerMessage[] = [b.hello()];
  const toB: PeerMessage[] = [a.hello()];
  let lastA: HandshakeStep | undefined;
  let lastB: HandshakeStep | undefined;
  const live = (s: HandshakeStep | undefined) => s === undefined || s.kind === "continue";
  for (let i = 0; i < 20; i++) {
    const forB = live(lastB) ? toB.shift() : undefined;
    if (forB !== undefined) {
      lastB = b.receive(forB);
      if (lastB.kind === "continue") toA.push(...lastB.send);
      continue;
    }
    const forA = live(lastA) ? toA.shift() : undefined;
    if (forA === undefined) break;
    lastA = a.receive(forA);
    if (lastA.kind === "continue") toB.push(...lastA.send);
  }
  return [lastA, lastB];
}

describe("peer handshake", () => {
  it("opens both sides when they share a secret, each learning the other's identity", () => {
    const [a, b] = run(side("eu-1", ["s"], 1), side("us-1", ["s"], 2));
    expect(a).toMatchObject({ kind: "open", peer: { nodeId: "us-1", region: "us" } });
    expect(b).toMatchObject({ kind: "open", peer: { nodeId: "eu-1", region: "eu" } });
    if (a?.kind === "open") expect(a.vv.max("us-1")).toBe(1);
  });

  it("accepts any secret of the list and signs with the first, so a secret can be rotated", () => {
    const [a, b] = run(side("eu-1", ["new", "old"], 1), side("us-1", ["old", "new"], 2));
    expect([a?.kind, b?.kind]).toEqual(["open", "open"]);
  });

  it("refuses with 4401 when the secrets differ", () => {
    const [a, b] = run(side("eu-1", ["new"], 1), side("us-1", ["old"], 2));
    expect(a).toEqual({ kind: "refuse", code: 4401, reason: "authentication failed" });
    expect(b).toEqual({ kind: "refuse", code: 4401, reason: "authentication failed" });
  });

  it("refuses a replayed proof made for another nonce", () => {
    const eu = side("eu-1", ["s"], 1);
    const us = side("us-1", ["s"], 2);
    const other = side("eu-1", ["s"], 9);
    // us proves itself against eu's nonce; the proof is replayed to a connection with a new nonce.
    const auth = us.receive(eu.hello());
    if (auth.kind !== "continue") throw new Error("us refused eu's hello");
    expect(other.receive(us.hello()).kind).toBe("continue");
    expect(other.receive(auth.send[0]!)).toMatchObject({ kind: "refuse", code: 4401 });
  });

  it("refuses a peer claiming this node's own id with 4508", () => {
    const me = side("eu-1", ["s"], 1);
    expect(me.receive(side("eu-1", ["s"], 2).hello())).toMatchObject({ code: 4508 });
  });

  it("refuses another protocol with 4426 and messages out of order or a bad nonce with 4400", () => {
    const hello = side("us-1", ["s"], 2).hello();
    if (hello.type !== "hello") throw new Error("unreachable");
    expect(
      side("eu-1", ["s"], 1).receive({ ...hello, protocol: PROTOCOL_VERSION + 1 }),
    ).toMatchObject({ code: 4426 });
    const short = { ...hello, nonce: new Uint8Array(8) };
    expect(side("eu-1", ["s"], 1).receive(short)).toMatchObject({ code: 4400 });
    const auth: PeerMessage = { type: "auth", proof: new Uint8Array(32) };
    expect(side("eu-1", ["s"], 1).receive(auth)).toMatchObject({ code: 4400 });
    const twice = side("eu-1", ["s"], 1);
    twice.receive(hello);
    expect(twice.receive(hello)).toMatchObject({ code: 4400, reason: "expected auth, got hello" });
  });

  it("refuses everyone when it has no secret", () => {
    const [a] = run(side("eu-1", [], 1), side("us-1", [""], 2));
    expect(a).toMatchObject({ kind: "refuse", code: 4401 });
  });
});

describe("log redaction", () => {
  it("hashes anything shaped like a session id and keeps plain words", () => {
    const text = redactIds("session Xq3_9f-aB7cD2eF1gH0 failed in deserialization");
    expect(text).not.toContain("Xq3_9f-aB7cD2eF1gH0");
    expect(text).toMatch(/^session #\S{12} failed in deserialization$/);
  });
});
