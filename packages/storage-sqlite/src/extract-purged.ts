import { type PurgedId, type PurgedPage, peerLacksPurge, type VersionVector } from "@meridian/core";
import type { PurgedRow, Statements } from "./statements.ts";

/** Purged ids read per query when walking the `purged` table in id order. */
const CHUNK = 256;

/**
 * The purged ids after `after` that a peer with version vector `peer` may lack, in id order, at
 * most `limit`: the storage side of `Store.extractPurged`.
 *
 * @remarks Gathers candidates through the `(origin, seq)` index from the peer's contiguous base
 * upwards, plus the ids whose dot is unknown, so a peer that holds every purge (every peer but a
 * new one) costs a few index probes, not a scan of a table that only grows. When some origin has
 * more than `cap` candidates the peer is far behind (a new node) and the table is read in id
 * order instead, a chunk at a time.
 */
export function extractPurged(
  q: Statements,
  origins: Iterable<string>,
  peer: VersionVector,
  after: string,
  limit: number,
  cap: number,
): PurgedPage {
  const candidates = purgedCandidates(q, origins, peer, after, cap);
  const rows = candidates ?? purgedInIdOrder(q, after);
  const out: PurgedId[] = [];
  for (const row of rows) {
    const p = purgedOf(row);
    if (!peerLacksPurge(p, peer)) continue;
    if (out.length >= limit) return { purged: out, next: out[out.length - 1]!.id };
    out.push(p);
  }
  return { purged: out, next: null };
}

function purgedCandidates(
  q: Statements,
  origins: Iterable<string>,
  peer: VersionVector,
  after: string,
  cap: number,
): PurgedRow[] | null {
  const rows: PurgedRow[] = [];
  for (const origin of origins) {
    const found = q.purgedAbove.all({ origin, base: peer.base(origin), after, cap: cap + 1 });
    if (found.length > cap) return null;
    rows.push(...found);
  }
  const unknown = q.purgedWithoutDot.all({ after, cap: cap + 1 });
  if (unknown.length > cap) return null;
  rows.push(...unknown);
  // Session ids are ASCII (see isSessionId), where this order is SQLite's BINARY order.
  return rows.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
}

function* purgedInIdOrder(q: Statements, after: string): IterableIterator<PurgedRow> {
  let cursor = after;
  for (;;) {
    const chunk = q.purgedAfter.all(cursor, CHUNK);
    yield* chunk;
    const last = chunk[chunk.length - 1];
    if (last === undefined || chunk.length < CHUNK) return;
    cursor = last.id;
  }
}

function purgedOf(row: PurgedRow): PurgedId {
  return {
    id: row.id,
    dot: row.origin === null || row.seq === null ? null : { origin: row.origin, seq: row.seq },
  };
}
