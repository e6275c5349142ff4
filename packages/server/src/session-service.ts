import {
  type Delta,
  type FieldRegister,
  isSessionId,
  mergeSession,
  type Rng,
  type SessionState,
  type SessionWrite,
  SessionDeletedError,
  SessionNotFoundError,
  sessionBytes,
  effectiveExpiry,
  type Stamp,
  stampDot,
  ValidationError,
} from "@meridian/core";
import { LimitError, QuorumUnavailableError, VersionUnavailableError } from "./errors.ts";
import { newestStamp, type Replica } from "./replica.ts";
import { mergeAnswers, type Replicator } from "./replicator.ts";
import { formatVersion, parseVersion } from "./version-token.ts";

/** How many regions an operation must reach. */
export type Consistency = "local" | "quorum" | "all";

/** A session as the API answers it. Values stay msgpack-encoded; the edge decodes them. */
export interface SessionAnswer {
  readonly id: string;
  readonly data: Map<string, Uint8Array>;
  /** Yjs fields, each as one merged Yjs update. */
  readonly yjs: Map<string, Uint8Array>;
  /** Epoch ms, or null when the session never expires. */
  readonly expiresAt: number | null;
  readonly userId: string | null;
  /** Token of the newest write in this state (for a write answer: that write). */
  readonly version: string;
}

/** Limits and defaults of the session API. */
export interface SessionServiceOptions {
  /** Time to live of a session created without one (ms); null for no expiry. */
  readonly defaultTtlMs: number | null;
  /** Fields per session (default 1,000). */
  readonly maxFields?: number;
  /** How long quorum operations wait for peers (default 2,000 ms). */
  readonly quorumTimeoutMs?: number;
  /** How long a read with `after` waits for replication before asking peers (default 500 ms). */
  readonly afterWaitMs?: number;
  /** Total regions in the cluster, this one included. */
  readonly clusterSize: number;
}

/** A page of {@link SessionService.list}. */
export interface SessionPage {
  /** The live sessions among the ids scanned, in id order. */
  readonly sessions: SessionAnswer[];
  /** The last id scanned when the page scanned its whole limit (pass as `after`), else null. */
  readonly next: string | null;
}

/** Options of a read. */
export interface ReadOptions {
  readonly consistency?: Consistency;
  readonly after?: string;
}

/**
 * The session operations of one node, with consistency levels, on top of the replica and the
 * replicator. Transport-free: the HTTP edge and the simulator both drive it.
 *
 * @remarks Writes are applied locally and durably first; a quorum write then waits for peers'
 * durable acknowledgements and answers {@link QuorumUnavailableError} (the write stays applied
 * and still converges) when too few arrive. Quorum reads merge a majority's answers with the
 * local state and repair whoever was behind.
 */
export class SessionService {
  private readonly maxFields: number;
  private readonly quorumTimeoutMs: number;
  private readonly afterWaitMs: number;

  constructor(
    readonly replica: Replica,
    readonly replicator: Replicator,
    private readonly rng: Rng,
    private readonly options: SessionServiceOptions,
  ) {
    this.maxFields = options.maxFields ?? 1000;
    this.quorumTimeoutMs = options.quorumTimeoutMs ?? 2000;
    this.afterWaitMs = options.afterWaitMs ?? 500;
  }

  /** Peers (other regions) an operation at `consistency` must reach. */
  peersNeeded(consistency: Consistency): number {
    const n = this.options.clusterSize;
    if (consistency === "local") return 0;
    if (consistency === "all") return n - 1;
    return Math.floor(n / 2);
  }

  /** A fresh session id: 128 bits from the injected CSPRNG, base64url. */
  newId(): string {
    return Buffer.from(this.rng.bytes(16)).toString("base64url");
  }

  /** Creates a session with a server-made id. */
  async create(
    write: Extract<SessionWrite, { op: "create" }>,
    c: Consistency,
  ): Promise<SessionAnswer> {
    const id = this.newId();
    return this.commit(id, write, c);
  }

