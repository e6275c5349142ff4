import { Packr } from "msgpackr";
import type { Delta } from "./delta.ts";
import type { Dot, Stamp } from "./dot.ts";
import { DecodeError } from "./errors.ts";
import type { Hlc } from "./hlc.ts";
import {
  isCanonicalLifetimes,
  type Lifetime,
  type LifetimeRegister,
  MAX_LIFETIMES,
} from "./lifetime.ts";
import { PROTOCOL_VERSION, type PeerMessage } from "./messages.ts";
import { msgpackArrayHeader } from "./msgpack-header.ts";
import type { PurgedId } from "./purged.ts";
import { type FieldRegister, isYjsUpdate } from "./register.ts";
import type { MetaRegister, SessionState, TimeRegister } from "./session.ts";
import { isFieldName, isNodeId, isSessionId, isUserId } from "./validate.ts";
import { VersionVector } from "./version-vector.ts";

/** Limits the decoder enforces before and while parsing. */
export interface DecodeLimits {
  /** Largest encoded message accepted (default 16 MiB). */
  readonly maxBytes: number;
}

const DEFAULT_LIMITS: DecodeLimits = { maxBytes: 16 * 1024 * 1024 };

const packr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false });

const TAGS = {
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
} as const satisfies Record<PeerMessage["type"], number>;

// ---------------------------------------------------------------------------------------------
// Encoding: messages become positional arrays, then msgpack.

type Wire = unknown[];

const hlcOut = (h: Hlc): Wire => [h.wall, h.logical, h.node];
const stampOut = (s: Stamp): Wire => [s.hlc.wall, s.hlc.logical, s.hlc.node, s.seq];
const dotOut = (d: Dot): Wire => [d.origin, d.seq];
const timeOut = (t: TimeRegister | undefined): Wire | null =>
  t === undefined ? null : [t.at, stampOut(t.stamp)];
const lifetimesOut = (r: LifetimeRegister | undefined): Wire | null =>
  r === undefined ? null : r.map((l) => [l.from, l.until, stampOut(l.stamp)]);
const metaOut = <T>(m: MetaRegister<T> | undefined): Wire | null =>
  m === undefined ? null : [m.value, stampOut(m.stamp)];

function registerOut(r: FieldRegister): Wire {
  return r.kind === "value"
    ? [0, stampOut(r.stamp), r.value]
    : [1, hlcOut(r.epoch), r.update, r.stamps.map(stampOut)];
}

/** The positional wire form of a session state; also its canonical form for digests. */
export function sessionToWire(s: SessionState): Wire {
  const names = [...s.fields.keys()].sort();
  return [
    s.id,
    names.map((n) => [n, registerOut(s.fields.get(n)!)]),
    lifetimesOut(s.lifetimes),
    timeOut(s.lastAccess),
    timeOut(s.deadline),
    metaOut(s.idleMs),
    metaOut(s.userId),
    s.deleted === undefined ? null : stampOut(s.deleted),
  ];
}

const purgedOut = (p: PurgedId): Wire => [p.id, p.dot === null ? null : dotOut(p.dot)];

function vvOut(vv: VersionVector): Wire {
  return [...vv.entries()].map(([o, c]) => [o, c.base, c.ranges.flat()]);
}

function messageOut(m: PeerMessage): Wire {
  switch (m.type) {
    case "hello":
      return [m.protocol, m.nodeId, m.region, m.nonce];
    case "auth":
      return [m.proof];
    case "welcome":
      return [vvOut(m.vv)];
    case "deltas":
      return [m.deltas.map((d) => [dotOut(d.dot), sessionToWire(d.session)]), hlcOut(m.sent)];
    case "ack":
      return [m.dots.map(dotOut)];
    case "sync-request":
      return [m.round, vvOut(m.vv)];
    case "sync-chunk":
      return [m.round, m.index, m.sessions.map(sessionToWire)];
    case "sync-purged":
      return [m.round, m.index, m.purged.map(purgedOut)];
    case "sync-done":
      return [m.round, m.chunks, vvOut(m.vv)];
    case "read-request":
      return [m.req, m.id];
    case "read-reply":
      return [m.req, m.session === null ? null : sessionToWire(m.session), vvOut(m.vv)];
    case "repair":
      return [m.sessions.map(sessionToWire)];
    case "ping":
    case "pong":
      return [m.req, hlcOut(m.sent)];
  }
}

