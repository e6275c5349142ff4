import type { PeerLink, Scheduler, SessionState, Store, VersionVector } from "@meridian/core";
import { estimateSize, MAX_MESSAGE_BYTES, purgedSize, takeBatch } from "./message-batching.ts";

/** Tuning and hooks of {@link SyncServing}. */
export interface SyncServingOptions {
  readonly store: Store;
  readonly scheduler: Scheduler;
  /** Sessions per extracted page, and purged ids per `sync-purged`. */
  readonly pageSize: number;
  /** Serving `link` failed on a store error; the link is already closed. */
  readonly onFault: (link: PeerLink, error: unknown) => void;
  /** Whether the node is stopping: serving stops at the next page. */
  readonly stopped: () => boolean;
}

/** One requester's round being served. */
interface Requester {
  readonly link: PeerLink;
  readonly round: number;
  /** The requester's own vector (equal in coverage to the extraction's). */
  readonly theirs: VersionVector;
  /** Next chunk index of this round. */
  index: number;
  /** Id of the last session extracted before this requester joined; undefined: from the start. */
  readonly joinedAfter: string | undefined;
  alive: boolean;
}

/** Pages of sessions being extracted for every requester with one version vector. */
interface Extraction {
  readonly key: string;
  readonly theirs: VersionVector;
  /** The server's vector, taken before the first page: what every requester may claim. */
  readonly snapshot: VersionVector;
  /** Id of the last session extracted so far; undefined before the first page. */
  cursor: string | undefined;
  readonly requesters: Requester[];
}

/**
 * The serving side of anti-entropy rounds: streams what a requester lacks, a page per tick so the
 * event loop keeps breathing, first the session fragments, then the purged ids, then `sync-done`
 * with the vector snapshotted before either.
 *
 * @remarks Rounds requested with equal version vectors while one is being served share its
 * extraction: a requester that joins late gets the pages from the join on as they are read, then
 * reads the pages before the join for itself, and claims the first requester's snapshot, which
 * every page it gets covers (its vector equals the one the extraction serves, and pages read later
 * hold at least what the snapshot needs). After a partition heals, a region that both others
 * lack serves its backlog once instead of once per peer.
 *
 * Purged ids go to a requester whose vector lacks the dot of the purged tombstone's delete (see
 * `peerLacksPurge`): in practice a new node id, such as a node restarted on a wiped disk, since
 * every other node held the delete before it was purged. This keeps the invariant that a vector
 * holding a delete's dot comes with the tombstone or the purge, which is what lets the requester
 * merge the snapshot. They are read after every session page the requester gets, so a tombstone
 * this node purges while the round is served is sent one way or the other.
 */
export class SyncServing {
  private readonly extractions = new Map<string, Extraction>();

  constructor(private readonly o: SyncServingOptions) {}

  /** Serves round `round` of the requester on `link`, whose vector is `theirs`. */
  serve(link: PeerLink, round: number, theirs: VersionVector): void {
    const key = theirs.toString();
    const running = this.extractions.get(key);
    const requester = (joinedAfter: string | undefined): Requester => ({
      link,
      round,
      theirs,
      index: 0,
      joinedAfter,
      alive: true,
    });
    if (running !== undefined) {
      running.requesters.push(requester(running.cursor));
      return;
    }
    const extraction: Extraction = {
      key,
      theirs,
      snapshot: this.o.store.versionVector(),
      cursor: undefined,
      requesters: [requester(undefined)],
    };
    this.extractions.set(key, extraction);
    this.sharedPage(extraction);
  }

  private sharedPage(x: Extraction): void {
    const live = x.requesters.filter((r) => r.alive);
    if (this.o.stopped() || live.length === 0) {
      this.extractions.delete(x.key);
      return;
    }
    let page: { sessions: SessionState[]; next: string | null };
    try {
      page = this.o.store.extractMissing(x.theirs, this.page(x.cursor));
    } catch (e) {
      this.extractions.delete(x.key);
      for (const r of live) this.fail(r, e);
      return;
    }
    // Settled before sending: a requester that joins meanwhile reads this page among the ones
    // before it joined, and none joins an extraction that is over.
    if (page.next === null) this.extractions.delete(x.key);
    else x.cursor = page.next;
    // One set of chunk arrays for every requester: the codec packs each array once.
    const chunks = chunksOf(page.sessions);
    for (const r of live) this.sendChunks(r, chunks);
    if (page.next === null) {
      for (const r of live) if (r.alive) this.prefixPage(r, x.snapshot, undefined);
      return;
    }
    this.o.scheduler.after(0, () => this.sharedPage(x));
  }

  /** Reads, for a requester that joined late, the pages extracted before it joined. */
  private prefixPage(r: Requester, snapshot: VersionVector, cursor: string | undefined): void {
    const until = r.joinedAfter;
    if (until === undefined) {
      this.purgedPage(r, snapshot, undefined);
      return;
    }
    if (this.o.stopped()) return;
    try {
      const { sessions, next } = this.o.store.extractMissing(r.theirs, this.page(cursor));
      this.sendChunks(r, chunksOf(sessions.filter((s) => s.id <= until)));
      if (!r.alive) return;
      if (next === null || next >= until) {
        this.purgedPage(r, snapshot, undefined);
        return;
      }
      this.o.scheduler.after(0, () => this.prefixPage(r, snapshot, next));
    } catch (e) {
      this.fail(r, e);
    }
  }

  private purgedPage(r: Requester, snapshot: VersionVector, cursor: string | undefined): void {
    if (this.o.stopped()) return;
    try {
      const { purged, next } = this.o.store.extractPurged(r.theirs, this.page(cursor));
      while (purged.length > 0) {
        const chunk = takeBatch(purged, purged.length, MAX_MESSAGE_BYTES, purgedSize);
        if (!r.link.send({ type: "sync-purged", round: r.round, index: r.index, purged: chunk }))
          return;
        r.index += 1;
      }
      if (next === null) {
        r.link.send({ type: "sync-done", round: r.round, chunks: r.index, vv: snapshot });
        return;
      }
      this.o.scheduler.after(0, () => this.purgedPage(r, snapshot, next));
    } catch (e) {
      this.fail(r, e);
    }
  }

  /** Sends each of `chunks` as a `sync-chunk`, stopping at the first send refused. */
  private sendChunks(r: Requester, chunks: readonly SessionState[][]): void {
    for (const chunk of chunks) {
      if (!r.alive) return;
      if (r.link.send({ type: "sync-chunk", round: r.round, index: r.index, sessions: chunk })) {
        r.index += 1;
      } else {
        // Not sent: this round is over for the requester, which retries later.
        r.alive = false;
      }
    }
  }

  private page(cursor: string | undefined): { limit: number; after?: string } {
    return cursor === undefined
      ? { limit: this.o.pageSize }
      : { limit: this.o.pageSize, after: cursor };
  }

  /** A store failure ends this round for this requester only; it retries later. */
  private fail(r: Requester, error: unknown): void {
    r.alive = false;
    r.link.close(1011, "sync failed");
    this.o.onFault(r.link, error);
  }
}

/** `sessions` cut into chunks bounded in bytes, so no frame outgrows the peer's limit. */
function chunksOf(sessions: readonly SessionState[]): SessionState[][] {
  const queue = [...sessions];
  const chunks: SessionState[][] = [];
  while (queue.length > 0)
    chunks.push(takeBatch(queue, queue.length, MAX_MESSAGE_BYTES, estimateSize));
  return chunks;
}
