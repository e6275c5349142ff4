import { createHash } from "node:crypto";
import {
  type FieldRegister,
  type Hlc,
  packValue,
  type SessionState,
  type Stamp,
  unpackValue,
} from "@meridian/core";
import { StorageCorruptError } from "./errors.ts";
import { lifetimesIn, lifetimesOut, type StampTuple, stampIn, stampOut } from "./register-rows.ts";
import { isSealed, type RowProtection } from "./row-protection.ts";

/**
 * What a format 1 body's sealed secret part is bound to (associated data), next to the session
 * id: `NUL body`, then `NUL name` for each field in stored order. Read only: bodies are written
 * in format 2 (see {@link secretBinding}).
 */
function namesBinding(names: Iterable<string>): string {
  let out = "\u0000body";
  for (const name of names) out += `\u0000${name}`;
  return out;
}

/**
 * What a body's sealed secret part is bound to (associated data), next to the session id:
 * `NUL body2 NUL`, then the SHA-256 (base64url) of the msgpack of the body's readable part (its
 * first eight elements: format, times, stamps, field names and kinds).
 *
 * @remarks The secret part lists values by position and the readable part says what each is
 * and how it merges: binding all of it means a body whose field names, kinds or stamps were
 * changed behind the store's back no longer opens, so a value is never read under another
 * field's name, as another kind, or with a stamp that was not its write's (as schema 3, which
 * sealed each register's stamp with its value). Format 1 bound the names only. Re-packing the
 * decoded readable part gives the bytes that were hashed: it holds only numbers, strings, nil
 * and arrays, which msgpack encodes one way.
 */
function secretBinding(readable: readonly unknown[]): string {
  const digest = createHash("sha256").update(packValue(readable)).digest("base64url");
  return `\u0000body2\u0000${digest}`;
}

/** The body format written; format 1 (names-only binding) is still read. */
const FORMAT = 2;
const FORMATS: readonly unknown[] = [1, FORMAT];

type HlcTuple = [wall: number, logical: number, node: string];
type FieldTuple = [name: string, stamp: StampTuple] | [name: string, HlcTuple, StampTuple[]];

/**
 * A stored body read without opening its secret part: everything replication and expiry need
 * (names, stamps, times) and the secret part's stored bytes.
 */
export interface ParsedBody {
  readonly id: string;
  readonly tuple: readonly unknown[];
  /** The secret part as stored: sealed with a keyring, plain msgpack without. */
  readonly secret: Uint8Array;
}

const hlcOut = (h: Hlc): HlcTuple => [h.wall, h.logical, h.node];
const hlcIn = (t: HlcTuple): Hlc => ({ wall: t[0], logical: t[1], node: t[2] });
const timeOut = (t: { at: number; stamp: Stamp } | undefined) =>
  t === undefined ? null : [t.at, stampOut(t.stamp)];

/** The plain secret part of `s`: the userId, then each field's value or Yjs update, in order. */
export function secretPart(s: SessionState): Uint8Array {
  const out: unknown[] = [s.userId?.value ?? null];
  for (const reg of s.fields.values()) out.push(reg.kind === "value" ? reg.value : reg.update);
  return packValue(out);
}

/**
 * The stored form of a whole session: one msgpack array holding every register, with the secret
 * payloads (field values, Yjs updates, the userId) packed together as one part that `protection`
 * seals, bound to the session id and the rest of the body (see {@link secretBinding}).
 *
 * @remarks Layout: `[2, lifetimes, lastAccess, deadline, idleMs, userId stamp, deleted, fields,
 * secret]`, absent registers as nil, each field `[name, stamp]` (value) or `[name, epoch,
 * stamps]` (Yjs). Field names and every stamp stay readable without a key (replication and the
 * dot index need them); no secret byte is outside the sealed part. `plainSecret` stores the part
 * unsealed even with a keyring (a version 3 session whose values were all still plain keeps
 * them refused until `reencrypt` adopts them).
 */
export function sessionBody(
  s: SessionState,
  protection: RowProtection,
  plainSecret = false,
): Uint8Array {
  const fields: FieldTuple[] = [];
  for (const [name, reg] of s.fields) {
    if (reg.kind === "value") fields.push([name, stampOut(reg.stamp)]);
    else if (reg.kind === "yjs") fields.push([name, hlcOut(reg.epoch), reg.stamps.map(stampOut)]);
    else throw new StorageCorruptError(`field ${JSON.stringify(name)} of ${s.id} has no kind`);
  }
  const secret = secretPart(s);
  const readable = [
    FORMAT,
    s.lifetimes === undefined ? null : lifetimesOut(s.lifetimes),
    timeOut(s.lastAccess),
    timeOut(s.deadline),
    s.idleMs === undefined ? null : [s.idleMs.value, stampOut(s.idleMs.stamp)],
    s.userId === undefined ? null : stampOut(s.userId.stamp),
    s.deleted === undefined ? null : stampOut(s.deleted),
    fields,
  ];
  return packValue([
    ...readable,
    plainSecret || !protection.encrypted
      ? secret
      : protection.seal(secret, s.id, secretBinding(readable)),
  ]);
}