/**
 * Encodes a peer message: msgpack of `[protocol, tag, ...fields]`.
 *
 * @remarks `decodeMessage(encodeMessage(m))` equals `m` for every well-formed message. A
 * `deltas` message is put together from its deltas' encodings, each made once per delta object
 * (see {@link encodedDelta}), and a `sync-chunk` from its sessions packed once per array (see
 * {@link encodeSyncChunk}): the same bytes as encoding the message whole.
 */
export function encodeMessage(m: PeerMessage): Uint8Array {
  if (m.type === "deltas") return encodeDeltas(m.deltas, m.sent);
  if (m.type === "sync-chunk") return encodeSyncChunk(m);
  return packr.pack([PROTOCOL_VERSION, TAGS[m.type], ...messageOut(m)]);
}

/** The msgpack encoding of each delta encoded lately, as its `[dot, session]` wire item. */
const deltaItems = new WeakMap<Delta, Uint8Array>();

/**
 * The wire item of `d`, encoded on first use and then remembered as long as `d` lives.
 *
 * @remarks A local write goes to every peer as the same delta object, so each write is encoded
 * once however many peers it is pushed to. Deltas are immutable values, so the bytes stay true.
 */
function encodedDelta(d: Delta): Uint8Array {
  let item = deltaItems.get(d);
  if (item === undefined) {
    item = packr.pack([dotOut(d.dot), sessionToWire(d.session)]);
    deltaItems.set(d, item);
  }
  return item;
}

function encodeDeltas(deltas: readonly Delta[], sent: Hlc): Uint8Array {
  const parts: Uint8Array[] = [
    msgpackArrayHeader(4),
    packr.pack(PROTOCOL_VERSION),
    packr.pack(TAGS.deltas),
    msgpackArrayHeader(deltas.length),
  ];
  for (const d of deltas) parts.push(encodedDelta(d));
  parts.push(packr.pack(hlcOut(sent)));
  return Buffer.concat(parts);
}

/** The packed wire form of the sessions of `sync-chunk` messages, by their array. */
const packedChunks = new WeakMap<readonly SessionState[], Uint8Array>();

/**
 * Encodes a `sync-chunk`, packing its sessions once per array however many messages carry it.
 *
 * @remarks A server serving one extraction to several requesters sends them the same chunk
 * arrays (with their own round and index). Put together like a `deltas` message (an array
 * header, then each element packed): the same bytes as packing the whole message. States are
 * immutable, so the bytes of an array stay right for as long as it lives.
 */
function encodeSyncChunk(m: Extract<PeerMessage, { type: "sync-chunk" }>): Uint8Array {
  let sessions = packedChunks.get(m.sessions);
  if (sessions === undefined) {
    // A copy: msgpackr packs into slices of a shared slab, and a remembered slice would keep the
    // whole slab alive for as long as the chunk lives.
    sessions = new Uint8Array(packr.pack(m.sessions.map(sessionToWire)));
    packedChunks.set(m.sessions, sessions);
  }
  return Buffer.concat([
    msgpackArrayHeader(5),
    packr.pack(PROTOCOL_VERSION),
    packr.pack(TAGS["sync-chunk"]),
    packr.pack(m.round),
    packr.pack(m.index),
    sessions,
  ]);
}

