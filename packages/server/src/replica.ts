import {
  type Clock,
  ClockSkewError,
  compareStamp,
  type Delta,
  type Dot,
  HybridClock,
  type JoinReport,
  mergeSession,
  type Rng,
  type Scheduler,
  type SessionState,
  type SessionWrite,
  type Stamp,
  type Store,
  planWrite,
  SessionDeletedError,
  sessionStamps,
  sessionStatus,
} from "@meridian/core";
import { PendingBatch, type RemoteApplyResult } from "./pending-batch.ts";

/** Options of a {@link Replica}. */
export interface ReplicaOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly rng: Rng;
  /** Runs the group commit of each tick's writes. */
  readonly scheduler: Scheduler;
  /** Region name; the node id is the region plus a random incarnation suffix. */
  readonly region: string;
  readonly maxClockSkewMs?: number;
  /**
   * Identity of the current boot of the machine (Linux: `/proc/sys/kernel/random/boot_id`).
   *
   * @remarks A process crash cannot lose committed transactions (they are in the kernel's page
   * cache), only an OS crash or power loss can. With the boot id the replica tells them apart
   * and keeps its incarnation after a mere process crash; without one, every unclean stop of a
   * store with lossy commits is treated as a possible loss.
   */
  readonly bootId?: string;
}

/**
 * Meta key describing the run in progress: `"durable"` (commits survive power loss),
 * `"lossy <boot id>"` (they may not), `"0"` after a clean stop.
 */
const RUNNING = "running";

/**
 * Whether the previous run, as its `running` mark says, may have lost commits its peers already
 * hold: it stopped uncleanly, its commits were not fsynced one by one, and the machine has
 * rebooted since (or its boot is unknown).
 */
export function mayHaveLostCommits(mark: string | undefined, bootId: string | undefined): boolean {
  if (mark === undefined || mark === "0" || mark === "durable") return false;
  if (!mark.startsWith("lossy ")) return true;
  const previousBoot = mark.slice("lossy ".length);
  return bootId === undefined || previousBoot === "" || previousBoot !== bootId;
}

export type { RemoteApplyResult } from "./pending-batch.ts";

/** A local write once committed. */
export interface CommittedWrite {
  /** The write, to replicate. */
  readonly delta: Delta;
  /** The session after it. */
  readonly state: SessionState;
  /**
   * The session as the write found it: committed, or after the local writes before it in its
   * group commit. Callers that need the prior state read it here instead of a second time.
   */
  readonly previous: SessionState | undefined;
}

/**
 * One region's replica: the store, the hybrid logical clock and the node's identity.
 *
 * @remarks Every local write gets the next sequence number of this node and a fresh HLC stamp,
 * and is applied and made durable (clock high-water mark included) in one store transaction
 * before anything is acknowledged. The node id carries a random incarnation suffix created with
 * the database, so a node restarted on a wiped disk never reuses an old (origin, seq) dot.
 */
export class Replica {
  /**
   * This node id: region plus incarnation suffix.
   *
   * @remarks A new incarnation starts with a wiped disk, and after an unclean stop when the
   * store's commits may not survive power loss ({@link Replica.stoppedUncleanly}).
   */
  readonly nodeId: string;
  /** The previous run of this store ended without {@link Replica.markStopped}, and it took a new incarnation. */
  readonly stoppedUncleanly: boolean;
  readonly region: string;
  readonly hlc: HybridClock;
  readonly store: Store;
  private readonly clock: Clock;
  private readonly scheduler: Scheduler;
  private seq: number;
  /** Latest physical time this incarnation has read, so its reading of time never goes back. */
  private latest = 0;
  private batch: PendingBatch | undefined;

