import {
  type ClockHighWater,
  type Delta,
  type Dot,
  digestSessions,
  type JoinReport,
  type MissingPage,
  mergeSession,
  missingFragment,
  rejectedFieldWrites,
  type PurgedId,
  type PurgedPage,
  type SessionState,
  type Store,
  type VersionVector,
} from "@meridian/core";
import Database from "better-sqlite3";
import { extractCandidates } from "./extract-candidates.ts";
import { extractPurged } from "./extract-purged.ts";
import type { Keyring } from "./keyring.ts";
import { migrate } from "./migrations.ts";
import {
  type ReencryptOptions,
  type ReencryptReport,
  reencryptAll,
  sealedKeyUsage,
} from "./reencrypt.ts";
import { PLAIN_ROWS, type RowProtection } from "./row-protection.ts";
import { expiryBucket } from "./schema.ts";
import { SealedRows } from "./sealed-rows.ts";
import { bodyDeleted, bodyStamps, parseBody, sessionFromBody } from "./session-body.ts";
import { SessionCache } from "./session-cache.ts";
import { newestDots } from "./session-dots.ts";
import { prepareStatements, type Statements } from "./statements.ts";
import { loadVersionVector, saveCoverage } from "./version-vector-rows.ts";
import { writeSession } from "./write-session.ts";

/** Options of {@link SqliteStore.open}. */
export interface SqliteStoreOptions {
  /**
   * `PRAGMA synchronous`. `"FULL"` syncs the WAL on every commit: an acknowledged write
   * survives kill -9 and power loss. `"NORMAL"` (default, as Redis's and Cassandra's default
   * persistence) survives a process crash but may lose the last commits on power loss or an OS
   * crash; {@link SqliteStore.commitsSurvivePowerLoss} says which.
   */
  readonly synchronous?: "FULL" | "NORMAL";
  /**
   * Sessions kept decoded in memory, most recently used first (default 10,000; 0 turns the
   * cache off). Reads and the read-before-write of every commit hit it instead of SQLite.
   */
  readonly cachedSessions?: number;
  /**
   * Most candidate sessions per origin that extraction gathers through the dot index before it
   * reads sessions in id order instead (default 100,000). Tuning only; results are the same.
   */
  readonly indexedExtractLimit?: number;
  /**
   * Encrypts field values, Yjs documents and userIds at rest (AES-256-GCM) under the keyring's
   * current key, and indexes users by an HMAC instead of the raw userId. Values sealed under any
   * key of the keyring read; see {@link SqliteStore.reencrypt} for rotation.
   */
  readonly keyring?: Keyring;
}

/** Sessions read per query when walking the store in id order. */
const CHUNK = 256;

const SYNCHRONOUS = { FULL: "FULL", NORMAL: "NORMAL" } as const;

interface Staged {
  readonly before: SessionState | undefined;
  after: SessionState | undefined;
}

/** The sessions a transaction staged, and the field writes its joins rejected. */
interface StagedBatch {
  readonly sessions: Map<string, Staged>;
  rejected: number;
}

/**
 * The SQLite {@link Store}: one database file in WAL mode, written through prepared statements.
 *
 * @remarks Every batch of deltas is applied in one immediate transaction: the merged sessions
 * (one row each), the version vector with its gaps and the clock high-water mark commit together
 * or not at all, so the vector never claims a write that is not stored. Only sessions that the
 * merge changed are written. A delta whose dot is already recorded is skipped: its effect is already stored,
 * or was purged on purpose and must not come back. The in-memory copy of the version vector
 * changes only after a commit. One store per database file: two stores writing the same file
 * would each keep a stale copy of the version vector.
 */
