import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DecodeError,
  decodeMessage,
  encodeMessage,
  type FieldRegister,
  type Hlc,
  isCanonicalLifetimes,
  isFieldName,
  isNodeId,
  isSessionId,
  isUserId,
  MAX_LIFETIMES,
  PROTOCOL_VERSION,
  type PeerMessage,
  type PeerMessageType,
  packValue,
  type SessionState,
  type Stamp,
  sessionFromWire,
  sessionToWire,
  unpackValue,
  VersionVector,
} from "../src/index.ts";
import { messageArbs, peerMessageArb, sessionArb } from "./arbitraries.ts";
import { fcSeed } from "./seed.ts";

const TAGS: Record<PeerMessageType, number> = {
  hello: 1,
  auth: 2,
  welcome: 3,
  deltas: 4,
  ack: 5,
  "sync-request": 6,
  "sync-chunk": 7,
  "sync-done": 8,
  "read-request": 9,
  "read-reply": 10,
  repair: 11,
  ping: 12,
  pong: 13,
  "sync-purged": 14,
};

/** A plain, comparable view: bytes by content (decode gives Buffers), maps sorted, vv as entries. */
function plain(x: unknown): unknown {
  if (x instanceof Uint8Array) return { bytes: Buffer.from(x).toString("hex") };
  if (x instanceof VersionVector) return { vv: [...x.entries()] };
  if (x instanceof Map) {
    return {
      map: [...x.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, plain(v)]),
    };
  }
  if (Array.isArray(x)) return x.map(plain);
  if (x !== null && typeof x === "object") {
    return Object.fromEntries(
      Object.entries(x)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => [k, plain(v)]),
    );
  }
  return x;
}

// ---------------------------------------------------------------------------------------------
// What "well-typed" means for a decoded message: every id matches its pattern, every number is
// a safe integer in range, every binary is a Uint8Array. Returns the problems found.

