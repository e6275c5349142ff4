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
import { statSync } from "node:fs";
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
import { insertNewSessions } from "./new-session-rows.ts";
import { newestDots } from "./session-dots.ts";
import { prepareStatements, type Statements } from "./statements.ts";
import { loadVersionVector, saveCoverage } from "./version-vector-rows.ts";
import { type CheckpointWorkerOptions, WalCheckpointer } from "./wal-checkpointer.ts";
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
  /**
   * Checkpoints the WAL from a worker thread instead of inside the commit that passes 1,000 WAL
   * pages (SQLite's default; false here). `true` takes the worker's defaults. See
   * {@link WalCheckpointer}: the copy into the database file and its fsyncs leave the thread that
   * commits.
   */
  readonly checkpointWorker?: boolean | CheckpointWorkerOptions;
}

/** How the store's WAL is being checkpointed; see {@link SqliteStore.walStatus}. */
export interface WalStatus {
  /** Size of the WAL file in bytes (0 when there is none). */
  readonly bytes: number;
  /** Whether a worker thread checkpoints (false: SQLite does, inside commits). */
  readonly offThread: boolean;
  /**
   * Checkpoints that found new pages, by the worker and by the writer's thread (when the WAL
   * passed its limit; SQLite's own checkpoints inside commits are not counted).
   */
  readonly checkpoints: { readonly worker: number; readonly writer: number };
}

/** Sessions read per query when walking the store in id order. */
const CHUNK = 256;

const SYNCHRONOUS = { FULL: "FULL", NORMAL: "NORMAL" } as const;

/** Marks an id as purged where a stored state or nothing is expected. */
const PURGED = Symbol("purged");

