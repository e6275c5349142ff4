/**
 * Small builders and comparisons for hand-written store tests: stamps, whole-write deltas, and
 * canonical views of sessions that compare equal exactly when the states are equal.
 */
import { packValue, unpackValue } from "../codec.ts";
import type { Delta } from "../delta.ts";
import { sessionBytes } from "../digest.ts";
import type { Stamp } from "../dot.ts";
import { legacyLifetime } from "../lifetime.ts";
import { MemoryStore } from "../memory-store.ts";
import type { FieldRegister, YjsRegister } from "../register.ts";
import type { SessionState } from "../session.ts";
import type { Store } from "../store.ts";
import { TEST_EPOCH_MS } from "./arbitraries.ts";

/**
 * A session id valid under the id rules, derived from a tag of letters and digits; distinct tags
 * give distinct ids, ordered as the tags are.
 */
export function testSessionId(tag: string): string {
  return `sess_${tag}`.padEnd(16, "-");
}

/** The stamp of write `seq` of `origin`, at wall `TEST_EPOCH_MS + wall` (default `seq`). */
export function testStamp(origin: string, seq: number, wall = seq, logical = 0): Stamp {
  return { hlc: { wall: TEST_EPOCH_MS + wall, logical, node: origin }, seq };
}

/** The session part of a write, without its stamp: fields to set (`null` unsets) and metadata. */
export interface TestWrite {
  readonly set?: Readonly<Record<string, unknown>>;
  /** Yjs fields: the document update and the epoch it belongs to. */
  readonly yjs?: Readonly<Record<string, Pick<YjsRegister, "epoch" | "update">>>;
  /** An expiry, as the lifetime `[min(wall, at - 1), at]` (see `legacyLifetime`). */
  readonly expiresAt?: number;
  /** A lifetime `[from, until]`, when the test needs its start. */
  readonly lifetime?: readonly [from: number, until: number];
  readonly lastAccess?: number;
  readonly deadline?: number;
  readonly idleMs?: number | null;
  readonly userId?: string | null;
  readonly deleted?: boolean;
}

/** A whole-write delta: every register it carries has `stamp`, and its dot is the stamp's. */
export function testDelta(id: string, stamp: Stamp, write: TestWrite): Delta {
  const fields = new Map<string, FieldRegister>();
  for (const [name, value] of Object.entries(write.set ?? {})) {
    fields.set(name, { kind: "value", stamp, value: value === null ? null : packValue(value) });
  }
  for (const [name, doc] of Object.entries(write.yjs ?? {})) {
    fields.set(name, { kind: "yjs", epoch: doc.epoch, update: doc.update, stamps: [stamp] });
  }
  const s: { -readonly [K in keyof SessionState]: SessionState[K] } = { id, fields };
  if (write.expiresAt !== undefined) s.lifetimes = [legacyLifetime(write.expiresAt, stamp)];
  if (write.lifetime !== undefined) {
    s.lifetimes = [{ from: write.lifetime[0], until: write.lifetime[1], stamp }];
  }
  if (write.lastAccess !== undefined) s.lastAccess = { at: write.lastAccess, stamp };
  if (write.deadline !== undefined) s.deadline = { at: write.deadline, stamp };
  if (write.idleMs !== undefined) s.idleMs = { value: write.idleMs, stamp };
  if (write.userId !== undefined) s.userId = { value: write.userId, stamp };
  if (write.deleted === true) s.deleted = stamp;
  return { dot: { origin: stamp.hlc.node, seq: stamp.seq }, session: s };
}

/**
 * The canonical wire form of a session (or `undefined`), decoded back into plain arrays: two
 * states are equal exactly when their canonical forms are deeply equal, whatever byte-array
 * class or field order an implementation returns.
 */
export function canonical(s: SessionState | undefined): unknown {
  return s === undefined ? undefined : unpackValue(sessionBytes(s));
}

/** Canonical forms of every session of a store, in id order. */
export function canonicalAll(store: Store): unknown[] {
  return [...store.allSessions()].map(canonical);
}

/** A {@link MemoryStore} that has applied `batches` of deltas, as the reference to compare with. */
export function referenceStore(batches: readonly (readonly Delta[])[]): MemoryStore {
  const ref = new MemoryStore();
  for (const batch of batches) ref.applyDeltas(batch);
  return ref;
}

/** The value a value register holds, unpacked; `null` when unset, `undefined` when absent. */
export function fieldValue(s: SessionState | undefined, name: string): unknown {
  const reg = s?.fields.get(name);
  if (reg === undefined) return undefined;
  if (reg.kind !== "value") throw new Error(`field ${name} is a ${reg.kind} register`);
  return reg.value === null ? null : unpackValue(reg.value);
}
