import type { Delta } from "./delta.ts";
import { digestSessions } from "./digest.ts";
import { type Dot, type Stamp, stampDot } from "./dot.ts";
import { type PurgedId, type PurgedPage, peerLacksPurge } from "./purged.ts";
import { type FieldRegister, registerStamps } from "./register.ts";
import { effectiveExpiry, mergeSession, type SessionState, sessionStamps } from "./session.ts";
import {
  type ClockHighWater,
  type JoinReport,
  type MissingPage,
  rejectedFieldWrites,
  type Store,
} from "./store.ts";
import { VersionVector } from "./version-vector.ts";

/**
 * A {@link Store} in memory: the reference implementation the conformance suite checks the SQLite
 * store against, and the store of simulated nodes that need no disk.
 *
 * @remarks Keeps the same invariants as every store: joins only, dots recorded with their writes.
 */
export class MemoryStore implements Store {
  private readonly sessions = new Map<string, SessionState>();
  private vv = new VersionVector();
  private clock: ClockHighWater | undefined;
  private readonly meta = new Map<string, string>();
  /** Purged ids and the dot of the delete each one's tombstone held. */
  private readonly purged = new Map<string, PurgedId>();

  applyDeltas(deltas: readonly Delta[], clock?: ClockHighWater): JoinReport {
    let rejected = 0;
    for (const d of deltas) {
      // A recorded dot means the write is already joined, or was purged on purpose: skip it.
      if (!this.vv.add(d.dot)) continue;
      rejected += this.join(d.session);
    }
    if (clock !== undefined) this.saveClock(clock);
    return { rejectedFieldWrites: rejected };
  }

  applyStates(states: readonly SessionState[]): JoinReport {
    let rejected = 0;
    for (const s of states) rejected += this.join(s);
    return { rejectedFieldWrites: rejected };
  }

  /** Joins `s` into its session; returns how many of its field writes lost. */
  private join(s: SessionState): number {
    if (this.purged.has(s.id)) return 0;
    const mine = this.sessions.get(s.id);
    this.sessions.set(s.id, mine === undefined ? s : mergeSession(mine, s));
    return rejectedFieldWrites(mine, s);
  }

  getSession(id: string): SessionState | undefined {
    return this.sessions.get(id);
  }

  sessionsOfUser(userId: string): string[] {
    const out: string[] = [];
    for (const s of this.sessions.values()) if (s.userId?.value === userId) out.push(s.id);
    return out.sort();
  }

  versionVector(): VersionVector {
    return this.vv.clone();
  }

  holds(dot: Dot): boolean {
    return this.vv.has(dot);
  }

  mergeVersionVector(vv: VersionVector): void {
    this.vv.merge(vv);
  }

  extractMissing(
    peer: VersionVector,
    options: { limit?: number; after?: string } = {},
  ): MissingPage {
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const ids = [...this.sessions.keys()].sort();
    const out: SessionState[] = [];
    for (const id of ids) {
      if (options.after !== undefined && id <= options.after) continue;
      const fragment = missingFragment(this.sessions.get(id)!, peer);
      if (fragment === undefined) continue;
      if (out.length >= limit) return { sessions: out, next: out[out.length - 1]!.id };
      out.push(fragment);
    }
    return { sessions: out, next: null };
  }

  purgeSession(id: string): void {
    const deleted = this.sessions.get(id)?.deleted;
    this.remember({ id, dot: deleted === undefined ? null : stampDot(deleted) });
  }

  applyPurged(purged: readonly PurgedId[]): void {
    for (const p of purged) this.remember(p);
  }

  private remember(p: PurgedId): void {
    this.sessions.delete(p.id);
    const known = this.purged.get(p.id);
    if (known === undefined || (known.dot === null && p.dot !== null)) {
      this.purged.set(p.id, { id: p.id, dot: p.dot === null ? null : { ...p.dot } });
    }
  }

  wasPurged(id: string): boolean {
    return this.purged.has(id);
  }