/** What the store holds for an id before a join: its state, nothing, or a purge. */
type Prior = SessionState | undefined | typeof PURGED;

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
  /** Origins of the `origins` table as of the last commit. */
  private readonly origins: Set<string>;
  /**
   * Origins the open write transaction inserted into `origins`: known once it commits,
   * forgotten if it fails (see {@link SqliteStore.written}).
   */
  private readonly insertedOrigins = new Set<string>();
  private readonly applyTx: (
    deltas: readonly Delta[],
    clock?: ClockHighWater,
  ) => { vv: VersionVector; staged: StagedBatch };
  private readonly statesTx: (states: readonly SessionState[]) => StagedBatch;
  private readonly cache: SessionCache;
  /** Candidate ids of the extraction round whose peer vector is the key (see extractMissing). */
  private readonly roundCandidates = new WeakMap<VersionVector, string[] | null>();
  readonly commitsSurvivePowerLoss: boolean;
  private readonly checkpointer: WalCheckpointer | undefined;
  /** Rows of `sessions` as of the last commit; undefined until counted (see sessionCount). */
  private rowCount: number | undefined;

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
      const fresh: SessionState[] = [];
      for (const d of deltas) {
        if (!vv.add(d.dot)) continue;
        recorded.add(d.dot.origin);
        fresh.push(d.session);
      }
      // Sessions pushed by peers are mostly new here and not cached: one read for all of them.
      const prior = this.priorStates(fresh.map((s) => s.id));
      for (const s of fresh) this.stage(staged, s, (id) => prior.get(id));
      this.writeStaged(staged);
      saveCoverage(this.q, vv, recorded);
      if (clock !== undefined) this.q.saveClock.run(clock.wall, String(clock.logical));
      return { vv, staged };
    });
    this.applyTx = (deltas, clock) => apply.immediate(deltas, clock);
    const states = db.transaction((list: readonly SessionState[]) => {
      const staged: StagedBatch = { sessions: new Map(), rejected: 0 };
      const prior = this.priorStates(list.map((s) => s.id));
      for (const s of list) this.stage(staged, s, (id) => prior.get(id));
      this.writeStaged(staged);
      return staged;
    });
    this.statesTx = (list) => states.immediate(list);
    // Last: a constructor that threw would leave the worker running.
    this.checkpointer = startCheckpointer(db, path, options);
  }

  /**
   * Opens (creating if needed) the store in the database file at `path`, migrating its schema.
   *
   * @remarks Sets WAL journal mode and `synchronous` (NORMAL unless told otherwise) before anything
   * is written. With a keyring, also `secure_delete`, so bytes a rewrite replaces (an old
   * ciphertext, a plain value being adopted) are zeroed instead of left in free space. With
   * `checkpointWorker`, starts the worker once the schema is migrated.
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
    const { vv, staged } = this.written(() => this.applyTx(deltas, clock));
    this.vv = vv;
    this.remember(staged.sessions);
    return { rejectedFieldWrites: staged.rejected };
  }

  applyStates(states: readonly SessionState[]): JoinReport {
    const staged = this.written(() => this.statesTx(states));
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
   * @remarks SQLite (or the checkpoint worker) checkpoints on its own as the WAL grows; this is
   * for backups and tests that want the file alone to hold everything. Waits for a checkpoint of
   * the worker in progress. Returns false when a reader kept it from finishing.
   */
  checkpoint(): boolean {
    const truncate = () => {
      const [row] = this.db.pragma("wal_checkpoint(TRUNCATE)") as { busy: number }[];
      return row?.busy === 0;
    };
    return this.checkpointer === undefined ? truncate() : this.checkpointer.exclusive(truncate);
  }

  /** The WAL's size and who checkpoints it, for operators' metrics. */
  walStatus(): WalStatus {
    const c = this.checkpointer;
    return {
      bytes: fileSize(`${this.path}-wal`),
      offThread: c?.running ?? false,
      checkpoints: { worker: c?.workerCheckpoints ?? 0, writer: c?.inlineCheckpoints ?? 0 },
    };
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
    this.written(() =>
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
        .immediate(),
    );
  }

  applyPurged(purged: readonly PurgedId[]): void {
    if (purged.length === 0) return;
    this.written(() =>
      this.db
        .transaction(() => {
          for (const p of purged) this.forget(p);
        })
        .immediate(),
    );
  }

  /**
   * Runs the write transaction `tx`, then counts the origins it inserted as known, only if it
   * committed.
   *
   * @remarks Known after a rollback, such an origin would never be inserted again by this
   * process, while later commits index its dots: after a restart extraction would not probe it,
   * and the sessions written under it would never reach a peer through the index.
   */
  private written<T>(tx: () => T): T {
    try {
      const out = tx();
      for (const origin of this.insertedOrigins) this.origins.add(origin);
      return out;
    } finally {
      this.insertedOrigins.clear();
    }
  }

  /** Inserts `origin` into `origins` unless known or inserted already; inside a transaction. */
  private noteOrigin(origin: string): void {
    if (this.origins.has(origin) || this.insertedOrigins.has(origin)) return;
    this.q.insertOrigin.run(origin);
    this.insertedOrigins.add(origin);
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
      this.rowCount = undefined;
    }
    this.q.insertPurged.run(p.id, p.dot?.origin ?? null, p.dot?.seq ?? null);
    // Extraction of purged ids probes the dot index once per known origin.
    if (p.dot !== null) this.noteOrigin(p.dot.origin);
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

  /**
   * @remarks Counted by SQLite once (a scan of every row), then kept up to date as commits add
   * sessions; a purge, which removes rows, has it counted again. `/v1/cluster` and the metrics
   * ask often, and a scan of a large store costs tens of milliseconds each time.
   */
  sessionCount(): number {
    this.rowCount ??= this.q.sessionCount.get()!.n;
    return this.rowCount;
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

  /**
   * Closes the database, after the checkpoint worker's connection: the writer's connection is
   * then the last one, and SQLite folds the WAL into the database file as it closes.
   */
  close(): void {
    this.checkpointer?.stop();
    if (this.db.open) this.db.close();
  }

  /**
   * Merges `s` into the batch's pending state of its session, reading it on first touch, and
   * counts the field writes of `s` that lose to that state.
   */
  private stage(batch: StagedBatch, s: SessionState, prior: (id: string) => Prior): void {
    const staged = batch.sessions;
    let entry = staged.get(s.id);
    if (entry === undefined) {
      const before = prior(s.id);
      // A purged session stays gone: whatever still arrives for it is dropped.
      if (before === PURGED) return;
      entry = { before, after: before };
      staged.set(s.id, entry);
    }
    batch.rejected += rejectedFieldWrites(entry.after, s);
    entry.after = entry.after === undefined ? s : mergeSession(entry.after, s);
  }

  /**
   * What the store holds for each of `ids` before a join: its state, nothing, or a purge. From
   * the cache (`null`: known absent, so not purged), else read in one statement per chunk of
   * ids (one lookup when only one is missing), without filling the cache.
   */
  private priorStates(ids: readonly string[]): Map<string, Prior> {
    const out = new Map<string, Prior>();
    const unread: string[] = [];
    for (const id of ids) {
      if (out.has(id)) continue;
      const cached = this.cache.get(id);
      out.set(id, cached ?? undefined);
      if (cached === undefined) unread.push(id);
    }
    if (unread.length === 1) {
      const id = unread[0]!;
      const found = this.lookup(id, false);
      out.set(id, found === undefined ? PURGED : (found ?? undefined));
      return out;
    }
    for (let i = 0; i < unread.length; i += CHUNK) {
      const chunk = unread.slice(i, i + CHUNK);
      for (const r of this.q.priorOf.all(JSON.stringify(chunk))) {
        if (r.body !== null) out.set(r.id, this.decode(r.id, r.body));
        else if (r.purged !== 0) out.set(r.id, PURGED);
      }
    }
    return out;
  }

  /**
   * What the store holds of each of `ids` that is cached or has a row: from the cache (`null`:
   * known absent), else read in one statement for all of them, without filling the cache (a
   * bulk read). Ids with no row and none cached are left out.
   */
  private storedStates(ids: readonly string[]): Map<string, SessionState | null> {
    const out = new Map<string, SessionState | null>();
    const unread: string[] = [];
    for (const id of ids) {
      const cached = this.cache.get(id);
      if (cached !== undefined) out.set(id, cached);
      else unread.push(id);
    }
    if (unread.length > 0) {
      for (const r of this.q.sessionBodiesOf.all(JSON.stringify(unread))) {
        out.set(r.id, this.decode(r.id, r.body));
      }
    }
    return out;
  }

  private decode(id: string, body: Uint8Array): SessionState {
    return sessionFromBody(parseBody(id, body), this.protection);
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
    const s = this.decode(id, row.body);
    if (fill) this.cache.set(id, s);
    return s;
  }

  /**
   * Caches the states a transaction just committed (with `fill` false, only ids already cached),
   * and counts the sessions it created.
   */
  private remember(staged: ReadonlyMap<string, Staged>, fill = true): void {
    for (const [id, { before, after }] of staged) {
      if (after === undefined) continue;
      if (before === undefined && this.rowCount !== undefined) this.rowCount += 1;
      if (fill) this.cache.set(id, after);
      else this.cache.refresh(id, after);
    }
  }

  /**
   * Writes the sessions a transaction staged, and inserts the origins new among their dots
   * (once each).
   *
   * @remarks Sessions new to the store go in through multi-row INSERTs
   * ({@link insertNewSessions}), the others one by one ({@link writeSession}); the rows written
   * are the same either way.
   */
  private writeStaged(batch: StagedBatch): void {
    const note = (origin: string) => this.noteOrigin(origin);
    const created: SessionState[] = [];
    for (const { before, after } of batch.sessions.values()) {
      if (after === undefined) continue;
      if (before === undefined) created.push(after);
      else writeSession(this.q, this.protection, before, after, note);
    }
    insertNewSessions(this.q, this.protection, created, note);
  }

  /** Sessions after `after` in id order, read a chunk at a time (no statement stays open). */
  private *sessionsAfter(after: string): IterableIterator<SessionState> {
    let cursor = after;
    for (;;) {
      const chunk = this.q.sessionBodiesAfter
        .all(cursor, CHUNK)
        .map((r) => this.decode(r.id, r.body));
      yield* chunk;
      const last = chunk[chunk.length - 1];
      if (last === undefined || chunk.length < CHUNK) return;
      cursor = last.id;
    }
  }

  /**
   * Sessions of `ids` from index `start` on, read a chunk of ids per statement, without filling
   * the cache (a bulk read).
   */
  private *sessionsByIds(ids: readonly string[], start: number): IterableIterator<SessionState> {
    for (let i = start; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      const stored = this.storedStates(chunk);
      for (const id of chunk) {
        const s = stored.get(id);
        if (s) yield s;
      }
    }
  }
}

/** Opens a {@link SqliteStore}; see {@link SqliteStore.open}. */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): SqliteStore {
  return SqliteStore.open(path, options);
}

/** The store's checkpoint worker, when its options ask for one. */
function startCheckpointer(
  db: Database.Database,
  path: string,
  options: SqliteStoreOptions,
): WalCheckpointer | undefined {
  const worker = options.checkpointWorker ?? false;
  if (worker === false) return undefined;
  const synchronous = SYNCHRONOUS[options.synchronous ?? "NORMAL"];
  return new WalCheckpointer(db, path, synchronous, worker === true ? {} : worker);
}

/** Size of a file in bytes; 0 when it does not exist. */
function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw e;
  }
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
