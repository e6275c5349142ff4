import { compareStamp, type Stamp } from "./dot.ts";

/**
 * One write's claim about a session's life: alive from `from` through `until` (ms since the
 * epoch, both inclusive, `from < until`).
 *
 * @remarks `from` is the wall time the write was made at (or, for a write that extended a live
 * session, the start of the lifetime it extended); `until` is the expiry it sets.
 */
export interface Lifetime {
  readonly from: number;
  readonly until: number;
  readonly stamp: Stamp;
}

/**
 * The expiry register: the lifetimes of the writes that set an expiry, in canonical form (see
 * {@link isCanonicalLifetimes}): sorted by `from`, with `from` and `until` both strictly
 * increasing, so no element's interval contains another's. Never empty.
 *
 * @remarks A session's soft expiry is the end of the connected run of intervals that starts at
 * the earliest one ({@link lifetimeEnd}): a write made while the session was alive extends it,
 * one made after it had expired (by a region that never saw the session) cannot revive it.
 * The join is the union of the two element sets, keeping only elements no other contains
 * ({@link mergeLifetimes}). Dropping a contained element loses nothing: the union of the
 * intervals, hence the expiry, is unchanged, and the container's write carries the same
 * information forward. Each kept element keeps its own stamp, so anti-entropy sends the register
 * to any peer that lacks one of them (a single stamp for a merged interval could not tell a peer
 * that holds it but lacks another contributor).
 */
export type LifetimeRegister = readonly Lifetime[];

/**
 * Most elements a lifetime register holds, on the wire and after a join.
 *
 * @remarks A defensive cap, never reached in practice: elements beyond one arise only from
 * regions that created the same id without having seen it (partitioned, or restarted on a wiped
 * disk) or from writes with different views of the same run, and the first write made with the
 * merged view replaces every element of the run it extends. Past the cap the join keeps the
 * earliest-starting elements (the first run always among them), so a register never grows
 * beyond what every decoder accepts; a register that would exceed it is the one case where the
 * join is not exact (a late write bridging into a dropped element would count or not depending
 * on arrival order, which no lossy cap avoids).
 */
export const MAX_LIFETIMES = 256;

/**
 * Order of the canonical form: by `from`, then longest first, then newest stamp first, so that
 * an element always sorts before every element it contains.
 */
function compareLifetime(a: Lifetime, b: Lifetime): number {
  return a.from - b.from || b.until - a.until || compareStamp(b.stamp, a.stamp);
}

/**
 * The canonical form of any set of lifetimes: sorted, with every element contained in another
 * (an equal interval with a smaller stamp included) dropped.
 *
 * @remarks Idempotent, and depends only on the set of elements, never on their order.
 */
export function normalizeLifetimes(list: readonly Lifetime[]): Lifetime[] {
  const sorted = [...list].sort(compareLifetime);
  const out: Lifetime[] = [];
  let reach = Number.NEGATIVE_INFINITY;
  for (const l of sorted) {
    // Every element before `l` starts no later; `l` is contained in one iff it ends no later.
    if (l.until <= reach) continue;
    out.push(l);
    reach = l.until;
  }
  return out;
}

function sameElements(a: readonly Lifetime[], b: readonly Lifetime[]): boolean {
  return a.length === b.length && a.every((l, i) => l === b[i]);
}

/**
 * Joins two lifetime registers.
 *
 * @remarks Commutative, associative and idempotent: the canonical form of the union of the
 * element sets (cut to {@link MAX_LIFETIMES}, see there). Returns `a` (or `b`) itself when the join equals it, so callers can detect an
 * unchanged register by identity.
 */
export function mergeLifetimes(a: LifetimeRegister, b: LifetimeRegister): LifetimeRegister {
  if (a === b) return a;
  const merged = normalizeLifetimes([...a, ...b]).slice(0, MAX_LIFETIMES);
  if (sameElements(merged, a)) return a;
  if (sameElements(merged, b)) return b;
  return merged;
}