  constructor(options: ReplicaOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.scheduler = options.scheduler;
    this.region = options.region;
    let nodeId = this.store.getMeta("nodeId");
    this.stoppedUncleanly =
      nodeId !== undefined && mayHaveLostCommits(this.store.getMeta(RUNNING), options.bootId);
    if (nodeId === undefined || this.stoppedUncleanly) {
      const suffix = Buffer.from(options.rng.bytes(4)).toString("hex");
      nodeId = `${options.region}-${suffix}`;
      this.store.setMeta("nodeId", nodeId);
    }
    // What the next start needs to judge this run if it ends uncleanly: whether its commits
    // could be lost, and which boot of the machine it ran in.
    this.store.setMeta(
      RUNNING,
      this.store.commitsSurvivePowerLoss ? "durable" : `lossy ${options.bootId ?? ""}`,
    );
    this.nodeId = nodeId;
    const highWater = this.store.loadClock();
    this.hlc = new HybridClock(nodeId, options.clock, {
      maxClockSkewMs: options.maxClockSkewMs ?? 5000,
      ...(highWater ? { highWater } : {}),
    });
    this.seq = this.store.versionVector().max(nodeId);
  }

  /** Physical time in ms, as this node's clock tells it, but never going back within one incarnation. */
  now(): number {
    // Never behind a time this incarnation already acted on: after the physical clock steps
    // back, an expired session must not read as live again (found by the simulator).
    this.latest = Math.max(this.latest, this.clock.now());
    return this.latest;
  }

  /** The stored state of a session. */
  get(id: string): SessionState | undefined {
    return this.store.getSession(id);
  }

  /**
   * Applies a client write locally and durably; resolves with the delta to replicate once the
   * write is committed.
   *
   * @remarks Group commit: writes made in the same tick, and remote writes received in it (see
   * {@link Replica.applyRemote}), share one store transaction (one fsync), each local write
   * planned against the state that includes the local writes before it in the batch. Nothing is
   * pushed to peers before its commit, so a crash can never make this node reuse a dot a peer
   * already holds. If the commit fails, every write of the batch fails and their sequence
   * numbers are given back, so the origin's sequence keeps no hole.
   * @throws SessionDeletedError, SessionExpiredError, SessionNotFoundError (synchronously checked,
   * returned as a rejected promise)
   */
  write(id: string, write: SessionWrite): Promise<CommittedWrite> {
    const batch = this.openBatch();
    const joined = write.op === "delete" ? batch.localDelete(id) : undefined;
    if (joined !== undefined) {
      // A second delete in the same group commit joins the first instead of failing: deleting a
      // deleted session is not an error (found by the simulator).
      const state = batch.localState(id)!;
      return new Promise((resolve, reject) => {
        batch.onCommit(() => resolve({ delta: joined, state, previous: state }), reject);
      });
    }
    let current: SessionState | undefined;
    let fragment: SessionState;
    let stamp: Stamp;
    try {
      current = batch.localState(id) ?? this.storedForWrite(id);
      const hlc = this.hlc.now();
      stamp = { hlc, seq: this.seq + 1 };
      fragment = planWrite(current, write, stamp, Math.max(hlc.wall, this.now()), id);
    } catch (e) {
      return Promise.reject(e);
    }
    this.seq = stamp.seq;
    const delta: Delta = { dot: { origin: this.nodeId, seq: stamp.seq }, session: fragment };
    const state = current === undefined ? fragment : mergeSession(current, fragment);
    batch.addLocal(delta, state);
    const previous = current;
    return new Promise((resolve, reject) => {
      batch.onCommit(() => resolve({ delta, state, previous }), reject);
    });
  }

  /** The committed state of session `id` for a local write. @throws SessionDeletedError */
  private storedForWrite(id: string): SessionState | undefined {
    const stored = this.store.getSession(id);
    // Purging deletes a session's rows: only an absent one can have been purged.
    if (stored === undefined && this.store.wasPurged(id)) throw new SessionDeletedError(id);
    return stored;
  }

  /** The batch of the current tick, opened (and its commit scheduled) on first use. */
  private openBatch(): PendingBatch {
    let batch = this.batch;
    if (batch === undefined) {
      batch = new PendingBatch(this.seq + 1);
      this.batch = batch;
      this.scheduler.after(0, () => this.commit());
    }
    return batch;
  }