export class SqliteStore implements Store {
  /** The database file. */
  readonly path: string;
  private readonly db: Database.Database;
  private readonly q: Statements;
  private readonly indexedExtractLimit: number;
  private readonly protection: RowProtection;
  private vv: VersionVector;
  private readonly origins: Set<string>;
  private readonly applyTx: (
    deltas: readonly Delta[],
    clock?: ClockHighWater,
  ) => { vv: VersionVector; staged: StagedBatch };
  private readonly statesTx: (states: readonly SessionState[]) => StagedBatch;
  private readonly cache: SessionCache;
  /** Candidate ids of the extraction round whose peer vector is the key (see extractMissing). */
  private readonly roundCandidates = new WeakMap<VersionVector, string[] | null>();
  readonly commitsSurvivePowerLoss: boolean;

  private constructor(
    db: Database.Database,
    path: string,
    options: SqliteStoreOptions,
    protection: RowProtection,
  ) {
    this.db = db;
    this.path = path;
    this.commitsSurvivePowerLoss = (options.synchronous ?? "NORMAL") === "FULL";
    this.q = prepareStatements(db);
    this.indexedExtractLimit = options.indexedExtractLimit ?? 100_000;
    this.cache = new SessionCache(options.cachedSessions ?? 10_000);
    this.protection = protection;
    this.vv = loadVersionVector(this.q);
    this.origins = new Set(this.q.origins.all().map((r) => r.origin));
    const apply = db.transaction((deltas: readonly Delta[], clock?: ClockHighWater) => {
      const vv = this.vv.clone();
      const recorded = new Set<string>();
      const staged: StagedBatch = { sessions: new Map(), rejected: 0 };
      for (const d of deltas) {
        if (!vv.add(d.dot)) continue;
        recorded.add(d.dot.origin);
        this.stage(staged, d.session);
      }
      this.writeStaged(staged);
      saveCoverage(this.q, vv, recorded);
      if (clock !== undefined) this.q.saveClock.run(clock.wall, String(clock.logical));
      return { vv, staged };
    });
    this.applyTx = (deltas, clock) => apply.immediate(deltas, clock);
    const states = db.transaction((list: readonly SessionState[]) => {
      const staged: StagedBatch = { sessions: new Map(), rejected: 0 };
      for (const s of list) this.stage(staged, s);
      this.writeStaged(staged);
      return staged;
    });
    this.statesTx = (list) => states.immediate(list);
  }

  /**
   * Opens (creating if needed) the store in the database file at `path`, migrating its schema.
   *
   * @remarks Sets WAL journal mode and `synchronous` (NORMAL unless told otherwise) before anything
   * is written. With a keyring, also `secure_delete`, so bytes a rewrite replaces (an old
   * ciphertext, a plain value being adopted) are zeroed instead of left in free space.
   * @throws StorageVersionError when the file was written by a newer schema; KeyringError when
   * the keyring is unusable.
   */
  static open(path: string, options: SqliteStoreOptions = {}): SqliteStore {
    const db = new Database(path);
    const protection = options.keyring === undefined ? PLAIN_ROWS : new SealedRows(options.keyring);
    try {
      db.pragma("journal_mode = WAL");
      db.pragma(`synchronous = ${SYNCHRONOUS[options.synchronous ?? "NORMAL"]}`);
      db.pragma("busy_timeout = 5000");
      // A WAL reset after a checkpoint shrinks the file back to this size.
      db.pragma("journal_size_limit = 67108864");
      if (options.keyring !== undefined) db.pragma("secure_delete = ON");
      migrate(db, protection);
      return new SqliteStore(db, path, options, protection);
    } catch (e) {
      db.close();
      throw e;
    }
  }

  applyDeltas(deltas: readonly Delta[], clock?: ClockHighWater): JoinReport {
    const { vv, staged } = this.applyTx(deltas, clock);
    this.vv = vv;
    this.remember(staged.sessions);
    return { rejectedFieldWrites: staged.rejected };
  }

  applyStates(states: readonly SessionState[]): JoinReport {
    const staged = this.statesTx(states);
    // Bulk joins (anti-entropy) refresh cached sessions but do not push hot ones out.
    this.remember(staged.sessions, false);
    return { rejectedFieldWrites: staged.rejected };
  }

