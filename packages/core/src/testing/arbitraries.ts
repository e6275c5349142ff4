/**
 * fast-check arbitraries for the data model: session ids, whole writes (deltas), their delivery
 * in any order, and version vectors with gaps. Shared by the storage conformance suite and the
 * core property tests.
 *
 * @remarks Every generated delta is a whole write: each register in `delta.session` carries a
 * stamp whose dot is `delta.dot`. Distinct deltas have distinct dots, and each origin's writes
 * have consecutive sequence numbers (from 1) and strictly increasing timestamps, as a real node
 * issues them, so no two distinct writes ever share a timestamp.
 */
import fc from "fast-check";
import * as Y from "yjs";
import { packValue } from "../codec.ts";
import type { Delta } from "../delta.ts";
import type { Stamp } from "../dot.ts";
import { HLC_ZERO, type Hlc } from "../hlc.ts";
import type { FieldRegister } from "../register.ts";
import { type SessionState, sessionStamps } from "../session.ts";
import { VersionVector } from "../version-vector.ts";

/** The node ids the arbitraries use unless told otherwise. */
export const TEST_ORIGINS: readonly string[] = ["eu", "us", "ap"];

/** Field names the arbitraries draw from: few, so that writes collide on the same fields. */
export const TEST_FIELDS: readonly string[] = ["a", "b", "cart", "draft", "名前"];

/** User ids the arbitraries draw from. */
export const TEST_USERS: readonly string[] = ["alice", "bob"];

/** Physical time (ms) around which generated timestamps start. */
export const TEST_EPOCH_MS = 1_700_000_000_000;

/** Any valid session id: `[A-Za-z0-9_-]{16,24}`. */
export function sessionIdArb(): fc.Arbitrary<string> {
  return fc.stringMatching(/^[A-Za-z0-9_-]{16,24}$/);
}

/**
 * A Yjs update made by a fresh document with client id `clientId` that appends `text` to the
 * shared array `"items"`. Updates from distinct client ids merge without conflict.
 */
export function yjsUpdate(clientId: number, text: string): Uint8Array {
  const doc = new Y.Doc({ gc: false });
  doc.clientID = clientId;
  doc.getArray<string>("items").push([text]);
  const update = Y.encodeStateAsUpdate(doc);
  doc.destroy();
  return update;
}

/** The strings in the `"items"` array of the Yjs document a Yjs update describes. */
export function yjsItems(update: Uint8Array): string[] {
  const doc = new Y.Doc({ gc: false });
  Y.applyUpdate(doc, update);
  const items = doc.getArray<string>("items").toArray();
  doc.destroy();
  return items;
}

/** Options of {@link deltasArb}. */
export interface DeltasArbOptions {
  /** Origins that write (default {@link TEST_ORIGINS}). */
  readonly origins?: readonly string[];
  /** Most writes per origin (default 6). */
  readonly maxWritesPerOrigin?: number;
  /** Most distinct sessions the writes touch (default 4); few, so that writes collide. */
  readonly maxSessions?: number;
  /** Whether fields may hold Yjs registers (default true). */
  readonly yjs?: boolean;
}

/** What one write does, before it gets its stamp. */
interface WriteShape {
  readonly session: number;
  readonly fields: readonly (readonly [string, FieldShape])[];
  /** `[from, length]` of the lifetime the write gives, relative to the test epoch. */
  readonly lifetime: readonly [number, number] | undefined;
  readonly lastAccess: number | undefined;
  readonly deadline: number | undefined;
  readonly idleMs: number | null | undefined;
  readonly userId: string | null | undefined;
  readonly deleted: boolean;
}

type FieldShape =
  | { readonly kind: "value"; readonly value: Uint8Array | null }
  | { readonly kind: "yjs"; readonly epoch: 0 | 1; readonly text: string };

