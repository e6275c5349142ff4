import { type SessionState, type Stamp, sessionStamps } from "@meridian/core";

/**
 * Per origin, the highest sequence number among the stamps a session carries: the rows the
 * `session_dots` table holds for it.
 *
 * @remarks A session holds a write above a peer's contiguous base for `origin` exactly when its
 * newest dot of `origin` is above that base, so one index row per (session, origin) is enough
 * for extraction to find every session a peer may lack something of; the peer's ranges above
 * its base are filtered later with `missingFragment`. Stamps a join dropped (an overwritten
 * field, a lifetime absorbed by another) are simply no longer counted.
 */
export function newestDots(stamps: Iterable<Stamp>): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of stamps) {
    const seen = out.get(s.hlc.node);
    if (seen === undefined || s.seq > seen) out.set(s.hlc.node, s.seq);
  }
  return out;
}

// States are immutable values, and the `after` of one write is the `before` of the next (the
// session cache hands it back): remembering per object halves the work of a write.
const memo = new WeakMap<SessionState, ReadonlyMap<string, number>>();

/** {@link newestDots} of a decoded session, computed once per state object. */
export function sessionNewestDots(s: SessionState): ReadonlyMap<string, number> {
  let dots = memo.get(s);
  if (dots === undefined) {
    dots = newestDots(sessionStamps(s));
    memo.set(s, dots);
  }
  return dots;
}

/** The `session_dots` rows to delete and to insert to go from `before` to `after`. */
export interface DotChanges {
  readonly removed: [origin: string, seq: number][];
  readonly added: [origin: string, seq: number][];
}

/**
 * What changes in a session's newest dots: only origins whose newest dot moved are touched, so
 * an unchanged index row is never rewritten.
 */
export function dotChanges(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
): DotChanges {
  const removed: [string, number][] = [];
  const added: [string, number][] = [];
  for (const [origin, seq] of before) {
    if (after.get(origin) !== seq) removed.push([origin, seq]);
  }
  for (const [origin, seq] of after) {
    if (before.get(origin) !== seq) added.push([origin, seq]);
  }
  return { removed, added };
}