  extractPurged(peer: VersionVector, options: { limit?: number; after?: string } = {}): PurgedPage {
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const out: PurgedId[] = [];
    for (const id of [...this.purged.keys()].sort()) {
      if (options.after !== undefined && id <= options.after) continue;
      const p = this.purged.get(id)!;
      if (!peerLacksPurge(p, peer)) continue;
      if (out.length >= limit) return { purged: out, next: out[out.length - 1]!.id };
      out.push(p);
    }
    return { purged: out, next: null };
  }

  expiredBefore(t: number, limit: number): string[] {
    const due: [number, string][] = [];
    for (const s of this.sessions.values()) {
      if (s.deleted !== undefined) continue;
      const at = effectiveExpiry(s);
      if (at !== null && at < t) due.push([at, s.id]);
    }
    due.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1));
    return due.slice(0, limit).map(([, id]) => id);
  }

  sessionIds(after: string | undefined, limit: number): string[] {
    const ids = [...this.sessions.keys()].sort();
    const from = after === undefined ? 0 : ids.findIndex((id) => id > after);
    return from < 0 ? [] : ids.slice(from, from + Math.max(0, limit));
  }

  tombstones(limit: number, after?: string): string[] {
    const ids: string[] = [];
    for (const s of this.sessions.values()) {
      if (s.deleted !== undefined && (after === undefined || s.id > after)) ids.push(s.id);
    }
    return ids.sort().slice(0, limit);
  }

  *allSessions(): IterableIterator<SessionState> {
    for (const id of [...this.sessions.keys()].sort()) yield this.sessions.get(id)!;
  }

  sessionCount(): number {
    return this.sessions.size;
  }

  loadClock(): ClockHighWater | undefined {
    return this.clock;
  }

  saveClock(clock: ClockHighWater): void {
    const c = this.clock;
    if (
      c === undefined ||
      clock.wall > c.wall ||
      (clock.wall === c.wall && clock.logical > c.logical)
    ) {
      this.clock = { wall: clock.wall, logical: clock.logical };
    }
  }

  /** Nothing outlives the process; a simulated crash keeps the object, so nothing is lost. */
  readonly commitsSurvivePowerLoss = true;

  getMeta(key: string): string | undefined {
    return this.meta.get(key);
  }

  setMeta(key: string, value: string): void {
    this.meta.set(key, value);
  }

  digest(): string {
    return digestSessions(this.sessions.values());
  }

  close(): void {}
}

/**
 * The part of `s` a peer with version vector `peer` lacks: each register with at least one stamp
 * the peer has not seen (of the lifetime register, the lifetimes whose stamp it has not seen).
 * Undefined when the peer lacks nothing of it.
 */
export function missingFragment(s: SessionState, peer: VersionVector): SessionState | undefined {
  const unseen = (st: Stamp) => !peer.hasSeq(st.hlc.node, st.seq);
  const lacks = (stamps: readonly Stamp[]) => stamps.some(unseen);
  const stamps = sessionStamps(s);
  let lacked = 0;
  for (const st of stamps) if (unseen(st)) lacked += 1;
  if (lacked === 0) return undefined;
  // A session the peer lacks wholly (the common case after a partition) is its own fragment.
  if (lacked === stamps.length && s.lifetimes?.length !== 0) return s;
  const fields = new Map<string, FieldRegister>();
  for (const [name, reg] of s.fields) if (lacks(registerStamps(reg))) fields.set(name, reg);
  const out: { -readonly [K in keyof SessionState]: SessionState[K] } = { id: s.id, fields };
  // Each lifetime stands for its own write: the peer holds the others (or larger ones).
  const lifetimes = s.lifetimes?.filter((l) => lacks([l.stamp]));
  if (lifetimes !== undefined && lifetimes.length > 0) out.lifetimes = lifetimes;
  if (s.lastAccess && lacks([s.lastAccess.stamp])) out.lastAccess = s.lastAccess;
  if (s.deadline && lacks([s.deadline.stamp])) out.deadline = s.deadline;
  if (s.idleMs && lacks([s.idleMs.stamp])) out.idleMs = s.idleMs;
  if (s.userId && lacks([s.userId.stamp])) out.userId = s.userId;
  if (s.deleted && lacks([s.deleted])) out.deleted = s.deleted;
  return out;
}