/** Encodes a value with the codec's msgpack settings (field values use this too). */
export function packValue(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Decodes a value packed with {@link packValue}. @throws DecodeError on malformed bytes. */
export function unpackValue(bytes: Uint8Array): unknown {
  try {
    return packr.unpack(bytes);
  } catch (e) {
    throw new DecodeError(`malformed msgpack: ${(e as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding: parse at the edge. Nothing untyped gets past these functions.

function fail(what: string): never {
  throw new DecodeError(`malformed message: ${what}`);
}

// Fast paths: `readStamp(v) ?? stampIn(v, path)` and the like. The readers accept exactly what
// the checking parsers accept and answer undefined for anything else, without a word; the
// checking parser then runs only to say what is wrong, and where. The path of a value in a
// message (`deltas[3].session.fields[0].stamp.wall`) is built only then: building it on the way
// down, for every stamp of every pushed write, cost more than the checks themselves.

const MAX_LOGICAL = 0xffff_ffff;

function isInt(v: unknown, min: number, max: number): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= min && v <= max;
}

/**
 * The node id accepted last (none before the first): nearly every stamp of a message names the
 * same node. Not "" to begin with: that is no node id, and would pass unchecked.
 */
let lastNodeId: string | undefined;

function isNode(v: unknown): v is string {
  if (typeof v !== "string") return false;
  if (v === lastNodeId) return true;
  if (!isNodeId(v)) return false;
  lastNodeId = v;
  return true;
}

function readStamp(v: unknown): Stamp | undefined {
  if (!Array.isArray(v) || v.length !== 4) return undefined;
  const [wall, logical, node, seq] = v;
  if (!isInt(wall, 0, Number.MAX_SAFE_INTEGER) || !isInt(logical, 0, MAX_LOGICAL)) return undefined;
  if (!isNode(node) || !isInt(seq, 1, Number.MAX_SAFE_INTEGER)) return undefined;
  return { hlc: { wall, logical, node }, seq };
}

function readDot(v: unknown): Dot | undefined {
  if (!Array.isArray(v) || v.length !== 2) return undefined;
  const [origin, seq] = v;
  if (!isNode(origin) || !isInt(seq, 1, Number.MAX_SAFE_INTEGER)) return undefined;
  return { origin, seq };
}

/** A value register (`[0, stamp, value]`), the register nearly every write carries. */
function readValueRegister(v: unknown): FieldRegister | undefined {
  if (!Array.isArray(v) || v.length !== 3 || v[0] !== 0) return undefined;
  const value = v[2];
  if (value !== null && !(value instanceof Uint8Array)) return undefined;
  const stamp = readStamp(v[1]);
  return stamp === undefined ? undefined : { kind: "value", stamp, value };
}

function arr(v: unknown, what: string, len?: number): unknown[] {
  if (!Array.isArray(v)) fail(`${what} is not an array`);
  if (len !== undefined && v.length !== len) fail(`${what} has ${v.length} items, wants ${len}`);
  return v;
}

function int(v: unknown, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max) {
    fail(`${what} is not an integer in [${min}, ${max}]`);
  }
  return v;
}

function bytes(v: unknown, what: string): Uint8Array {
  if (!(v instanceof Uint8Array)) fail(`${what} is not binary`);
  return v;
}

function yjsUpdate(v: unknown, what: string): Uint8Array {
  const b = bytes(v, what);
  if (!isYjsUpdate(b)) fail(`${what} is not a Yjs update`);
  return b;
}

function nodeId(v: unknown, what: string): string {
  if (!isNode(v)) fail(`${what} is not a node id`);
  return v;
}

function hlcIn(v: unknown, what: string): Hlc {
  const [wall, logical, node] = arr(v, what, 3);
  return {
    wall: int(wall, `${what}.wall`),
    logical: int(logical, `${what}.logical`, 0, 0xffff_ffff),
    node: nodeId(node, `${what}.node`),
  };
}

function epochIn(v: unknown, what: string): Hlc {
  const [wall, logical, node] = arr(v, what, 3);
  if (typeof node !== "string") fail(`${what}.node is not a string`);
  const base = node.endsWith("\u0000") ? node.slice(0, -1) : node;
  if (node !== "" && !isNodeId(base)) fail(`${what}.node is not an epoch node`);
  return {
    wall: int(wall, `${what}.wall`),
    logical: int(logical, `${what}.logical`, 0, 0xffff_ffff),
    node,
  };
}

function stampIn(v: unknown, what: string): Stamp {
  const [wall, logical, node, seq] = arr(v, what, 4);
  return {
    hlc: {
      wall: int(wall, `${what}.wall`),
      logical: int(logical, `${what}.logical`, 0, 0xffff_ffff),
      node: nodeId(node, `${what}.node`),
    },
    seq: int(seq, `${what}.seq`, 1),
  };
}

function dotIn(v: unknown, what: string): Dot {
  const [origin, seq] = arr(v, what, 2);
  return { origin: nodeId(origin, `${what}.origin`), seq: int(seq, `${what}.seq`, 1) };
}

function timeIn(v: unknown, what: string): TimeRegister | undefined {
  if (v === null) return undefined;
  const [at, stamp] = arr(v, what, 2);
  return {
    at: int(at, `${what}.at`),
    stamp: readStamp(stamp) ?? stampIn(stamp, `${what}.stamp`),
  };
}

/** {@link timeIn} of the register `name` of the session at `what`. */
function timeRegisterIn(v: unknown, what: string, name: string): TimeRegister | undefined {
  if (v === null) return undefined;
  if (Array.isArray(v) && v.length === 2 && isInt(v[0], 0, Number.MAX_SAFE_INTEGER)) {
    const stamp = readStamp(v[1]);
    if (stamp !== undefined) return { at: v[0], stamp };
  }
  return timeIn(v, `${what}.${name}`);
}

function lifetimesIn(v: unknown, what: string): LifetimeRegister | undefined {
  if (v === null) return undefined;
  const list = arr(v, what);
  if (list.length > MAX_LIFETIMES) fail(`${what} has more than ${MAX_LIFETIMES} lifetimes`);
  const out: Lifetime[] = [];
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (Array.isArray(item) && item.length === 3) {
      const [from, until, stamp] = item;
      const s = readStamp(stamp);
      if (
        isInt(from, 0, Number.MAX_SAFE_INTEGER) &&
        isInt(until, 0, Number.MAX_SAFE_INTEGER) &&
        s
      ) {
        out.push({ from, until, stamp: s });
        continue;
      }
    }
    const [from, until, stamp] = arr(item, `${what}[${i}]`, 3);
    out.push({
      from: int(from, `${what}[${i}].from`),
      until: int(until, `${what}[${i}].until`),
      stamp: stampIn(stamp, `${what}[${i}].stamp`),
    });
  }
  if (!isCanonicalLifetimes(out)) {
    fail(`${what} is not canonical (empty, from >= until, unsorted or one inside another)`);
  }
  return out;
}

function registerIn(v: unknown, what: string): FieldRegister {
  const a = arr(v, what);
  if (a[0] === 0 && a.length === 3) {
    const value = a[2] === null ? null : bytes(a[2], `${what}.value`);
    return { kind: "value", stamp: stampIn(a[1], `${what}.stamp`), value };
  }
  if (a[0] === 1 && a.length === 4) {
    const stamps = arr(a[3], `${what}.stamps`).map((s, i) => stampIn(s, `${what}.stamps[${i}]`));
    if (stamps.length === 0) fail(`${what}.stamps is empty`);
    return {
      kind: "yjs",
      epoch: epochIn(a[1], `${what}.epoch`),
      update: yjsUpdate(a[2], `${what}.update`),
      stamps,
    };
  }
  fail(`${what} is not a register`);
}

/** Parses the positional wire form of a session state. @throws DecodeError */
export function sessionFromWire(v: unknown, what = "session"): SessionState {
  const [id, fieldList, exp, last, deadline, idle, user, deleted] = arr(v, what, 8);
  if (typeof id !== "string" || !isSessionId(id)) fail(`${what}.id is not a session id`);
  const fields = new Map<string, FieldRegister>();
  const list = arr(fieldList, `${what}.fields`);
  for (let i = 0; i < list.length; i++) {
    const entry = list[i];
    const [name, reg] =
      Array.isArray(entry) && entry.length === 2 ? entry : arr(entry, `${what}.fields[${i}]`, 2);
    if (typeof name !== "string" || !isFieldName(name)) fail(`${what}.fields[${i}] name`);
    if (fields.has(name)) fail(`${what}.fields has "${name}" twice`);
    fields.set(name, readValueRegister(reg) ?? registerIn(reg, `${what}.fields[${i}]`));
  }
  const out: { -readonly [K in keyof SessionState]: SessionState[K] } = { id, fields };
  const lifetimes = exp === null ? undefined : lifetimesIn(exp, `${what}.lifetimes`);
  const lastAccess = timeRegisterIn(last, what, "lastAccess");
  const dl = timeRegisterIn(deadline, what, "deadline");
  if (lifetimes) out.lifetimes = lifetimes;
  if (lastAccess) out.lastAccess = lastAccess;
  if (dl) out.deadline = dl;
  if (idle !== null) {
    const [value, stamp] = arr(idle, `${what}.idle`, 2);
    out.idleMs = {
      value: value === null ? null : int(value, `${what}.idle.value`),
      stamp: readStamp(stamp) ?? stampIn(stamp, `${what}.idle.stamp`),
    };
  }
  if (user !== null) {
    const [value, stamp] = arr(user, `${what}.userId`, 2);
    if (value !== null && (typeof value !== "string" || !isUserId(value))) {
      fail(`${what}.userId.value`);
    }
    out.userId = { value, stamp: readStamp(stamp) ?? stampIn(stamp, `${what}.userId.stamp`) };
  }
  if (deleted !== null) out.deleted = readStamp(deleted) ?? stampIn(deleted, `${what}.deleted`);
  return out;
}

function vvIn(v: unknown, what: string): VersionVector {
  const entries: [string, { base: number; ranges: [number, number][] }][] = [];
  for (const [i, e] of arr(v, what).entries()) {
    const [origin, base, flat] = arr(e, `${what}[${i}]`, 3);
    const nums = arr(flat, `${what}[${i}].ranges`).map((n) => int(n, `${what}[${i}].range`, 1));
    if (nums.length % 2 !== 0) fail(`${what}[${i}].ranges has odd length`);
    const ranges: [number, number][] = [];
    for (let j = 0; j < nums.length; j += 2) {
      const lo = nums[j]!;
      const hi = nums[j + 1]!;
      if (hi < lo) fail(`${what}[${i}].ranges[${j / 2}] is inverted`);
      ranges.push([lo, hi]);
    }
    entries.push([
      nodeId(origin, `${what}[${i}].origin`),
      { base: int(base, `${what}[${i}].base`), ranges },
    ]);
  }
  return VersionVector.from(entries);
}

function purgedIn(v: unknown, what: string): PurgedId {
  const [id, dot] = arr(v, what, 2);
  if (typeof id !== "string" || !isSessionId(id)) fail(`${what}.id is not a session id`);
  return { id, dot: dot === null ? null : dotIn(dot, `${what}.dot`) };
}

/** Delta `i` of a `deltas` message. */
function deltaIn(v: unknown, i: number): Delta {
  const [dot, session] = Array.isArray(v) && v.length === 2 ? v : arr(v, `deltas[${i}]`, 2);
  return {
    dot: readDot(dot) ?? dotIn(dot, `deltas[${i}].dot`),
    session: sessionFromWire(session, `deltas[${i}].session`),
  };
}

function messageIn(tag: unknown, f: unknown[]): PeerMessage {
  const need = (n: number) => {
    if (f.length !== n) fail(`tag ${String(tag)} has ${f.length} fields, wants ${n}`);
  };
  switch (tag) {
    case TAGS.hello: {
      need(4);
      const region = f[2];
      if (typeof region !== "string" || !isNodeId(region)) fail("hello.region");
      return {
        type: "hello",
        protocol: int(f[0], "hello.protocol"),
        nodeId: nodeId(f[1], "hello.nodeId"),
        region,
        nonce: bytes(f[3], "hello.nonce"),
      };
    }
    case TAGS.auth:
      need(1);
      return { type: "auth", proof: bytes(f[0], "auth.proof") };
    case TAGS.welcome:
      need(1);
      return { type: "welcome", vv: vvIn(f[0], "welcome.vv") };
    case TAGS.deltas:
      need(2);
      return {
        type: "deltas",
        deltas: arr(f[0], "deltas").map(deltaIn),
        sent: hlcIn(f[1], "deltas.sent"),
      };
    case TAGS.ack:
      need(1);
      return {
        type: "ack",
        dots: arr(f[0], "ack.dots").map((d, i) => readDot(d) ?? dotIn(d, `ack.dots[${i}]`)),
      };
    case TAGS["sync-request"]:
      need(2);
      return { type: "sync-request", round: int(f[0], "round"), vv: vvIn(f[1], "sync-request.vv") };
    case TAGS["sync-chunk"]:
      need(3);
      return {
        type: "sync-chunk",
        round: int(f[0], "round"),
        index: int(f[1], "index"),
        sessions: arr(f[2], "sessions").map((s, i) => sessionFromWire(s, `sessions[${i}]`)),
      };
    case TAGS["sync-purged"]:
      need(3);
      return {
        type: "sync-purged",
        round: int(f[0], "round"),
        index: int(f[1], "index"),
        purged: arr(f[2], "purged").map((p, i) => purgedIn(p, `purged[${i}]`)),
      };
    case TAGS["sync-done"]:
      need(3);
      return {
        type: "sync-done",
        round: int(f[0], "round"),
        chunks: int(f[1], "chunks"),
        vv: vvIn(f[2], "sync-done.vv"),
      };
    case TAGS["read-request"]: {
      need(2);
      const id = f[1];
      if (typeof id !== "string" || !isSessionId(id)) fail("read-request.id");
      return { type: "read-request", req: int(f[0], "req"), id };
    }
    case TAGS["read-reply"]:
      need(3);
      return {
        type: "read-reply",
        req: int(f[0], "req"),
        session: f[1] === null ? null : sessionFromWire(f[1], "read-reply.session"),
        vv: vvIn(f[2], "read-reply.vv"),
      };
    case TAGS.repair:
      need(1);
      return {
        type: "repair",
        sessions: arr(f[0], "sessions").map((s, i) => sessionFromWire(s, `sessions[${i}]`)),
      };
    case TAGS.ping:
    case TAGS.pong:
      need(2);
      return {
        type: tag === TAGS.ping ? "ping" : "pong",
        req: int(f[0], "req"),
        sent: hlcIn(f[1], "sent"),
      };
    default:
      fail(`unknown tag ${String(tag)}`);
  }
}

/**
 * Decodes one peer message.
 *
 * @remarks Refuses oversized, truncated, malformed input, trailing bytes, unknown tags and other
 * protocol versions. Throws {@link DecodeError} and nothing else, whatever the bytes.
 */
export function decodeMessage(
  input: Uint8Array,
  limits: DecodeLimits = DEFAULT_LIMITS,
): PeerMessage {
  if (!(input instanceof Uint8Array)) throw new DecodeError("input is not binary");
  if (input.length > limits.maxBytes) {
    throw new DecodeError(`message of ${input.length} bytes exceeds ${limits.maxBytes}`);
  }
  let values: unknown[];
  try {
    values = packr.unpackMultiple(input) as unknown[];
  } catch (e) {
    throw new DecodeError(`malformed msgpack: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    if (!Array.isArray(values) || values.length !== 1) fail("expected exactly one value");
    const top = arr(values[0], "message");
    if (top.length < 2) fail("message header is truncated");
    if (top[0] !== PROTOCOL_VERSION) {
      throw new DecodeError(`protocol version ${String(top[0])} is not ${PROTOCOL_VERSION}`);
    }
    return messageIn(top[1], top.slice(2));
  } catch (e) {
    if (e instanceof DecodeError) throw e;
    // A stack overflow on absurd nesting, say: still only ever a DecodeError.
    throw new DecodeError(`malformed message: ${e instanceof Error ? e.message : String(e)}`);
  }
}