const isInt = (n: unknown, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  typeof n === "number" && Number.isSafeInteger(n) && n >= min && n <= max;
const isBytes = (b: unknown) => b instanceof Uint8Array;

function hlcProblems(h: Hlc, what: string, epoch = false): string[] {
  const out: string[] = [];
  if (!isInt(h.wall)) out.push(`${what}.wall`);
  if (!isInt(h.logical, 0, 0xffff_ffff)) out.push(`${what}.logical`);
  const base = epoch && h.node.endsWith("\u0000") ? h.node.slice(0, -1) : h.node;
  const ok = isNodeId(base) || (epoch && h.node === "");
  if (!ok) out.push(`${what}.node ${JSON.stringify(h.node)}`);
  return out;
}

const stampProblems = (s: Stamp, what: string) => [
  ...hlcProblems(s.hlc, `${what}.hlc`),
  ...(isInt(s.seq, 1) ? [] : [`${what}.seq`]),
];

function registerProblems(r: FieldRegister, what: string): string[] {
  if (r.kind === "value") {
    return [
      ...stampProblems(r.stamp, what),
      ...(r.value === null || isBytes(r.value) ? [] : [`${what}.value`]),
    ];
  }
  return [
    ...hlcProblems(r.epoch, `${what}.epoch`, true),
    ...(isBytes(r.update) ? [] : [`${what}.update`]),
    ...(r.stamps.length > 0 ? [] : [`${what}.stamps empty`]),
    ...r.stamps.flatMap((s, i) => stampProblems(s, `${what}.stamps[${i}]`)),
  ];
}

function sessionProblems(s: SessionState, what: string): string[] {
  const out: string[] = [];
  if (!isSessionId(s.id)) out.push(`${what}.id`);
  for (const [name, reg] of s.fields) {
    if (!isFieldName(name)) out.push(`${what}.fields name ${JSON.stringify(name)}`);
    out.push(...registerProblems(reg, `${what}.fields.${name}`));
  }
  for (const [i, l] of (s.lifetimes ?? []).entries()) {
    if (!isInt(l.from) || !isInt(l.until)) out.push(`${what}.lifetimes[${i}]`);
    out.push(...stampProblems(l.stamp, `${what}.lifetimes[${i}]`));
  }
  if (s.lifetimes !== undefined && !isCanonicalLifetimes(s.lifetimes)) {
    out.push(`${what}.lifetimes not canonical`);
  }
  for (const k of ["lastAccess", "deadline"] as const) {
    const t = s[k];
    if (t === undefined) continue;
    if (!isInt(t.at)) out.push(`${what}.${k}.at`);
    out.push(...stampProblems(t.stamp, `${what}.${k}`));
  }
  if (s.idleMs) {
    if (s.idleMs.value !== null && !isInt(s.idleMs.value)) out.push(`${what}.idleMs`);
    out.push(...stampProblems(s.idleMs.stamp, `${what}.idleMs`));
  }
  if (s.userId) {
    const u = s.userId.value;
    if (u !== null && (typeof u !== "string" || !isUserId(u)))
      out.push(`${what}.userId ${JSON.stringify(u)}`);
    out.push(...stampProblems(s.userId.stamp, `${what}.userId`));
  }
  if (s.deleted) out.push(...stampProblems(s.deleted, `${what}.deleted`));
  return out;
}

function vvProblems(vv: VersionVector, what: string): string[] {
  if (!(vv instanceof VersionVector)) return [`${what} is not a VersionVector`];
  const out: string[] = [];
  for (const [origin, { base, ranges }] of vv.entries()) {
    if (!isNodeId(origin)) out.push(`${what} origin`);
    if (!isInt(base)) out.push(`${what}.${origin}.base`);
    let floor = base + 1;
    for (const [lo, hi] of ranges) {
      if (!isInt(lo, floor + 1) || !isInt(hi, lo)) out.push(`${what}.${origin} range`);
      floor = hi + 1;
    }
  }
  return out;
}

function messageProblems(m: PeerMessage): string[] {
  switch (m.type) {
    case "hello":
      return [
        ...(isInt(m.protocol) ? [] : ["hello.protocol"]),
        ...(isNodeId(m.nodeId) ? [] : ["hello.nodeId"]),
        ...(isNodeId(m.region) ? [] : ["hello.region"]),
        ...(isBytes(m.nonce) ? [] : ["hello.nonce"]),
      ];
    case "auth":
      return isBytes(m.proof) ? [] : ["auth.proof"];
    case "welcome":
    case "sync-request":
      return [
        ...vvProblems(m.vv, `${m.type}.vv`),
        ...(m.type === "sync-request" && !isInt(m.round) ? ["round"] : []),
      ];
    case "deltas":
      return [
        ...m.deltas.flatMap((d, i) => [
          ...(isNodeId(d.dot.origin) && isInt(d.dot.seq, 1) ? [] : [`deltas[${i}].dot`]),
          ...sessionProblems(d.session, `deltas[${i}].session`),
        ]),
        ...hlcProblems(m.sent, "deltas.sent"),
      ];
    case "ack":
      return m.dots.flatMap((d, i) =>
        isNodeId(d.origin) && isInt(d.seq, 1) ? [] : [`ack.dots[${i}]`],
      );
    case "sync-chunk":
      return [
        ...(isInt(m.round) && isInt(m.index) ? [] : ["sync-chunk numbers"]),
        ...m.sessions.flatMap((s, i) => sessionProblems(s, `sessions[${i}]`)),
      ];
    case "sync-purged":
      return [
        ...(isInt(m.round) && isInt(m.index) ? [] : ["sync-purged numbers"]),
        ...m.purged.flatMap((p, i) => [
          ...(isSessionId(p.id) ? [] : [`purged[${i}].id`]),
          ...(p.dot === null || (isNodeId(p.dot.origin) && isInt(p.dot.seq, 1))
            ? []
            : [`purged[${i}].dot`]),
        ]),
      ];
    case "sync-done":
      return [
        ...(isInt(m.round) && isInt(m.chunks) ? [] : ["sync-done numbers"]),
        ...vvProblems(m.vv, "sync-done.vv"),
      ];
    case "read-request":
      return [...(isInt(m.req) ? [] : ["req"]), ...(isSessionId(m.id) ? [] : ["read-request.id"])];
    case "read-reply":
      return [
        ...(isInt(m.req) ? [] : ["req"]),
        ...(m.session === null ? [] : sessionProblems(m.session, "read-reply.session")),
        ...vvProblems(m.vv, "read-reply.vv"),
      ];
    case "repair":
      return m.sessions.flatMap((s, i) => sessionProblems(s, `sessions[${i}]`));
    case "ping":
    case "pong":
      return [...(isInt(m.req) ? [] : ["req"]), ...hlcProblems(m.sent, `${m.type}.sent`)];
  }
}

/** Decodes and requires either a well-typed message or a DecodeError: nothing else, ever. */
function decodeOrRefuse(
  bytes: Uint8Array,
  limits?: { maxBytes: number },
): PeerMessage | DecodeError {
  let m: PeerMessage;
  try {
    m = decodeMessage(bytes, limits);
  } catch (e) {
    if (!(e instanceof DecodeError)) {
      throw new Error(`decodeMessage threw a non-DecodeError: ${String(e)}`, { cause: e });
    }
    expect(e.code).toBe("MERIDIAN_ERR_DECODE");
    return e;
  }
  expect(Object.keys(TAGS)).toContain(m.type);
  expect(messageProblems(m)).toEqual([]);
  return m;
}

/** The positional wire array of an encoded message, to tamper with. */
const wireOf = (m: PeerMessage) => unpackValue(encodeMessage(m)) as unknown[];

describe("encodeMessage / decodeMessage round trip", () => {
  it("round-trips every message type", () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(peerMessageArb(), (m) => {
        seen.add(m.type);
        const bytes = encodeMessage(m);
        const back = decodeMessage(bytes);
        expect(plain(back)).toEqual(plain(m));
        expect(messageProblems(back)).toEqual([]);
        expect(Buffer.from(encodeMessage(back)).equals(Buffer.from(bytes))).toBe(true);
        const wire = unpackValue(bytes) as unknown[];
        expect(wire[0]).toBe(PROTOCOL_VERSION);
        expect(wire[1]).toBe(TAGS[m.type]);
      }),
      { numRuns: 2000, seed: fcSeed() },
    );
    expect([...seen].sort()).toEqual(Object.keys(TAGS).sort());
  });

  it.each(Object.keys(messageArbs) as PeerMessageType[])(
    "round-trips %s (tag and positional fields)",
    (type) => {
      fc.assert(
        fc.property(messageArbs[type] as fc.Arbitrary<PeerMessage>, (m) => {
          const back = decodeMessage(encodeMessage(m));
          expect(back.type).toBe(type);
          expect(plain(back)).toEqual(plain(m));
        }),
        { numRuns: 1000, seed: fcSeed() },
      );
    },
  );

  it("encodes a deltas message as the whole positional form, each delta however often it is sent", () => {
    const deltasArb = messageArbs.deltas as fc.Arbitrary<Extract<PeerMessage, { type: "deltas" }>>;
    fc.assert(
      fc.property(deltasArb, fc.integer({ min: 1, max: 40 }), (m, copies) => {
        // Many items (a 16-bit array header), each delta object more than once: its second
        // encoding is the remembered one.
        const many = { ...m, deltas: Array.from({ length: copies }, () => m.deltas).flat() };
        for (const msg of [m, many, m]) {
          const whole = packValue([
            PROTOCOL_VERSION,
            TAGS.deltas,
            msg.deltas.map((d) => [[d.dot.origin, d.dot.seq], sessionToWire(d.session)]),
            [msg.sent.wall, msg.sent.logical, msg.sent.node],
          ]);
          expect(Buffer.from(encodeMessage(msg)).equals(Buffer.from(whole))).toBe(true);
        }
      }),
      { numRuns: 500, seed: fcSeed() },
    );
  });

  it("round-trips session states through their wire form", () => {
    fc.assert(
      fc.property(sessionArb(), (s) => {
        expect(plain(sessionFromWire(unpackValue(packValue(sessionToWire(s)))))).toEqual(plain(s));
      }),
      { numRuns: 1000, seed: fcSeed() },
    );
  });

  it("encodes a sync-chunk whose sessions array it packed before exactly as packing it whole", () => {
    fc.assert(
      fc.property(
        fc.array(sessionArb(), { maxLength: 5 }),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 4 }),
        (sessions, numbers) => {
          // One array sent in several messages, as a shared extraction sends it to its requesters.
          for (const [round, index] of numbers) {
            const m: PeerMessage = { type: "sync-chunk", round, index, sessions };
            const whole = packValue([
              PROTOCOL_VERSION,
              7,
              round,
              index,
              sessions.map(sessionToWire),
            ]);
            expect(Buffer.from(encodeMessage(m)).equals(Buffer.from(whole))).toBe(true);
          }
        },
      ),
      { numRuns: 300, seed: fcSeed() },
    );
  });

  it("writes the documented layout (PROTOCOL.md)", () => {
    const stamp = { hlc: { wall: 1700000000000, logical: 2, node: "eu" }, seq: 7 };
    const session: SessionState = {
      id: "AAAAAAAAAAAAAAAAAAAAAA",
      fields: new Map<string, FieldRegister>([
        [
          "b",
          {
            kind: "yjs",
            epoch: { wall: 0, logical: 0, node: "" },
            update: new Uint8Array([0, 0]),
            stamps: [stamp],
          },
        ],
        ["a", { kind: "value", stamp, value: null }],
      ]),
      lifetimes: [{ from: 2, until: 5, stamp }],
      userId: { value: "ada", stamp },
    };
    const s = [1700000000000, 2, "eu", 7];
    expect(plain(sessionToWire(session))).toEqual(
      plain([
        "AAAAAAAAAAAAAAAAAAAAAA",
        [
          ["a", [0, s, null]],
          ["b", [1, [0, 0, ""], new Uint8Array([0, 0]), [s]]],
        ],
        [[2, 5, s]],
        null,
        null,
        null,
        ["ada", s],
        null,
      ]),
    );
    const vv = VersionVector.from([
      [
        "us",
        {
          base: 3,
          ranges: [
            [5, 6],
            [9, 9],
          ],
        },
      ],
    ]);
    expect(plain(wireOf({ type: "sync-done", round: 4, chunks: 2, vv }))).toEqual(
      plain([2, 8, 4, 2, [["us", 3, [5, 6, 9, 9]]]]),
    );
    const purged = [
      { id: "AAAAAAAAAAAAAAAAAAAAAA", dot: { origin: "eu", seq: 7 } },
      { id: "BBBBBBBBBBBBBBBBBBBBBB", dot: null },
    ];
    expect(plain(wireOf({ type: "sync-purged", round: 4, index: 1, purged }))).toEqual(
      plain([
        2,
        14,
        4,
        1,
        [
          ["AAAAAAAAAAAAAAAAAAAAAA", ["eu", 7]],
          ["BBBBBBBBBBBBBBBBBBBBBB", null],
        ],
      ]),
    );
    expect(plain(wireOf({ type: "ping", req: 1, sent: stamp.hlc }))).toEqual(
      plain([2, 12, 1, [1700000000000, 2, "eu"]]),
    );
    expect(
      Buffer.from(
        encodeMessage({
          type: "ping",
          req: 1,
          sent: { wall: 1700000000000, logical: 0, node: "eu" },
        }),
      ).toString("hex"),
    ).toBe("94020c0193cb4278bcfe5680000000a26575");
  });
});