  /** Creates the session `id` or replaces all its fields. `created` tells which. */
  async put(
    id: string,
    write: Extract<SessionWrite, { op: "replace" }>,
    c: Consistency,
  ): Promise<{ answer: SessionAnswer; created: boolean }> {
    assertId(id);
    const { answer, previous } = await this.commitWrite(id, write, c);
    return { answer, created: this.replica.status(previous) === "absent" };
  }

  /** Field-level merge; creates the session when absent. */
  async patch(
    id: string,
    write: Extract<SessionWrite, { op: "patch" }>,
    c: Consistency,
  ): Promise<SessionAnswer> {
    assertId(id);
    return this.commit(id, write, c);
  }

  /** Extends expiry (touch wins); 404 when the session is not live. */
  async touch(
    id: string,
    ttlMs: number | null | undefined,
    c: Consistency,
  ): Promise<SessionAnswer> {
    assertId(id);
    const write: SessionWrite =
      ttlMs === undefined
        ? { op: "touch", defaultTtlMs: this.options.defaultTtlMs }
        : { op: "touch", ttlMs, defaultTtlMs: this.options.defaultTtlMs };
    return this.commit(id, write, c);
  }

  /** Deletes (remove-wins). Deleting an unknown or already deleted id is not an error. */
  async delete(id: string, c: Consistency): Promise<void> {
    assertId(id);
    // Purged only once every region held the delete: done, whatever the consistency level.
    if (this.replica.store.wasPurged(id)) return;
    const deleted = this.replica.get(id)?.deleted;
    if (deleted === undefined) {
      await this.commit(id, { op: "delete" }, c);
      return;
    }
    const acks = await this.spreadTombstone(id, deleted, this.peersNeeded(c));
    if (acks < this.peersNeeded(c))
      throw new QuorumUnavailableError(this.peersNeeded(c) + 1, acks + 1);
  }

  /**
   * Pushes a tombstone this node already holds again and waits until `needed` peers hold it: a
   * repeated quorum delete must not answer before a quorum has the delete, whoever made it.
   */
  private async spreadTombstone(id: string, deleted: Stamp, needed: number): Promise<number> {
    if (needed <= 0) return 0;
    const delta: Delta = { dot: stampDot(deleted), session: { id, fields: new Map(), deleted } };
    const acked = this.replicator.waitForAcks(delta.dot, needed, this.quorumTimeoutMs);
    this.replicator.push(delta);
    return acked;
  }

  /** Reads a session. @throws SessionNotFoundError (absent or expired), SessionDeletedError */
  async get(id: string, options: ReadOptions = {}): Promise<SessionAnswer> {
    assertId(id);
    const c = options.consistency ?? "local";
    let state = this.replica.get(id);
    // Purging deletes a session's rows, so only a locally absent one can be purged; checked on
    // the local state, since a peer's copy merged below may still hold a live one.
    let purged = state === undefined && this.replica.store.wasPurged(id);
    if (options.after !== undefined || c !== "local") {
      if (options.after !== undefined) state = await this.readAfter(id, options.after);
      if (c !== "local") state = await this.quorumRead(id, state, this.peersNeeded(c));
      // Purged meanwhile? (The stored rows are gone; `state` may be a peer's copy.)
      purged ||= this.replica.get(id) === undefined && this.replica.store.wasPurged(id);
    }
    const status = this.replica.status(state);
    if (status === "deleted" || purged) {
      throw new SessionDeletedError(id);
    }
    if (status !== "live" || state === undefined) throw new SessionNotFoundError(id);
    if (state.idleMs?.value != null) {
      const { delta, state: after } = await this.replica.write(id, { op: "access" });
      this.replicator.push(delta);
      // Joined with what was read, not replaced: after a read with `after` or at quorum, `state`
      // may hold writes this node refused to store for clock skew (found by the simulator).
      state = mergeSession(state, after);
    }
    return answerOf(state, undefined);
  }