  getSession(id: string): SessionState | undefined {
    return this.lookup(id, true) ?? undefined;
  }

  sessionsOfUser(userId: string): string[] {
    const ids = new Set<string>();
    for (const tag of this.protection.userLookupTags(userId)) {
      for (const r of this.q.sessionsOfUser.all(tag)) ids.add(r.id);
    }
    return [...ids].sort();
  }

  /**
   * Seals every secret value again under the keyring's current key and moves the user index to
   * its tags, a batch of sessions per transaction; then checkpoints and truncates the WAL.
   *
   * @remarks Once it returns, no value is left under another key (check with
   * {@link SqliteStore.keyUsage}) and older keys can leave the keyring. See {@link reencryptAll}.
   * @throws KeyringError when the store has no keyring.
   */
  reencrypt(options: ReencryptOptions = {}): ReencryptReport {
    this.cache.clear();
    const report = reencryptAll(this.db, this.q, this.protection, options);
    this.checkpoint();
    return report;
  }

  /**
   * Copies every committed page from the WAL into the database file and truncates the WAL
   * (`wal_checkpoint(TRUNCATE)`).
   *
   * @remarks SQLite checkpoints on its own as the WAL grows; this is for backups and tests that
   * want the file alone to hold everything. Returns false when a reader kept it from finishing.
   */
  checkpoint(): boolean {
    const [row] = this.db.pragma("wal_checkpoint(TRUNCATE)") as { busy: number }[];
    return row?.busy === 0;
  }

  /**
   * How many secret payloads are sealed under each key id (`null`: stored in the clear).
   *
   * @remarks A scan of the sessions (one secret part each); for operators, before removing a key from the keyring.
   */
  keyUsage(): Map<string | null, number> {
    return sealedKeyUsage(this.q);
  }

  versionVector(): VersionVector {
    return this.vv.clone();
  }

  holds(dot: Dot): boolean {
    return this.vv.has(dot);
  }

  mergeVersionVector(other: VersionVector): void {
    const vv = this.vv.clone();
    vv.merge(other);
    const changed = new Set<string>();
    const now = new Map([...this.vv.entries()].map(([o, c]) => [o, JSON.stringify(c)]));
    for (const [origin, coverage] of vv.entries()) {
      if (now.get(origin) !== JSON.stringify(coverage)) changed.add(origin);
    }
    this.db.transaction(() => saveCoverage(this.q, vv, changed)).immediate();
    this.vv = vv;
  }

  extractMissing(
    peer: VersionVector,
    options: { limit?: number; after?: string } = {},
  ): MissingPage {
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    if (!(limit >= 1))
      throw new RangeError(`extractMissing: limit must be at least 1, got ${limit}`);
    const after = options.after ?? "";
    // The pages of one round share the candidates gathered by its first page (the same vector
    // object comes back with each `after`): one index pass per round instead of one per page.
    // A write made after the first page may be left out of later pages; the requester only
    // claims the vector the sender took before that first page, so it is fetched next round.
    let ids = after === "" ? undefined : this.roundCandidates.get(peer);
    if (ids === undefined) {
      ids = extractCandidates(this.q, this.origins, peer, "", this.indexedExtractLimit);
      this.roundCandidates.set(peer, ids);
    }
    const sessions =
      ids === null ? this.sessionsAfter(after) : this.sessionsByIds(ids, firstAfter(ids, after));
    const out: SessionState[] = [];
    for (const s of sessions) {
      const fragment = missingFragment(s, peer);
      if (fragment === undefined) continue;
      if (out.length >= limit) return { sessions: out, next: out[out.length - 1]!.id };
      out.push(fragment);
    }
    return { sessions: out, next: null };
  }

