import type { Delta } from "./delta.ts";
import type { Dot } from "./dot.ts";
import { compareHlc } from "./hlc.ts";
import type { PurgedId, PurgedPage } from "./purged.ts";
import { registerOrder } from "./register.ts";
import type { SessionState } from "./session.ts";
import type { VersionVector } from "./version-vector.ts";

/** The clock high-water mark a store persists so that a restart never goes backwards. */
export interface ClockHighWater {
  readonly wall: number;
  readonly logical: number;
}

/** What a join ({@link Store.applyDeltas}, {@link Store.applyStates}) did. */
export interface JoinReport {
  /**
   * Field value writes the join rejected because the register it met was later: writes that
   * lost a last-writer-wins race here (see {@link rejectedFieldWrites}).
   */
  readonly rejectedFieldWrites: number;
}

/**
 * How many value registers of `incoming` lose to the register `stored` holds under the same
 * name: the last-writer-wins losses of joining `incoming` into `stored`.
 *
 * @remarks Equal orders are not a loss (the same write again). Yjs documents merge and never
 * lose; an incoming value register that meets a later Yjs epoch loses like any other. Nothing
 * is lost against an absent session. Counted for writes new to a node, a race between two
 * regions counts once cluster-wide: at the region whose write won, where the losing write
 * arrives older than what is stored (at the losing region the winner simply overwrites).
 */
export function rejectedFieldWrites(
  stored: SessionState | undefined,
  incoming: SessionState,
): number {
  if (stored === undefined) return 0;
  let lost = 0;
  for (const [name, reg] of incoming.fields) {
    if (reg.kind !== "value") continue;
    const have = stored.fields.get(name);
    if (have !== undefined && compareHlc(registerOrder(have), reg.stamp.hlc) > 0) lost += 1;
  }
  return lost;
}

/** A page of {@link Store.extractMissing}. */
export interface MissingPage {
  /** Fragments holding exactly the registers whose writes the asking peer lacks. */
  readonly sessions: SessionState[];
  /** Pass as `after` to read the next page; `null` when this was the last. */
  readonly next: string | null;
}

/**
 * The storage boundary of a node. Implementations: the in-memory `MemoryStore` (core) and the
 * SQLite store (storage-sqlite); both pass the conformance suite in `@meridian/core/testing`.
 *
 * @remarks Every method is synchronous and atomic. Applying is a join: idempotent, commutative
 * and associative, so any permutation, duplication or batching of the same deltas leaves the same
 * {@link Store.digest}. The version vector only ever records a dot together with its write.
 */
export interface Store {
  /**
   * Joins whole writes into their sessions and records their dots; one transaction. A delta
   * whose dot is already recorded is skipped: its write is already held, or was purged on
   * purpose and must not come back.
   *
   * @remarks The report counts the field writes of the deltas not skipped that lost to what the
   * session held when each was joined (earlier deltas of the batch included); deltas for a
   * purged session count nothing.
   */
  applyDeltas(deltas: readonly Delta[], clock?: ClockHighWater): JoinReport;
  /**
   * Joins state fragments (repair, anti-entropy) without recording any dot; one transaction.
   *
   * @remarks The report counts every field register of `states` that lost to what the session
   * held when it was joined; which of them were writes new to the caller is the caller's call.
   */
  applyStates(states: readonly SessionState[]): JoinReport;
  /** The stored state of one session, or undefined. */
  getSession(id: string): SessionState | undefined;
  /** Ids of sessions whose `userId` register currently holds `userId`. */
  sessionsOfUser(userId: string): string[];
  /** A copy of the version vector: every write this store holds the effect of. */
  versionVector(): VersionVector;
  /**
   * Whether the version vector covers `dot`, without copying it.
   *
   * @remarks Same answer as `versionVector().has(dot)`; for per-write checks on hot paths.
   */
  holds(dot: Dot): boolean;
  /** Records that this store now holds every write `vv` covers (after a complete sync round). */
  mergeVersionVector(vv: VersionVector): void;
  /**
   * Registers whose writes `peer` lacks, by session id order, at most `limit` sessions a page.
   * Sessions after `after` only.
   *
   * @remarks The pages of one round pass the same `peer` object; a store may reuse for later
   * pages what it gathered for the first one (called without `after`), so a write made after the
   * first page may be left out of later pages. A caller may therefore claim to hold only a
   * version vector it took before the first page.
   */
  extractMissing(peer: VersionVector, options?: { limit?: number; after?: string }): MissingPage;
  /**
   * Removes a session's whole state (garbage collection; the caller decides it is safe) and
   * remembers its id with the dot of the stored tombstone's delete (`null` when it held none):
   * later deltas and states for a purged id are ignored (their dots are still recorded), so
   * nothing that arrives late can bring the session back.
   */
  purgeSession(id: string): void;
  /**
   * Learns purges from a peer (anti-entropy): each id is remembered as purged, with its dot, and
   * whatever state this store holds for it is dropped, whoever wrote it; one transaction.
   *
   * @remarks Remove-wins for good: the id was deleted before it was purged, so a write made to
   * it since (here, by a node restarted on a wiped disk that did not know the purge) loses.
   * Idempotent; an id already purged keeps its recorded dot unless that was `null`. No dot is
   * recorded in the version vector.
   */
  applyPurged(purged: readonly PurgedId[]): void;
  /** Whether `id` was purged; a purged id reads as deleted and takes no write. */
  wasPurged(id: string): boolean;
  /**
   * Purged ids a peer with version vector `peer` may lack (`peerLacksPurge`), in id order, at
   * most `limit` a page, ids after `after` only.
   */
  extractPurged(peer: VersionVector, options?: { limit?: number; after?: string }): PurgedPage;
  /**
   * Ids of sessions not deleted whose effective expiry (`effectiveExpiry`) is before `t`, at
   * most `limit`, soonest first: the input of expiry sweeps.
   */
  expiredBefore(t: number, limit: number): string[];
  /**
   * Ids of stored sessions (tombstones included) strictly after `after` (from the first when
   * undefined) in id order, at most `limit`: a cursor over the whole store, for listing.
   */
  sessionIds(after: string | undefined, limit: number): string[];
  /** Ids of deleted sessions (tombstones) after `after` in id order, at most `limit`. */
  tombstones(limit: number, after?: string): string[];
  /** Every stored session, in id order. */
  allSessions(): IterableIterator<SessionState>;
  /** Number of stored sessions (tombstones included). */
  sessionCount(): number;
  /** The persisted clock high-water mark, if any. */
  loadClock(): ClockHighWater | undefined;
  /** Persists the clock high-water mark. */
  saveClock(clock: ClockHighWater): void;
  /** Reads a small persisted setting (node identity, for instance). */
  getMeta(key: string): string | undefined;
  /**
   * Persists a small setting.
   *
   * @remarks Synced to disk before it returns, whatever {@link Store.commitsSurvivePowerLoss}
   * says of ordinary commits: node identity and the clean-shutdown mark depend on it.
   */
  setMeta(key: string, value: string): void;
  /**
   * Whether a committed transaction survives an OS crash or power loss, not only a process crash.
   *
   * @remarks When false (SQLite `synchronous = NORMAL`), the last commits before a power loss
   * may be gone after the restart, including writes already pushed to peers: the replica must
   * then take a new incarnation so no (origin, seq) dot is ever reused.
   */
  readonly commitsSurvivePowerLoss: boolean;
  /** Order-independent digest of every stored session; equal digests mean converged replicas. */
  digest(): string;
  /** Releases the store. */
  close(): void;
}