  /** Live sessions of a user, from this region's index. */
  listUser(userId: string): SessionAnswer[] {
    const out: SessionAnswer[] = [];
    for (const id of this.replica.store.sessionsOfUser(userId)) {
      const s = this.replica.get(id);
      if (s !== undefined && this.replica.status(s) === "live") out.push(answerOf(s, undefined));
    }
    return out;
  }

  /**
   * Live sessions of this region after the id `after`, scanning at most `limit` stored ids.
   *
   * @remarks Tombstones, expired and not-yet-swept sessions are scanned but not answered, so a
   * page may hold fewer than `limit` sessions, even none, while `next` is still set: a caller
   * pages until `next` is null. Reading records no access (an idle timeout is not renewed).
   */
  list(after: string | undefined, limit: number): SessionPage {
    const ids = this.replica.store.sessionIds(after, limit);
    const sessions: SessionAnswer[] = [];
    for (const id of ids) {
      const s = this.replica.get(id);
      if (s !== undefined && this.replica.status(s) === "live")
        sessions.push(answerOf(s, undefined));
    }
    return { sessions, next: ids.length >= limit ? (ids.at(-1) ?? null) : null };
  }

  /** Deletes every session of a user known here ("log out everywhere"); returns how many. */
  async revokeUser(userId: string, c: Consistency): Promise<number> {
    const all = this.replica.store.sessionsOfUser(userId);
    const ids = all.filter((id) => this.replica.get(id)?.deleted === undefined);
    const written = await Promise.all(ids.map((id) => this.replica.write(id, { op: "delete" })));
    const dots: Delta[] = written.map((w) => w.delta);
    const needed = this.peersNeeded(c);
    const acked =
      needed > 0
        ? dots.map((d) => this.replicator.waitForAcks(d.dot, needed, this.quorumTimeoutMs))
        : [];
    for (const d of dots) this.replicator.push(d);
    if (needed > 0) {
      // Sessions already deleted here count too: a quorum revoke answers once a quorum holds
      // every one of the user's tombstones, not only the ones this call wrote.
      for (const id of all) {
        const deleted = this.replica.get(id)?.deleted;
        if (!ids.includes(id) && deleted !== undefined) {
          acked.push(this.spreadTombstone(id, deleted, needed));
        }
      }
      const acks = await Promise.all(acked);
      const worst = Math.min(...acks, needed);
      if (worst < needed) throw new QuorumUnavailableError(needed + 1, worst + 1);
    }
    return ids.length;
  }

  private async commit(id: string, write: SessionWrite, c: Consistency): Promise<SessionAnswer> {
    return (await this.commitWrite(id, write, c)).answer;
  }

  /** Writes, replicates and waits for the peers `c` asks for; answers with the prior state too. */
  private async commitWrite(
    id: string,
    write: SessionWrite,
    c: Consistency,
  ): Promise<{ answer: SessionAnswer; previous: SessionState | undefined }> {
    this.checkFieldCount(id, write);
    const needed = this.peersNeeded(c);
    const { delta, state, previous } = await this.replica.write(id, write);
    const acked =
      needed > 0 ? this.replicator.waitForAcks(delta.dot, needed, this.quorumTimeoutMs) : null;
    this.replicator.push(delta);
    if (acked !== null) {
      const acks = await acked;
      if (acks < needed) throw new QuorumUnavailableError(needed + 1, acks + 1);
    }
    return { answer: answerOf(state, formatVersion(delta.dot)), previous };
  }

  private checkFieldCount(id: string, write: SessionWrite): void {
    if (write.op !== "create" && write.op !== "replace" && write.op !== "patch") return;
    const current = write.op === "patch" ? this.replica.get(id) : undefined;
    const setCount =
      write.op === "patch" ? (write.set?.size ?? 0) + (write.yjs?.size ?? 0) : write.data.size;
    // Most writes are far below the limit: no need to count names one by one.
    if ((current?.fields.size ?? 0) + setCount <= this.maxFields) return;
    const names = new Set<string>();
    if (current !== undefined) {
      for (const [name, reg] of current.fields) if (isLive(reg)) names.add(name);
    }
    const added =
      write.op === "patch"
        ? [...(write.set?.keys() ?? []), ...(write.yjs?.keys() ?? [])]
        : [...write.data.keys()];
    for (const n of added) names.add(n);
    if (write.op === "patch") for (const n of write.unset ?? []) names.delete(n);
    if (names.size > this.maxFields) {
      throw new LimitError(
        `a session holds at most ${this.maxFields} fields (this write makes ${names.size})`,
      );
    }
  }