  purgeSession(id: string): void {
    this.db
      .transaction(() => {
        // The delete stamp is readable without a key: purging never needs to decrypt.
        const row = this.q.sessionBody.get(id);
        const deleted = row === undefined ? undefined : bodyDeleted(parseBody(id, row.body));
        this.forget({
          id,
          dot: deleted === undefined ? null : { origin: deleted.hlc.node, seq: deleted.seq },
        });
      })
      .immediate();
  }

  applyPurged(purged: readonly PurgedId[]): void {
    if (purged.length === 0) return;
    this.db
      .transaction(() => {
        for (const p of purged) this.forget(p);
      })
      .immediate();
  }

  /** Drops every row of a session and remembers its id as purged; inside a transaction. */
  private forget(p: PurgedId): void {
    this.cache.delete(p.id);
    const row = this.q.sessionBody.get(p.id);
    if (row !== undefined) {
      // The body's stamps are readable without a key: a purge never needs to decrypt.
      for (const [origin, seq] of newestDots(bodyStamps(parseBody(p.id, row.body)))) {
        this.q.deleteDot.run(origin, seq, p.id);
      }
      this.q.purgeSession.run(p.id);
    }
    this.q.insertPurged.run(p.id, p.dot?.origin ?? null, p.dot?.seq ?? null);
    // Extraction of purged ids probes the dot index once per known origin.
    if (p.dot !== null && !this.origins.has(p.dot.origin)) {
      this.q.insertOrigin.run(p.dot.origin);
      this.origins.add(p.dot.origin);
    }
  }

  wasPurged(id: string): boolean {
    // A cached id has a row or is known not purged: purging drops it from the cache.
    if (this.cache.get(id) !== undefined) return false;
    return this.q.wasPurged.get(id) !== undefined;
  }

  extractPurged(peer: VersionVector, options: { limit?: number; after?: string } = {}): PurgedPage {
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    if (!(limit >= 1))
      throw new RangeError(`extractPurged: limit must be at least 1, got ${limit}`);
    return extractPurged(
      this.q,
      this.origins,
      peer,
      options.after ?? "",
      limit,
      this.indexedExtractLimit,
    );
  }

  expiredBefore(t: number, limit: number): string[] {
    // A non-integer t still lands in the bucket of its integer part.
    const bucket = expiryBucket(Math.floor(t)) ?? 0;
    return this.q.expiredBefore.all({ t, bucket, limit }).map((r) => r.id);
  }

  sessionIds(after: string | undefined, limit: number): string[] {
    // SQLite reads a negative LIMIT as none at all.
    return this.q.sessionIds.all(after ?? "", Math.max(0, limit)).map((r) => r.id);
  }

  tombstones(limit: number, after?: string): string[] {
    return this.q.tombstones.all(after ?? "", limit).map((r) => r.id);
  }

  allSessions(): IterableIterator<SessionState> {
    return this.sessionsAfter("");
  }

  sessionCount(): number {
    return this.q.sessionCount.get()!.n;
  }

  loadClock(): ClockHighWater | undefined {
    const row = this.q.loadClock.get();
    return row === undefined ? undefined : { wall: row.wall, logical: row.logical };
  }

  saveClock(clock: ClockHighWater): void {
    this.q.saveClock.run(clock.wall, String(clock.logical));
  }

  getMeta(key: string): string | undefined {
    return this.q.getMeta.get(key)?.value;
  }

  setMeta(key: string, value: string): void {
    if (this.commitsSurvivePowerLoss) {
      this.q.setMeta.run(key, value);
      return;
    }
    // One fsynced commit, whatever the store's setting: identity must never be lost.
    this.db.pragma("synchronous = FULL");
    try {
      this.q.setMeta.run(key, value);
    } finally {
      this.db.pragma("synchronous = NORMAL");
    }
  }