/** msgpack values of every kind, to feed the parser structurally plausible garbage. */
const { msgpackValue } = fc.letrec((tie) => ({
  msgpackValue: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.integer({ min: -1, max: 20 }),
    fc.maxSafeInteger(),
    fc.double(),
    fc.string({ maxLength: 20 }),
    fc.stringMatching(/^[A-Za-z0-9_-]{16,20}$/),
    fc.uint8Array({ maxLength: 8 }),
    fc.array(tie("msgpackValue"), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 5 }), tie("msgpackValue"), { maxKeys: 3 }),
  ),
}));

describe("decodeMessage refuses bad input with DecodeError and nothing else", () => {
  it("random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), peerMessageArb(), (bytes, m) => {
        decodeOrRefuse(bytes);
        // Nothing a bad message does leaks into the next decode (msgpackr keeps module state).
        expect(plain(decodeMessage(encodeMessage(m)))).toEqual(plain(m));
      }),
      { numRuns: 1000, seed: fcSeed() },
    );
  });

  it("random msgpack values, and random fields under every tag", () => {
    fc.assert(
      fc.property(
        msgpackValue,
        fc.integer({ min: 0, max: 15 }),
        fc.array(msgpackValue, { maxLength: 5 }),
        (value, tag, fields) => {
          decodeOrRefuse(packValue(value));
          decodeOrRefuse(packValue([PROTOCOL_VERSION, tag, ...fields]));
        },
      ),
      { numRuns: 1000, seed: fcSeed() },
    );
  });

  it("every truncation of a valid encoding", () => {
    fc.assert(
      fc.property(
        peerMessageArb(),
        fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
        (m, cuts) => {
          const bytes = encodeMessage(m);
          for (const cut of [0, bytes.length - 1, ...cuts.map((c) => c % bytes.length)]) {
            expect(decodeOrRefuse(bytes.subarray(0, cut))).toBeInstanceOf(DecodeError);
          }
        },
      ),
      { numRuns: 1000, seed: fcSeed() },
    );
  });

  it("single-byte mutations of a valid encoding", () => {
    fc.assert(
      fc.property(peerMessageArb(), fc.nat(), fc.integer({ min: 1, max: 255 }), (m, at, delta) => {
        const bytes = Uint8Array.from(encodeMessage(m));
        const i = at % bytes.length;
        bytes[i] = (bytes[i]! + delta) & 0xff;
        decodeOrRefuse(bytes);
      }),
      { numRuns: 1000, seed: fcSeed() },
    );
  });

  it("multi-byte mutations, insertions and deletions", () => {
    const edit = fc.oneof(
      fc.record({
        kind: fc.constant("set" as const),
        at: fc.nat(),
        byte: fc.integer({ min: 0, max: 255 }),
      }),
      fc.record({
        kind: fc.constant("insert" as const),
        at: fc.nat(),
        byte: fc.integer({ min: 0, max: 255 }),
      }),
      fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), byte: fc.constant(0) }),
    );
    fc.assert(
      fc.property(peerMessageArb(), fc.array(edit, { minLength: 2, maxLength: 8 }), (m, edits) => {
        const bytes = [...encodeMessage(m)];
        for (const { kind, at, byte } of edits) {
          const i = at % (bytes.length + 1);
          if (kind === "set") bytes[Math.min(i, bytes.length - 1)] = byte;
          else if (kind === "insert") bytes.splice(i, 0, byte);
          else bytes.splice(i, 1);
        }
        decodeOrRefuse(Uint8Array.from(bytes));
      }),
      { numRuns: 1000, seed: fcSeed() },
    );
  });

  it("a wrong protocol version", () => {
    const otherVersion = fc.oneof(
      fc.integer().filter((v) => v !== PROTOCOL_VERSION),
      fc.constantFrom(null, "1", 1.5, true, [1]),
    );
    fc.assert(
      fc.property(peerMessageArb(), otherVersion, (m, version) => {
        const wire = wireOf(m);
        wire[0] = version;
        const refused = decodeOrRefuse(packValue(wire));
        expect(refused).toBeInstanceOf(DecodeError);
      }),
      { numRuns: 1000, seed: fcSeed() },
    );
  });

  it("unknown tags, and a wrong number of fields for a known one", () => {
    const unknownTag = fc.oneof(
      fc.integer().filter((t) => t < 1 || t > 14),
      fc.constantFrom(null, "hello", 1.5, [4]),
    );
    fc.assert(
      fc.property(peerMessageArb(), unknownTag, msgpackValue, (m, tag, extra) => {
        const wire = wireOf(m);
        expect(decodeOrRefuse(packValue([wire[0], tag, ...wire.slice(2)]))).toBeInstanceOf(
          DecodeError,
        );
        expect(decodeOrRefuse(packValue([...wire, extra]))).toBeInstanceOf(DecodeError);
        expect(decodeOrRefuse(packValue(wire.slice(0, -1)))).toBeInstanceOf(DecodeError);
      }),
      { numRuns: 1000, seed: fcSeed() },
    );
  });

  it("trailing bytes after a valid message", () => {
    fc.assert(
      fc.property(peerMessageArb(), fc.uint8Array({ minLength: 1, maxLength: 16 }), (m, tail) => {
        const bytes = Buffer.concat([encodeMessage(m), tail]);
        expect(decodeOrRefuse(bytes)).toBeInstanceOf(DecodeError);
      }),
      { numRuns: 1000, seed: fcSeed() },
    );
  });

  it("input over the size limit", () => {
    fc.assert(
      fc.property(peerMessageArb(), fc.nat(), (m, under) => {
        const bytes = encodeMessage(m);
        const limit = under % bytes.length;
        expect(decodeOrRefuse(bytes, { maxBytes: limit })).toBeInstanceOf(DecodeError);
        expect(plain(decodeMessage(bytes, { maxBytes: bytes.length }))).toEqual(plain(m));
      }),
      { numRuns: 1000, seed: fcSeed() },
    );
    // The default limit is 16 MiB.
    const huge = new Uint8Array(16 * 1024 * 1024 + 1);
    expect(() => decodeMessage(huge)).toThrow(DecodeError);
  });

  it("deeply nested msgpack arrays", () => {
    const depth = fc.oneof(
      fc.integer({ min: 1, max: 100 }),
      fc.integer({ min: 1_000, max: 50_000 }),
    );
    fc.assert(
      fc.property(
        depth,
        fc.constantFrom(0x91, 0xdc, 0xdd),
        fc.boolean(),
        (d, header, inMessage) => {
          // Every level is a one-item array (fixarray, array 16 or array 32 header) around `nil`.
          const level =
            header === 0x91 ? [0x91] : header === 0xdc ? [0xdc, 0, 1] : [0xdd, 0, 0, 0, 1];
          const nested = new Uint8Array(d * level.length + 1);
          for (let i = 0; i < d; i++) nested.set(level, i * level.length);
          nested[nested.length - 1] = 0xc0;
          // Either bare, or as the only field of a `deltas` message: [2, 4, [[[...]]], sent].
          const bytes = inMessage
            ? Buffer.concat([
                Buffer.from([0x94, PROTOCOL_VERSION, 0x04]),
                nested,
                Buffer.from([0xc0]),
              ])
            : nested;
          expect(decodeOrRefuse(bytes)).toBeInstanceOf(DecodeError);
        },
      ),
      { numRuns: 1000, seed: fcSeed() },
    );
  });

  it("regression: a peer vector with many gaps decodes (building it was quadratic)", () => {
    // VersionVector.from sorted all ranges once per range: a 230 KB welcome took two minutes,
    // so one message from a peer with many gaps could stall a node. This one has 100,000 gaps.
    const ranges: [number, number][] = [];
    for (let i = 0; i < 100_000; i++) ranges.push([10 + 3 * i, 11 + 3 * i]);
    const bytes = packValue([PROTOCOL_VERSION, TAGS.welcome, [["eu", 5, ranges.flat()]]]);
    const m = decodeOrRefuse(bytes);
    if (m instanceof DecodeError || m.type !== "welcome") throw new Error("expected a welcome");
    expect(m.vv.base("eu")).toBe(5);
    expect(m.vv.max("eu")).toBe(11 + 3 * 99_999);
    expect(m.vv.has({ origin: "eu", seq: 12 })).toBe(false);
    expect([...m.vv.entries()][0]![1].ranges).toHaveLength(100_000);
  });

  it("input that is not binary", () => {
    for (const input of ["abc", null, [1, 2], { length: 3 }]) {
      expect(() => decodeMessage(input as unknown as Uint8Array)).toThrow(DecodeError);
    }
  });
});