/** Present one time in `oneIn`, else undefined. */
function sometimes<T>(arb: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | undefined> {
  return fc.oneof(
    { arbitrary: fc.constant(undefined), weight: oneIn - 1 },
    { arbitrary: arb, weight: 1 },
  );
}

const fieldValueArb: fc.Arbitrary<Uint8Array | null> = fc.oneof(
  { arbitrary: fc.constant(null), weight: 1 },
  {
    arbitrary: fc
      .oneof(
        fc.integer(),
        fc.string({ maxLength: 8 }),
        fc.boolean(),
        fc.array(fc.integer({ min: 0, max: 99 }), { maxLength: 3 }),
      )
      .map((v) => packValue(v)),
    weight: 4,
  },
);

function fieldShapeArb(yjs: boolean): fc.Arbitrary<FieldShape> {
  const value = fieldValueArb.map((v): FieldShape => ({ kind: "value", value: v }));
  if (!yjs) return value;
  const doc = fc
    .record({ epoch: fc.constantFrom<0 | 1>(0, 1), text: fc.string({ maxLength: 4 }) })
    .map((y): FieldShape => ({ kind: "yjs", ...y }));
  return fc.oneof({ arbitrary: value, weight: 3 }, { arbitrary: doc, weight: 1 });
}

// Times collide on purpose (small range) so that ties between registers get exercised.
const timeArb = fc.integer({ min: TEST_EPOCH_MS, max: TEST_EPOCH_MS + 5 });

function writeShapeArb(maxSessions: number, yjs: boolean): fc.Arbitrary<WriteShape> {
  return fc.record({
    session: fc.nat({ max: maxSessions - 1 }),
    fields: fc.uniqueArray(fc.tuple(fc.constantFrom(...TEST_FIELDS), fieldShapeArb(yjs)), {
      maxLength: 3,
      selector: ([name]) => name,
    }),
    // Short lifetimes over a short span: they overlap, touch and leave gaps, so that the
    // lifetime join sees disjoint runs and late writes that bridge them.
    lifetime: sometimes(fc.tuple(fc.nat({ max: 8 }), fc.integer({ min: 1, max: 4 })), 3),
    lastAccess: sometimes(timeArb, 3),
    deadline: sometimes(timeArb, 6),
    idleMs: sometimes(fc.option(fc.integer({ min: 1, max: 10 }), { nil: null }), 6),
    userId: sometimes(fc.option(fc.constantFrom(...TEST_USERS), { nil: null }), 4),
    deleted: fc.nat({ max: 5 }).map((n) => n === 0),
  });
}

/** A second Yjs epoch, as derived from a reset at a value write of "eu" (see `yjsEpochAfter`). */
const RESET_EPOCH: Hlc = { wall: TEST_EPOCH_MS + 2, logical: 0, node: "eu\u0000" };

function buildDelta(
  shape: WriteShape,
  ids: readonly string[],
  stamp: Stamp,
  client: number,
): Delta {
  const fields = new Map<string, FieldRegister>();
  for (const [name, f] of shape.fields) {
    if (f.kind === "value") fields.set(name, { kind: "value", stamp, value: f.value });
    else {
      const epoch = f.epoch === 0 ? HLC_ZERO : RESET_EPOCH;
      fields.set(name, { kind: "yjs", epoch, update: yjsUpdate(client, f.text), stamps: [stamp] });
    }
  }
  const s: { -readonly [K in keyof SessionState]: SessionState[K] } = {
    id: ids[shape.session % ids.length]!,
    fields,
  };
  if (shape.lifetime !== undefined) {
    const from = TEST_EPOCH_MS + shape.lifetime[0];
    s.lifetimes = [{ from, until: from + shape.lifetime[1], stamp }];
  }
  if (shape.lastAccess !== undefined) s.lastAccess = { at: shape.lastAccess, stamp };
  if (shape.deadline !== undefined) s.deadline = { at: shape.deadline, stamp };
  if (shape.idleMs !== undefined) s.idleMs = { value: shape.idleMs, stamp };
  if (shape.userId !== undefined) s.userId = { value: shape.userId, stamp };
  if (shape.deleted) s.deleted = stamp;
  // A write always changes something: give an otherwise empty one a field.
  if (sessionStamps(s).length === 0) fields.set("a", { kind: "value", stamp, value: null });
  return { dot: { origin: stamp.hlc.node, seq: stamp.seq }, session: s };
}

/**
 * A set of whole writes from several origins, origin by origin in sequence order (shuffle them
 * with {@link deliveryArb}).
 *
 * @remarks Origin `o` writes seq 1..n with strictly increasing hlc; walls of different origins
 * overlap so that the node id tie-break gets exercised. Writes touch at most `maxSessions`
 * sessions and a handful of field names, so they collide. Yjs writes use client id
 * `(origin index + 1) * 1_000_000 + seq`, unique per write.
 */
export function deltasArb(options: DeltasArbOptions = {}): fc.Arbitrary<Delta[]> {
  const origins = options.origins ?? TEST_ORIGINS;
  const maxWrites = options.maxWritesPerOrigin ?? 6;
  const maxSessions = options.maxSessions ?? 4;
  const write = fc.tuple(writeShapeArb(maxSessions, options.yjs ?? true), fc.nat({ max: 2 }));
  return fc
    .tuple(
      fc.uniqueArray(sessionIdArb(), { minLength: 1, maxLength: maxSessions }),
      fc.tuple(...origins.map(() => fc.array(write, { maxLength: maxWrites }))),
    )
    .map(([ids, perOrigin]) => {
      const out: Delta[] = [];
      perOrigin.forEach((writes, o) => {
        const node = origins[o]!;
        let wall = TEST_EPOCH_MS;
        let logical = 0;
        writes.forEach(([shape, step], i) => {
          if (step === 0) logical += 1;
          else {
            wall += step;
            logical = 0;
          }
          const stamp: Stamp = { hlc: { wall, logical, node }, seq: i + 1 };
          out.push(buildDelta(shape, ids, stamp, (o + 1) * 1_000_000 + i + 1));
        });
      });
      return out;
    });
}

/**
 * One way `deltas` may arrive: every delta at least once, some twice, in any order, split into
 * batches of 1 to 4.
 */
export function deliveryArb(deltas: readonly Delta[]): fc.Arbitrary<Delta[][]> {
  if (deltas.length === 0) return fc.constant([]);
  const index = fc.nat({ max: deltas.length - 1 });
  return fc
    .array(index, { maxLength: deltas.length })
    .chain((dups) => {
      const all = [...deltas.keys(), ...dups];
      return fc.tuple(
        fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }),
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: all.length, maxLength: all.length }),
      );
    })
    .map(([order, sizes]) => {
      const batches: Delta[][] = [];
      let at = 0;
      for (const size of sizes) {
        if (at >= order.length) break;
        batches.push(order.slice(at, at + size).map((i) => deltas[i]!));
        at += size;
      }
      return batches;
    });
}

/** Options of {@link versionVectorArb}. */
export interface VersionVectorArbOptions {
  /** Origins the vector may know (default {@link TEST_ORIGINS}). */
  readonly origins?: readonly string[];
  /** Highest sequence number it may cover (default 6, matching {@link deltasArb}). */
  readonly maxSeq?: number;
}

/** A version vector with a contiguous base per origin plus scattered writes above it (gaps). */
export function versionVectorArb(
  options: VersionVectorArbOptions = {},
): fc.Arbitrary<VersionVector> {
  const origins = options.origins ?? TEST_ORIGINS;
  const maxSeq = options.maxSeq ?? 6;
  const coverage = fc.tuple(
    fc.nat({ max: maxSeq }),
    fc.array(fc.integer({ min: 1, max: maxSeq }), { maxLength: maxSeq }),
  );
  return fc.tuple(...origins.map(() => coverage)).map((perOrigin) => {
    const vv = new VersionVector();
    perOrigin.forEach(([base, seqs], o) => {
      const origin = origins[o]!;
      vv.addRange(origin, 1, base);
      for (const seq of seqs) vv.add({ origin, seq });
    });
    return vv;
  });
}