  private async readAfter(id: string, token: string): Promise<SessionState | undefined> {
    const dot = parseVersion(token);
    if (dot === undefined) throw new ValidationError(`malformed version token "${token}"`);
    if (await this.replicator.waitForDot(dot, this.afterWaitMs)) return this.replica.get(id);
    const peers = this.replicator.connectedPeers();
    const replies = await this.replicator.readFromPeers(id, peers, this.quorumTimeoutMs);
    const holders = [...replies.values()].filter((r) => r.vv.has(dot));
    if (holders.length === 0) throw new VersionUnavailableError(token);
    const merged = mergeAnswers(
      this.replica.get(id),
      [...replies.values()].map((r) => r.session),
    );
    // A merged state refused here for clock skew is still what the peers hold: answer with it
    // rather than with the older local state (found by the simulator).
    if (merged !== undefined && this.replica.applyStates([merged]) > 0) return merged;
    return this.replica.get(id) ?? merged;
  }

  private async quorumRead(
    id: string,
    local: SessionState | undefined,
    needed: number,
  ): Promise<SessionState | undefined> {
    if (this.replicator.connectedPeers() < needed) {
      throw new QuorumUnavailableError(needed + 1, this.replicator.connectedPeers() + 1);
    }
    const replies = await this.replicator.readFromPeers(id, needed, this.quorumTimeoutMs);
    if (replies.size < needed) throw new QuorumUnavailableError(needed + 1, replies.size + 1);
    const merged = mergeAnswers(
      local,
      [...replies.values()].map((r) => r.session),
    );
    if (merged === undefined) return undefined;
    const mergedBytes = Buffer.from(sessionBytes(merged));
    // Compared with what is stored, not with `local`: after a read with `after`, `local` may be
    // a merged state this node refused to store (found by the simulator).
    const stored = this.replica.get(id);
    let refused = false;
    if (stored === undefined || !mergedBytes.equals(sessionBytes(stored))) {
      refused = this.replica.applyStates([merged]) > 0;
    }
    const behind = [...replies.entries()]
      .filter(([, r]) => r.session === null || !mergedBytes.equals(sessionBytes(r.session)))
      .map(([peer]) => peer);
    if (behind.length > 0) this.replicator.repair(behind, merged);
    // Refused for clock skew: the local state may lack what the quorum holds, so answer with
    // the merged state (found by the simulator).
    return refused ? merged : (this.replica.get(id) ?? merged);
  }
}

function isLive(reg: FieldRegister): boolean {
  return reg.kind === "yjs" || reg.value !== null;
}

function assertId(id: string): void {
  if (!isSessionId(id)) {
    throw new ValidationError("session id must match [A-Za-z0-9_-]{16,256}", "MERIDIAN_ERR_BAD_ID");
  }
}

/** The API view of a stored session. */
export function answerOf(s: SessionState, version: string | undefined): SessionAnswer {
  const data = new Map<string, Uint8Array>();
  const yjs = new Map<string, Uint8Array>();
  for (const name of [...s.fields.keys()].sort()) {
    const reg = s.fields.get(name)!;
    if (reg.kind === "yjs") yjs.set(name, reg.update);
    else if (reg.value !== null) data.set(name, reg.value);
  }
  const newest = newestStamp(s);
  return {
    id: s.id,
    data,
    yjs,
    expiresAt: effectiveExpiry(s),
    userId: s.userId?.value ?? null,
    version: version ?? (newest ? formatVersion({ origin: newest.hlc.node, seq: newest.seq }) : ""),
  };
}