describe("decoded output is well-typed", () => {
  /** A `repair` message of one session whose wire item `index` is replaced by `value`. */
  const repairWith = (index: number, value: unknown) => {
    const s: SessionState = { id: "AAAAAAAAAAAAAAAA", fields: new Map() };
    const wire = wireOf({ type: "repair", sessions: [s] });
    (wire[2] as unknown[][])[0]![index] = value;
    return packValue(wire);
  };
  const stamp = [1, 0, "eu", 1];
  const field = (reg: unknown) => [["a", reg]];

  it("refuses ids, names and numbers that break their rules", () => {
    const bad: [number, unknown][] = [
      [0, "short"],
      [0, `${"A".repeat(16)}!`],
      [1, [["", [0, stamp, null]]]],
      [1, [["a\u0000b", [0, stamp, null]]]],
      [1, [...field([0, stamp, null]), ...field([0, stamp, null])]],
      [1, field([2, stamp, null])],
      [1, field([1, [0, 0, ""], new Uint8Array(), []])],
      [1, field([0, [1, 0, "bad node!", 1], null])],
      [1, field([0, [1, 0, "eu", 0], null])],
      [1, field([0, [-1, 0, "eu", 1], null])],
      [1, field([0, [1.5, 0, "eu", 1], null])],
      [1, field([0, [1, 2 ** 32, "eu", 1], null])],
      [1, field([0, stamp, "not binary"])],
      [1, field([1, [0, 0, ""], new Uint8Array([0xff, 0xff, 0xff]), [stamp]])],
      [2, [[-5, 1, stamp]]],
      [5, [-1, stamp]],
      [6, ["", stamp]],
      [6, [42, stamp]],
    ];
    for (const [index, value] of bad) {
      expect(decodeOrRefuse(repairWith(index, value))).toBeInstanceOf(DecodeError);
    }
    expect(decodeOrRefuse(repairWith(1, field([0, stamp, null])))).not.toBeInstanceOf(DecodeError);
  });

  it("refuses purged ids that break their rules", () => {
    const purgedWith = (item: unknown) =>
      packValue([PROTOCOL_VERSION, TAGS["sync-purged"], 1, 0, [item]]);
    const id = "AAAAAAAAAAAAAAAA";
    for (const item of [
      ["short", ["eu", 1]],
      [id, ["eu", 0]],
      [id, ["bad node!", 1]],
      [id, ["eu"]],
      [id, "eu"],
      [id],
      [id, ["eu", 1], 3],
      id,
    ]) {
      expect(decodeOrRefuse(purgedWith(item))).toBeInstanceOf(DecodeError);
    }
    expect(decodeOrRefuse(purgedWith([id, ["eu", 1]]))).not.toBeInstanceOf(DecodeError);
    expect(decodeOrRefuse(purgedWith([id, null]))).not.toBeInstanceOf(DecodeError);
  });

  it("refuses lifetime lists that are not canonical: empty, e <= t, unsorted, nested, too many", () => {
    const life = (from: unknown, until: unknown) => [from, until, stamp];
    const bad: unknown[] = [
      [],
      [life(5, 5)],
      [life(6, 5)],
      [life(-1, 5)],
      [life(1.5, 5)],
      [life(5, 9), life(1, 3)],
      [life(1, 9), life(2, 5)],
      [life(1, 5), life(1, 9)],
      [life(1, 5), life(1, 5)],
      [[1, 5]],
      [[1, 5, stamp, 0]],
      [[1, 5, [1, 0, "eu", 0]]],
      "not a list",
      Array.from({ length: MAX_LIFETIMES + 1 }, (_, i) => life(i, i + 1)),
    ];
    for (const value of bad) {
      expect(decodeOrRefuse(repairWith(2, value))).toBeInstanceOf(DecodeError);
    }
    const good = [[life(1, 5)], [life(1, 5), life(3, 9), life(20, 30)], null];
    for (const value of good) {
      expect(decodeOrRefuse(repairWith(2, value))).not.toBeInstanceOf(DecodeError);
    }
    const most = Array.from({ length: MAX_LIFETIMES }, (_, i) => life(i, i + 1));
    expect(decodeOrRefuse(repairWith(2, most))).not.toBeInstanceOf(DecodeError);
  });

  it("regression: refuses a user id with control characters", () => {
    // The codec only checked the length of a user id, not isUserId's other rules.
    expect(isUserId("ada\u0007")).toBe(false);
    expect(decodeOrRefuse(repairWith(6, ["ada\u0007", stamp]))).toBeInstanceOf(DecodeError);
    expect(decodeOrRefuse(repairWith(6, ["ada", stamp]))).not.toBeInstanceOf(DecodeError);
  });

  it("regression: refuses a Yjs epoch whose node is a bare NUL", () => {
    // An epoch node is "", a node id, or a node id plus NUL; "\0" alone slipped through.
    const epoch = (node: string) =>
      repairWith(1, field([1, [3, 0, node], new Uint8Array([0, 0]), [stamp]]));
    expect(decodeOrRefuse(epoch("\u0000"))).toBeInstanceOf(DecodeError);
    expect(decodeOrRefuse(epoch("eu\u0000\u0000"))).toBeInstanceOf(DecodeError);
    for (const ok of ["", "eu", "eu\u0000"]) {
      expect(decodeOrRefuse(epoch(ok))).not.toBeInstanceOf(DecodeError);
    }
  });

  it("regression: field names and user ids are well-formed Unicode, so they survive the wire", () => {
    // msgpack carries UTF-8: a lone surrogate came back as U+FFFD, so the replica that took the
    // write and its peers held the field under different names.
    expect(isFieldName("a\ud800")).toBe(false);
    expect(isFieldName("\udc00b")).toBe(false);
    expect(isUserId("\ud800")).toBe(false);
    expect(isFieldName("a\ud83d\ude00")).toBe(true);
    const anyUtf16 = fc.string({
      unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
      maxLength: 12,
    });
    fc.assert(
      fc.property(anyUtf16, (s) => {
        if (isFieldName(s) || isUserId(s)) expect(unpackValue(packValue(s))).toBe(s);
      }),
      { numRuns: 1000, seed: fcSeed() },
    );
  });
});
