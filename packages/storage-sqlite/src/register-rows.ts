import {
  compareStamp,
  type FieldRegister,
  type Hlc,
  type Lifetime,
  type LifetimeRegister,
  type MetaRegister,
  packValue,
  registerStamps,
  type SessionState,
  type Stamp,
  type TimeRegister,
  unpackValue,
} from "@meridian/core";
import { StorageCorruptError } from "./errors.ts";
import type { RowProtection } from "./row-protection.ts";

/**
 * Keys of the metadata registers in the `registers` table.
 *
 * @remarks Field names never contain NUL (see `isFieldName`), so keys starting with NUL can
 * never collide with a field.
 */
export const META_KEYS = {
  /** The lifetime register (named for the single expiry time it held in schema 1). */
  expiresAt: "\u0000exp",
  lastAccess: "\u0000last",
  deadline: "\u0000dl",
  idleMs: "\u0000idle",
  userId: "\u0000user",
  deleted: "\u0000del",
} as const;

/** How a row's payload is shaped: a field's value, a field's Yjs document, or metadata. */
export type RowKind = "value" | "yjs" | "meta";

/**
 * Whether a row's payload is secret and so sealed when the store has a keyring: field values,
 * Yjs documents and the userId.
 *
 * @remarks The other metadata (expiry times, idle timeout, the delete stamp) are times and
 * stamps, not user data, and stay readable by the expiry sweep without a key.
 */
export function isSecretRow(kind: string, key: string): boolean {
  return kind !== "meta" || key === META_KEYS.userId;
}

/**
 * One register as stored: its key, kind, the dot of its newest write, and its msgpack payload.
 *
 * @remarks `(origin, seq)` is the dot of the register's stamp (the newest one for a Yjs or
 * lifetime register, whose every stamp is also listed in `register_stamps`); the index on it is
 * what lets extraction find what a peer lacks without scanning.
 */
export interface RegisterRow {
  readonly key: string;
  readonly kind: RowKind;
  readonly origin: string;
  readonly seq: number;
  readonly payload: Uint8Array;
}

/** A row as read back: the columns that rebuild the register. */
export interface StoredRow {
  readonly key: string;
  readonly kind: string;
  readonly payload: Uint8Array;
}

/** A stamp as stored in payloads. */
export type StampTuple = [wall: number, logical: number, node: string, seq: number];

const stampOut = (s: Stamp): StampTuple => [s.hlc.wall, s.hlc.logical, s.hlc.node, s.seq];

/** Reads a stored stamp. */
export const stampIn = (t: StampTuple): Stamp => ({
  hlc: { wall: t[0], logical: t[1], node: t[2] },
  seq: t[3],
});

type LifetimeTuple = [from: number, until: number, stamp: StampTuple];

/** The stored form of a lifetime register: `[[from, until, stamp]+]`, in canonical order. */
export const lifetimesOut = (reg: LifetimeRegister): LifetimeTuple[] =>
  reg.map((l) => [l.from, l.until, stampOut(l.stamp)]);

const lifetimesIn = (t: LifetimeTuple[]): Lifetime[] =>
  t.map(([from, until, stamp]) => ({ from, until, stamp: stampIn(stamp) }));
const hlcOut = (h: Hlc): [number, number, string] => [h.wall, h.logical, h.node];
const hlcIn = (t: [number, number, string]): Hlc => ({ wall: t[0], logical: t[1], node: t[2] });

function row(key: string, kind: RowKind, stamp: Stamp, payload: unknown): RegisterRow {
  return { key, kind, origin: stamp.hlc.node, seq: stamp.seq, payload: packValue(payload) };
}

/** The newest of a Yjs or lifetime register's stamps. */
function newestStamp(stamps: readonly Stamp[]): Stamp {
  let newest = stamps[0];
  if (newest === undefined) throw new StorageCorruptError("a register without stamps");
  for (const s of stamps) if (compareStamp(s, newest) > 0) newest = s;
  return newest;
}

/** The row of field `name`. */
function fieldRow(name: string, reg: FieldRegister): RegisterRow {
  if (reg.kind === "value") return row(name, "value", reg.stamp, [stampOut(reg.stamp), reg.value]);
  const stamps = registerStamps(reg);
  return row(name, "yjs", newestStamp(stamps), [
    hlcOut(reg.epoch),
    reg.update,
    stamps.map(stampOut),
  ]);
}

const timeRow = (key: string, t: TimeRegister) =>
  row(key, "meta", t.stamp, [t.at, stampOut(t.stamp)]);
const metaRow = <T>(key: string, m: MetaRegister<T>) =>
  row(key, "meta", m.stamp, [m.value, stampOut(m.stamp)]);