/** Splits a stored body into its readable part and its secret bytes, without any key. */
export function parseBody(id: string, body: Uint8Array): ParsedBody {
  const tuple = unpackValue(body);
  if (!Array.isArray(tuple) || !FORMATS.includes(tuple[0]) || tuple.length !== 9) {
    throw new StorageCorruptError(`body of session ${id} is not a format 1 or ${FORMAT} body`);
  }
  const secret = tuple[8];
  if (!(secret instanceof Uint8Array)) throw new StorageCorruptError(`secret part of ${id}`);
  return { id, tuple, secret };
}

/** Whether a stored body is in the format written now (its secret part bound as written now). */
export function isCurrentFormat(parsed: ParsedBody): boolean {
  return parsed.tuple[0] === FORMAT;
}

/**
 * Every stamp a stored body carries, read without opening its secret part (the dot index and
 * purges need them without a key).
 */
export function bodyStamps(parsed: ParsedBody): Stamp[] {
  const t = parsed.tuple;
  const out: Stamp[] = [];
  for (const l of (t[1] as [number, number, StampTuple][] | null) ?? []) out.push(stampIn(l[2]));
  for (const i of [2, 3, 4] as const) {
    const reg = t[i] as [unknown, StampTuple] | null;
    if (reg !== null) out.push(stampIn(reg[1]));
  }
  for (const i of [5, 6] as const) {
    const stamp = t[i] as StampTuple | null;
    if (stamp !== null) out.push(stampIn(stamp));
  }
  for (const f of t[7] as FieldTuple[]) {
    if (f.length === 2) out.push(stampIn(f[1]));
    else for (const s of f[2]) out.push(stampIn(s));
  }
  return out;
}

/** The delete stamp of a stored body, read without opening its secret part. */
export function bodyDeleted(parsed: ParsedBody): Stamp | undefined {
  const stamp = parsed.tuple[6] as StampTuple | null;
  return stamp === null ? undefined : stampIn(stamp);
}

/**
 * What the sealed secret part of a stored body is bound to, by the body's format.
 *
 * @remarks Only a sealed part is opened against it: a plain part (a store without a keyring, or
 * one being adopted by `reencrypt`) is never checked against a binding, so computing it (a
 * msgpack and a SHA-256 of the readable part) would be wasted on every read.
 */
function sealedBinding(t: readonly unknown[], names: readonly FieldTuple[]): string {
  return t[0] === 1 ? namesBinding(names.map((f) => f[0])) : secretBinding(t.slice(0, 8));
}

/**
 * Rebuilds the session of a stored body, opening its secret part with `protection`.
 *
 * @remarks @throws UnknownKeyError, DecryptError or PlaintextValueError from `protection` (a
 * secret part that does not open is never decoded as something else), StorageCorruptError when
 * the body is malformed.
 */
export function sessionFromBody(
  parsed: ParsedBody,
  protection: RowProtection,
  adoptPlaintext = false,
): SessionState {
  const { id, tuple: t } = parsed;
  const names = t[7] as FieldTuple[];
  const binding = isSealed(parsed.secret) ? sealedBinding(t, names) : "";
  const secrets = unpackValue(protection.open(parsed.secret, id, binding, adoptPlaintext));
  if (!Array.isArray(secrets) || secrets.length !== names.length + 1) {
    throw new StorageCorruptError(`secret part of ${id} does not match its fields`);
  }
  const fields = new Map<string, FieldRegister>();
  names.forEach((f, i) => {
    const secret = secrets[i + 1] as Uint8Array | null;
    if (f.length === 2) {
      fields.set(f[0], { kind: "value", stamp: stampIn(f[1]), value: secret });
    } else {
      if (secret === null) throw new StorageCorruptError(`Yjs field ${f[0]} of ${id} is empty`);
      fields.set(f[0], {
        kind: "yjs",
        epoch: hlcIn(f[1]),
        update: secret,
        stamps: f[2].map(stampIn),
      });
    }
  });
  const s: { -readonly [K in keyof SessionState]: SessionState[K] } = { id, fields };
  const lifetimes = t[1] as Parameters<typeof lifetimesIn>[0] | null;
  if (lifetimes !== null) s.lifetimes = lifetimesIn(lifetimes);
  const time = (v: unknown) => {
    const [at, stamp] = v as [number, StampTuple];
    return { at, stamp: stampIn(stamp) };
  };
  if (t[2] !== null) s.lastAccess = time(t[2]);
  if (t[3] !== null) s.deadline = time(t[3]);
  if (t[4] !== null) {
    const [value, stamp] = t[4] as [number | null, StampTuple];
    s.idleMs = { value, stamp: stampIn(stamp) };
  }
  if (t[5] !== null) {
    s.userId = { value: secrets[0] as string | null, stamp: stampIn(t[5] as StampTuple) };
  }
  if (t[6] !== null) s.deleted = stampIn(t[6] as StampTuple);
  return s;
}

/**
 * How many secret values a body's secret part holds: one per field (its value or Yjs document)
 * and one for the userId. Operators count values, as before they were sealed together.
 */
export function secretValueCount(parsed: ParsedBody): number {
  return (parsed.tuple[7] as unknown[]).length + (parsed.tuple[5] === null ? 0 : 1);
}