  /** Commits the writes of the current tick in one transaction and settles their promises. */
  private commit(): void {
    const batch = this.batch;
    this.batch = undefined;
    if (batch === undefined) return;
    let report: JoinReport;
    try {
      report = this.store.applyDeltas(batch.deltas(), this.hlc.highWater());
    } catch (e) {
      this.seq = batch.firstSeq - 1;
      batch.failed(e);
      return;
    }
    batch.committed(report.rejectedFieldWrites);
  }

  /**
   * Applies writes pushed by a peer: they join the current tick's group commit, and the promise
   * resolves once that commit is durable (rejects: it failed, and none of them may be
   * acknowledged). Writes stamped too far in the future are refused (not recorded, so
   * anti-entropy fetches them again once the clocks allow).
   *
   * @remarks They take effect at the commit, after the tick's local writes (which are planned
   * without them; see {@link PendingBatch}). A write already held (or already in the batch) is
   * held again, not applied twice, and not counted as a last-writer-wins loss a second time.
   */
  applyRemote(deltas: readonly Delta[]): Promise<RemoteApplyResult> {
    const held: Dot[] = [];
    let refusedSkew = 0;
    const batch = this.openBatch();
    for (const d of deltas) {
      const newest = newestStamp(d.session);
      if (newest !== undefined) {
        try {
          this.hlc.receive(newest.hlc);
        } catch (e) {
          if (e instanceof ClockSkewError) {
            refusedSkew += 1;
            continue;
          }
          throw e;
        }
      }
      held.push(d.dot);
      if (!this.store.holds(d.dot)) batch.addRemote(d);
    }
    return new Promise((resolve, reject) =>
      batch.onCommit(
        () => resolve({ held, refusedSkew, lostWrites: batch.takeLostWrites() }),
        reject,
      ),
    );
  }

  /**
   * Joins state fragments from repair. Returns how many were refused for clock skew; a caller
   * must then not claim the sender's version vector.
   */
  applyStates(states: readonly SessionState[]): number {
    return this.applyChunk(states).refused;
  }

  /**
   * Joins the fragments of an anti-entropy chunk, like {@link Replica.applyStates}, and counts
   * their field writes that are older than what this node stores: writes that lost a
   * last-writer-wins race here (a round carries only writes new to this node).
   *
   * @remarks The count comes from the store's join itself (its {@link JoinReport}), so no
   * session is read twice.
   */
  applyChunk(states: readonly SessionState[]): { refused: number; lostWrites: number } {
    const accepted: SessionState[] = [];
    for (const s of states) {
      const newest = newestStamp(s);
      if (newest !== undefined) {
        try {
          this.hlc.receive(newest.hlc);
        } catch (e) {
          if (e instanceof ClockSkewError) continue;
          throw e;
        }
      }
      accepted.push(s);
    }
    let lostWrites = 0;
    if (accepted.length > 0) {
      lostWrites = this.store.applyStates(accepted).rejectedFieldWrites;
      this.store.saveClock(this.hlc.highWater());
    }
    return { refused: states.length - accepted.length, lostWrites };
  }

  /**
   * Marks a clean stop, so the next start keeps this incarnation. Call it last, once no write
   * can commit any more.
   */
  markStopped(): void {
    this.store.setMeta(RUNNING, "0");
  }

  /** Whether the session reads as live, absent, expired or deleted now. */
  status(state: SessionState | undefined): ReturnType<typeof sessionStatus> {
    return sessionStatus(state, this.now());
  }
}

/** The greatest stamp in a state, if any. */
export function newestStamp(s: SessionState): Stamp | undefined {
  let best: Stamp | undefined;
  for (const st of sessionStamps(s))
    if (best === undefined || compareStamp(st, best) > 0) best = st;
  return best;
}

/** Whether every register of a pushed delta carries the delta's own dot (a whole single write). */
export function isWholeWrite(d: Delta): boolean {
  return sessionStamps(d.session).every(
    (st) => st.hlc.node === d.dot.origin && st.seq === d.dot.seq,
  );
}
