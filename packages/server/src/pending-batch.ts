import { type Delta, type Dot, dotKey, type SessionState } from "@meridian/core";

/** What applying remote writes did. */
export interface RemoteApplyResult {
  /** Dots now held durably (newly applied or already held): these may be acknowledged. */
  readonly held: Dot[];
  /** Writes refused because their clock was too far ahead; anti-entropy retries them. */
  readonly refusedSkew: number;
  /** Field writes among the new ones that arrived older than the stored value (LWW losers). */
  readonly lostWrites: number;
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

/**
 * The writes of one tick waiting for their shared commit: local writes, and remote writes that
 * peers pushed during the tick.
 *
 * @remarks Pure bookkeeping, no I/O. Remote writes take effect at the commit, after the tick's
 * local writes: a local write is planned against the stored state and the local writes before
 * it, never against a remote write that is not durable yet (a local delete of a session whose
 * remote delete is pending succeeds, as it did a moment earlier; found by the simulator).
 * Remote and local writes commit in one store transaction, so either every waiter of the batch
 * is settled with success or every one with the commit's error: nothing of a failed batch is
 * acknowledged.
 */
export class PendingBatch {
  /** Local writes, in sequence order. */
  private readonly local: Delta[] = [];
  /** Remote writes new to this node, in arrival order. */
  private readonly remote: Delta[] = [];
  /** Field writes of the remote writes that lost last-writer-wins, known once committed. */
  private lost = 0;
  /** Sessions a local write touched, as they stand after the batch's local writes so far. */
  private readonly overlay = new Map<string, SessionState>();
  /** Dots in `remote`, so a write delivered twice in one tick is counted once. */
  private readonly remoteDots = new Set<string>();
  private readonly waiters: Waiter[] = [];

  /** @param firstSeq the sequence number the first local write of this batch gets. */
  constructor(readonly firstSeq: number) {}

  /**
   * Session `id` after the batch's local writes to it; undefined when none touched it (the next
   * local write then sees its committed state).
   */
  localState(id: string): SessionState | undefined {
    return this.overlay.get(id);
  }

  /** Adds a local write; `state` is its session after it (the earlier local writes included). */
  addLocal(delta: Delta, state: SessionState): void {
    this.overlay.set(delta.session.id, state);
    this.local.push(delta);
  }

  /** Adds a remote write new to this node, unless the batch already holds it. */
  addRemote(delta: Delta): void {
    const key = dotKey(delta.dot);
    if (this.remoteDots.has(key)) return;
    this.remoteDots.add(key);
    this.remote.push(delta);
  }

  /** Calls `resolve` once the batch committed, `reject` with the error if the commit failed. */
  onCommit(resolve: () => void, reject: (e: unknown) => void): void {
    this.waiters.push({ resolve, reject });
  }

  /** The local delete of session `id` already in the batch, if any. */
  localDelete(id: string): Delta | undefined {
    return this.local.find((d) => d.session.id === id && d.session.deleted !== undefined);
  }

  /** Every write to commit: the local ones, then the remote ones. */
  deltas(): readonly Delta[] {
    return this.remote.length === 0 ? this.local : [...this.local, ...this.remote];
  }

  /**
   * The field writes of this batch's remote writes that lost last-writer-wins, reported once:
   * the first caller after the commit gets them, later ones 0.
   */
  takeLostWrites(): number {
    const lost = this.lost;
    this.lost = 0;
    return lost;
  }

  /**
   * Settles every waiter: the commit succeeded, and its join rejected `rejectedFieldWrites`
   * field writes. Only remote writes can have lost: the local ones come first in the commit and
   * carry stamps newer than anything this node has seen.
   */
  committed(rejectedFieldWrites: number): void {
    this.lost = rejectedFieldWrites;
    for (const w of this.waiters) w.resolve();
  }

  /** Settles every waiter: the commit failed with `error`. */
  failed(error: unknown): void {
    for (const w of this.waiters) w.reject(error);
  }
}