/**
 * The rows of `after` that differ from `before`: what to write back after a merge.
 *
 * @remarks Change is detected by identity: `mergeSession(before, x)` returns `before`'s own
 * register objects wherever `before` wins, so an unchanged register is never rewritten. A
 * register that changed but compares equal would only cost a redundant write.
 */
export function changedRows(before: SessionState | undefined, after: SessionState): RegisterRow[] {
  const out: RegisterRow[] = [];
  for (const [name, reg] of after.fields) {
    if (before?.fields.get(name) !== reg) out.push(fieldRow(name, reg));
  }
  const m = META_KEYS;
  if (after.lifetimes && after.lifetimes !== before?.lifetimes) {
    const newest = newestStamp(after.lifetimes.map((l) => l.stamp));
    out.push(row(m.expiresAt, "meta", newest, lifetimesOut(after.lifetimes)));
  }
  if (after.lastAccess && after.lastAccess !== before?.lastAccess)
    out.push(timeRow(m.lastAccess, after.lastAccess));
  if (after.deadline && after.deadline !== before?.deadline)
    out.push(timeRow(m.deadline, after.deadline));
  if (after.idleMs && after.idleMs !== before?.idleMs) out.push(metaRow(m.idleMs, after.idleMs));
  if (after.userId && after.userId !== before?.userId) out.push(metaRow(m.userId, after.userId));
  if (after.deleted && after.deleted !== before?.deleted) {
    out.push(row(m.deleted, "meta", after.deleted, stampOut(after.deleted)));
  }
  return out;
}

/**
 * Rebuilds a session from its rows (any order), opening secret payloads with `protection`.
 *
 * @remarks @throws UnknownKeyError, DecryptError or PlaintextValueError from `protection`: a
 * payload that does not open is never decoded as something else.
 */
export function sessionFromRows(
  id: string,
  rows: Iterable<StoredRow>,
  protection: RowProtection,
  adoptPlaintext = false,
): SessionState {
  const fields = new Map<string, FieldRegister>();
  const s: { -readonly [K in keyof SessionState]: SessionState[K] } = { id, fields };
  for (const r of rows) {
    const bytes = isSecretRow(r.kind, r.key)
      ? protection.open(r.payload, id, r.key, adoptPlaintext)
      : r.payload;
    const p = unpackValue(bytes) as never;
    if (r.kind === "value") {
      const [stamp, value] = p as [StampTuple, Uint8Array | null];
      fields.set(r.key, { kind: "value", stamp: stampIn(stamp), value });
      continue;
    }
    if (r.kind === "yjs") {
      const [epoch, update, stamps] = p as [[number, number, string], Uint8Array, StampTuple[]];
      fields.set(r.key, { kind: "yjs", epoch: hlcIn(epoch), update, stamps: stamps.map(stampIn) });
      continue;
    }
    switch (r.key) {
      case META_KEYS.expiresAt:
        s.lifetimes = lifetimesIn(p as LifetimeTuple[]);
        break;
      case META_KEYS.lastAccess:
      case META_KEYS.deadline: {
        const [at, stamp] = p as [number, StampTuple];
        const t = { at, stamp: stampIn(stamp) };
        if (r.key === META_KEYS.lastAccess) s.lastAccess = t;
        else s.deadline = t;
        break;
      }
      case META_KEYS.idleMs: {
        const [value, stamp] = p as [number | null, StampTuple];
        s.idleMs = { value, stamp: stampIn(stamp) };
        break;
      }
      case META_KEYS.userId: {
        const [value, stamp] = p as [string | null, StampTuple];
        s.userId = { value, stamp: stampIn(stamp) };
        break;
      }
      case META_KEYS.deleted:
        s.deleted = stampIn(p as StampTuple);
        break;
      default:
        throw new StorageCorruptError(`unknown register ${JSON.stringify(r.key)} in session ${id}`);
    }
  }
  return s;
}

/** A session's rows as a query returns them; `key` is null for a session without registers. */
export interface JoinedRow {
  readonly id: string;
  readonly key: string | null;
  readonly kind: string | null;
  readonly payload: Uint8Array | null;
}

/** Rebuilds sessions from joined rows ordered by session id; see {@link sessionFromRows}. */
export function sessionsFromJoinedRows(
  rows: readonly JoinedRow[],
  protection: RowProtection,
): SessionState[] {
  const out: SessionState[] = [];
  let i = 0;
  while (i < rows.length) {
    const id = rows[i]!.id;
    const own: StoredRow[] = [];
    for (; i < rows.length && rows[i]!.id === id; i++) {
      const r = rows[i]!;
      if (r.key !== null && r.kind !== null && r.payload !== null) {
        own.push({ key: r.key, kind: r.kind, payload: r.payload });
      }
    }
    out.push(sessionFromRows(id, own, protection));
  }
  return out;
}