/**
 * When a session with this register stops being alive: the end of the connected run of
 * intervals that begins with the earliest one.
 *
 * @remarks Two intervals connect when the later one starts no later than the run ends (times are
 * inclusive, so a write made at the very expiry moment still extends the session, as a read at
 * that moment still finds it live). An interval that starts after the run ended was made by a
 * region that never saw the session alive and is ignored, unless a later-arriving write made
 * while it was alive bridges the gap.
 */
export function lifetimeEnd(reg: LifetimeRegister): number {
  const sorted = isSortedByFrom(reg) ? reg : [...reg].sort(compareLifetime);
  let end = sorted[0]!.until;
  for (let i = 1; i < sorted.length; i++) {
    const l = sorted[i]!;
    if (l.from > end) break;
    end = Math.max(end, l.until);
  }
  return end;
}

function isSortedByFrom(reg: LifetimeRegister): boolean {
  for (let i = 1; i < reg.length; i++) if (reg[i - 1]!.from > reg[i]!.from) return false;
  return true;
}

/** The first connected run of a register: where the session's current life began and ends. */
export function firstRun(reg: LifetimeRegister): { readonly from: number; readonly until: number } {
  let from = Number.POSITIVE_INFINITY;
  for (const l of reg) from = Math.min(from, l.from);
  return { from, until: lifetimeEnd(reg) };
}

/**
 * Whether `list` is in canonical form: 1 to {@link MAX_LIFETIMES} elements, each with
 * `from < until`, with `from` and `until` both strictly increasing. The decoder refuses others.
 */
export function isCanonicalLifetimes(list: readonly Lifetime[]): boolean {
  if (list.length === 0 || list.length > MAX_LIFETIMES) return false;
  for (let i = 0; i < list.length; i++) {
    const l = list[i]!;
    if (!(l.from < l.until)) return false;
    const prev = list[i - 1];
    if (prev !== undefined && !(prev.from < l.from && prev.until < l.until)) return false;
  }
  return true;
}

/**
 * The lifetime a write made at `now` with time to live `ttlMs` contributes, given the session's
 * register as the writing node sees it; `undefined` when it would change nothing.
 *
 * @remarks The caller has checked the session is live at `now` (or absent). A session without
 * a register gets `[now, now + ttl]`. A live one gets its first run extended,
 * `[run start, now + ttl]`, rather than `[now, now + ttl]`: the write's own element then
 * contains every element of the run it saw, so a peer that holds this write holds the whole
 * run, and the register stays one element in the common case. The start is never moved
 * earlier than the run's, so a node with a slow clock cannot stretch a session back in time to
 * connect it to an older, expired run. A write that ends no later than the run adds nothing
 * (expiry only moves forward).
 */
export function plannedLifetime(
  current: LifetimeRegister | undefined,
  now: number,
  ttlMs: number,
  stamp: Stamp,
): Lifetime | undefined {
  // The HTTP API takes positive ttls only; a smaller one still gives a well-formed interval.
  const until = now + Math.max(1, ttlMs);
  if (current === undefined || current.length === 0) return { from: now, until, stamp };
  const run = firstRun(current);
  if (until <= run.until) return undefined;
  return { from: run.from, until, stamp };
}

/**
 * The lifetime an old single-valued expiry (`at`, set by the write `stamp`) stands for, for
 * data written before the expiry register held lifetimes (storage schema 1).
 *
 * @remarks That write was made at `stamp.hlc.wall` and set expiry `at`; when `at` is not after
 * the wall time (hand-made data), the interval is shrunk to end at `at`, keeping the expiry.
 */
export function legacyLifetime(at: number, stamp: Stamp): Lifetime {
  const until = Math.max(at, 1);
  return { from: Math.min(stamp.hlc.wall, until - 1), until, stamp };
}
