import * as Y from "yjs";
import { compareStamp, type Stamp, sameDot, stampDot } from "./dot.ts";
import { compareHlc, type Hlc } from "./hlc.ts";
import { registerMergeOverride } from "./merge-override.ts";

/**
 * A last-writer-wins field: a msgpack-encoded value, or `null` when the field was unset.
 *
 * @remarks The greater stamp (hlc, then origin inside the hlc) wins; an unset is a register like
 * any other, so a delayed older set never brings a field back.
 */
export interface ValueRegister {
  readonly kind: "value";
  readonly stamp: Stamp;
  readonly value: Uint8Array | null;
}

/**
 * A field whose value is a Yjs document, held as one merged Yjs update.
 *
 * @remarks Registers with the same `epoch` merge with Y.mergeUpdates, so concurrent edits from
 * several tabs all survive. A register with a greater epoch, or a value register with a greater
 * hlc, replaces the whole document (a reset). `stamps` lists every write merged into it so that
 * anti-entropy can tell which of them a peer still lacks.
 */
export interface YjsRegister {
  readonly kind: "yjs";
  readonly epoch: Hlc;
  readonly update: Uint8Array;
  readonly stamps: readonly Stamp[];
}

/** One field of a session. */
export type FieldRegister = ValueRegister | YjsRegister;

/** The timestamp a register is ordered by in last-writer-wins comparisons. */
export function registerOrder(reg: FieldRegister): Hlc {
  return reg.kind === "value" ? reg.stamp.hlc : reg.epoch;
}

/** Every write stamp a register carries. */
export function registerStamps(reg: FieldRegister): readonly Stamp[] {
  return reg.kind === "value" ? [reg.stamp] : reg.stamps;
}

/**
 * The epoch a Yjs update should use when the field currently holds `current`.
 *
 * @remarks Updates to an existing Yjs field join its epoch. A first update uses the zero epoch,
 * so concurrent first edits in two regions merge instead of racing. After a value or unset at
 * hlc T the epoch sorts immediately after T (same wall and counter, node id extended with a
 * NUL, which node ids never contain), so every node derives the same epoch from the same reset
 * and their edits merge too.
 */
export function yjsEpochAfter(current: FieldRegister | undefined): Hlc {
  if (current === undefined) return { wall: 0, logical: 0, node: "" };
  if (current.kind === "yjs") return current.epoch;
  const t = current.stamp.hlc;
  return { wall: t.wall, logical: t.logical, node: `${t.node}\u0000` };
}

/**
 * Joins two registers of the same field.
 *
 * @remarks Commutative, associative and idempotent: the result depends only on the set of
 * writes, never on the order or grouping in which they arrive.
 */
export function mergeRegister(a: FieldRegister, b: FieldRegister): FieldRegister {
  if (registerMergeOverride !== undefined) return registerMergeOverride(a, b);
  const order = compareHlc(registerOrder(a), registerOrder(b));
  if (a.kind === "yjs" && b.kind === "yjs" && order === 0) return mergeYjs(a, b);
  if (order !== 0) return order > 0 ? a : b;
  // Same order key: a value write at T and a Yjs epoch derived from T differ in node, so equal
  // order keys here mean two copies of the same value write. Keep a deterministic one.
  if (a.kind === "value" && b.kind === "value") return compareStamp(a.stamp, b.stamp) >= 0 ? a : b;
  return a.kind === "value" ? a : b;
}

function mergeYjs(a: YjsRegister, b: YjsRegister): YjsRegister {
  const stamps = [...a.stamps];
  let added = false;
  for (const s of b.stamps) {
    const dot = stampDot(s);
    if (!stamps.some((t) => sameDot(stampDot(t), dot))) {
      stamps.push(s);
      added = true;
    }
  }
  if (!added) return a.stamps.length >= b.stamps.length ? a : b;
  stamps.sort(compareStamp);
  return { kind: "yjs", epoch: a.epoch, update: canonicalYjs([a.update, b.update]), stamps };
}

/**
 * Merges Yjs updates into one canonical update: the same set of edits always yields the same
 * bytes, whatever order they were merged in (digests compare replicas byte for byte).
 *
 * @remarks The document garbage-collects: without gc it keeps deleted content only when that
 * content arrived before its deletion, so the bytes would depend on delivery order.
 */
export function canonicalYjs(updates: readonly Uint8Array[]): Uint8Array {
  const doc = new Y.Doc({ gc: true });
  for (const u of updates) Y.applyUpdate(doc, u);
  const out = Y.encodeStateAsUpdate(doc);
  doc.destroy();
  return out;
}

/**
 * Whether `bytes` parse as a Yjs update.
 *
 * @remarks Checked at every edge before an update reaches {@link canonicalYjs}: applying
 * malformed bytes can spin for a long time before Yjs throws, while decoding refuses them fast.
 */
export function isYjsUpdate(bytes: Uint8Array): boolean {
  try {
    Y.decodeUpdate(bytes);
    return true;
  } catch {
    return false;
  }
}
