import type { Dot } from "./dot.ts";
import type { VersionVector } from "./version-vector.ts";

/**
 * A garbage-collected session id, with the dot of a delete of that session: what replicates the
 * memory of a purge to a node that lacks it (one restarted on a wiped disk, say).
 *
 * @remarks A purged id is a permanent remove-wins tombstone: the store that knows it drops every
 * state for the id and takes no write to it. `dot` is the delete whose tombstone was purged;
 * `null` when unknown (ids purged before the store recorded dots), and then sent to every peer.
 */
export interface PurgedId {
  readonly id: string;
  readonly dot: Dot | null;
}

/** A page of {@link Store.extractPurged}. */
export interface PurgedPage {
  /** Purged ids the asking peer may lack, in id order. */
  readonly purged: PurgedId[];
  /** Pass as `after` to read the next page; `null` when this was the last. */
  readonly next: string | null;
}

/**
 * Whether a peer whose version vector is `peer` may lack the purge of `p`.
 *
 * @remarks Sound because every store keeps this invariant: if its vector holds the dot of a
 * delete of session `id`, it holds a tombstone of `id` or knows `id` as purged. (A delete's dot
 * is recorded only with its tombstone, and a sync round's vector is merged only after every
 * tombstone and purged id the peer lacked arrived.) So a peer holding the dot needs nothing.
 */
export function peerLacksPurge(p: PurgedId, peer: VersionVector): boolean {
  return p.dot === null || !peer.has(p.dot);
}
