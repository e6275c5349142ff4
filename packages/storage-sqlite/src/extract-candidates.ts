import type { VersionVector } from "@meridian/core";
import type { Statements } from "./statements.ts";

/**
 * Ids (after `after`, ascending) of the sessions holding a register with a write above the
 * peer's contiguous base for some origin: a superset of the sessions the peer lacks something
 * of. `null` when some origin has more than `cap` of them; the peer is then far behind and a
 * scan in id order is cheaper than gathering candidates again for every page.
 *
 * @remarks Reads `session_dots` (each session's newest dot per origin) from `peer.base(origin)`
 * upwards only, so a peer that is slightly behind costs a few index rows, not a scan. Writes the peer holds as ranges
 * above its base are filtered out later, per register, with `missingFragment`.
 */
export function extractCandidates(
  q: Statements,
  origins: Iterable<string>,
  peer: VersionVector,
  after: string,
  cap: number,
): string[] | null {
  const ids = new Set<string>();
  for (const origin of origins) {
    const rows = q.candidates.all({ origin, base: peer.base(origin), after, cap: cap + 1 });
    if (rows.length > cap) return null;
    for (const r of rows) ids.add(r.id);
  }
  // Session ids are ASCII (see isSessionId), where this order is SQLite's BINARY order.
  return [...ids].sort();
}