  digest(): string {
    return digestSessions(this.allSessions());
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /**
   * Merges `s` into the batch's pending state of its session, reading it on first touch, and
   * counts the field writes of `s` that lose to that state.
   */
  private stage(batch: StagedBatch, s: SessionState): void {
    const staged = batch.sessions;
    let entry = staged.get(s.id);
    if (entry === undefined) {
      const found = this.lookup(s.id, false);
      // A purged session stays gone: whatever still arrives for it is dropped. (Purging deletes
      // its rows, so only an absent session can be a purged one.)
      if (found === undefined) return;
      const before = found ?? undefined;
      entry = { before, after: before };
      staged.set(s.id, entry);
    }
    batch.rejected += rejectedFieldWrites(entry.after, s);
    entry.after = entry.after === undefined ? s : mergeSession(entry.after, s);
  }

  /** The stored state of a session, from the cache if there, without filling it (bulk reads). */
  private peekSession(id: string): SessionState | undefined {
    const cached = this.cache.get(id);
    return cached === undefined ? this.readSession(id) : (cached ?? undefined);
  }

  /**
   * The stored state of a session, `null` when it has no row and was not purged, undefined when
   * it was purged; from the cache if there, else in one query, which fills the cache when `fill`.
   */
  private lookup(id: string, fill: boolean): SessionState | null | undefined {
    const cached = this.cache.get(id);
    if (cached !== undefined) return cached;
    const row = this.q.sessionOrPurged.get(id, id)!;
    if (row.body === null) {
      if (row.purged !== 0) return undefined;
      if (fill) this.cache.set(id, null);
      return null;
    }
    const s = sessionFromBody(parseBody(id, row.body), this.protection);
    if (fill) this.cache.set(id, s);
    return s;
  }

  /** The stored state of a session, decoded from its row (no cache). */
  private readSession(id: string): SessionState | undefined {
    const row = this.q.sessionBody.get(id);
    return row === undefined
      ? undefined
      : sessionFromBody(parseBody(id, row.body), this.protection);
  }

  /** Caches the states a transaction just committed (with `fill` false, only ids already cached). */
  private remember(staged: ReadonlyMap<string, Staged>, fill = true): void {
    for (const [id, { after }] of staged) {
      if (after === undefined) continue;
      if (fill) this.cache.set(id, after);
      else this.cache.refresh(id, after);
    }
  }

  private writeStaged(batch: StagedBatch): void {
    const fresh: string[] = [];
    const note = (origin: string) => {
      if (!this.origins.has(origin)) fresh.push(origin);
    };
    for (const { before, after } of batch.sessions.values()) {
      if (after !== undefined) writeSession(this.q, this.protection, before, after, note);
    }
    for (const origin of fresh) this.q.insertOrigin.run(origin);
    // Safe to remember before commit: an origin without rows only costs an empty index probe.
    for (const origin of fresh) this.origins.add(origin);
  }

  /** Sessions after `after` in id order, read a chunk at a time (no statement stays open). */
  private *sessionsAfter(after: string): IterableIterator<SessionState> {
    let cursor = after;
    for (;;) {
      const chunk = this.q.sessionBodiesAfter
        .all(cursor, CHUNK)
        .map((r) => sessionFromBody(parseBody(r.id, r.body), this.protection));
      yield* chunk;
      const last = chunk[chunk.length - 1];
      if (last === undefined || chunk.length < CHUNK) return;
      cursor = last.id;
    }
  }

  /** Sessions of `ids` from index `start` on; read without filling the cache (a bulk read). */
  private *sessionsByIds(ids: readonly string[], start: number): IterableIterator<SessionState> {
    for (let i = start; i < ids.length; i++) {
      const id = ids[i]!;
      const s = this.peekSession(id);
      if (s !== undefined) yield s;
    }
  }
}

/** Opens a {@link SqliteStore}; see {@link SqliteStore.open}. */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): SqliteStore {
  return SqliteStore.open(path, options);
}

/** Index of the first id in sorted `ids` greater than `after`. */
function firstAfter(ids: readonly string[], after: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
