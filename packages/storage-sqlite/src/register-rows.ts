import {
  type FieldRegister,
  type Hlc,
  type Lifetime,
  type LifetimeRegister,
  type SessionState,
  type Stamp,
  unpackValue,
} from "@meridian/core";
import { StorageCorruptError } from "./errors.ts";
import type { RowProtection } from "./row-protection.ts";

/**
 * Keys of the metadata registers in the `registers` table of schema versions 1 to 3.
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

/** A row as read back: the columns that rebuild the register. */
export interface StoredRow {
  readonly key: string;
  readonly kind: string;
  readonly payload: Uint8Array;
}

/** A stamp as stored in payloads. */
export type StampTuple = [wall: number, logical: number, node: string, seq: number];

/** The stored form of a stamp. */
export const stampOut = (s: Stamp): StampTuple => [s.hlc.wall, s.hlc.logical, s.hlc.node, s.seq];

/** Reads a stored stamp. */
export const stampIn = (t: StampTuple): Stamp => ({
  hlc: { wall: t[0], logical: t[1], node: t[2] },
  seq: t[3],
});

type LifetimeTuple = [from: number, until: number, stamp: StampTuple];

/** The stored form of a lifetime register: `[[from, until, stamp]+]`, in canonical order. */
export const lifetimesOut = (reg: LifetimeRegister): LifetimeTuple[] =>
  reg.map((l) => [l.from, l.until, stampOut(l.stamp)]);

/** Reads a stored lifetime register. */
export const lifetimesIn = (t: LifetimeTuple[]): Lifetime[] =>
  t.map(([from, until, stamp]) => ({ from, until, stamp: stampIn(stamp) }));
const hlcIn = (t: [number, number, string]): Hlc => ({ wall: t[0], logical: t[1], node: t[2] });

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
