import type { History, OpRecord } from "../history.ts";
import { HistoryIndex, regionsReached } from "./history-index.ts";
import { missedWrite } from "./reflects-write.ts";
import type { Violation } from "./violation.ts";

const WRITES = new Set<OpRecord["type"]>(["create", "put", "patch"]);

/**
 * A quorum read never returns state older than a quorum write that completed before the read was
 * invoked.
 *
 * @remarks Applies when the two operations' regions must overlap (quorum or `all` on both sides)
 * and no disk was wiped between the write and the read. The read must then show, for every field
 * the write set or unset, that write's value or a newer one; a 404 is a violation too unless the
 * session may have expired or been deleted by then.
 */
export function checkQuorumReads(history: History): Violation[] {
  const index = new HistoryIndex(history);
  const n = index.clusterSize;
  const out: Violation[] = [];
  const writes = history.ops.filter(
    (w) => w.status === "ok" && WRITES.has(w.type) && w.consistency !== "local",
  );
  for (const read of history.ops) {
    if (read.type !== "get" || read.consistency === "local" || read.sessionId === undefined)
      continue;
    if (read.status === "unknown") continue;
    for (const w of writes) {
      const id = index.sessionOf(w);
      if (id !== read.sessionId || w.completedAt! >= read.invokedAt) continue;
      if (regionsReached(w.consistency, n) + regionsReached(read.consistency, n) <= n) continue;
      if (index.wipedBetween(w.completedAt!, read.completedAt ?? read.invokedAt)) continue;
      const why = judge(index, w, read, id);
      if (why !== undefined) {
        out.push({
          checker: "quorum-reads",
          message: `op${read.index} (${read.consistency} get at ${read.region}) missed op${w.index} (${w.consistency} ${w.type}): ${why}`,
        });
      }
    }
  }
  return out;
}

/** Why `read` fails to reflect `w`, if it does. Shared with the version-token checker. */
export function judge(
  index: HistoryIndex,
  w: OpRecord,
  read: OpRecord,
  id: string,
): string | undefined {
  if (read.status === "ok" && read.answer !== undefined) {
    return missedWrite(index, w, id, read.answer);
  }
  if (read.code === "MERIDIAN_ERR_NOT_FOUND" && !mayBeGone(index, id, read)) {
    return "answered 404 for a session that can be neither expired nor deleted";
  }
  return undefined;
}

/** Whether the session may read as absent for `read`: a delete exists, or it may have expired. */
function mayBeGone(index: HistoryIndex, id: string, read: OpRecord): boolean {
  const h = index.history;
  const now = (read.nodeNow ?? read.completedAt ?? 0) + h.maxObservedSkewMs + h.maxClockSkewMs;
  for (const op of h.ops) {
    if (index.sessionOf(op) !== id) continue;
    if (op.type === "delete" || op.type === "revoke") return true;
    if (op.answer?.expiresAt != null && op.answer.expiresAt <= now) return true;
  }
  for (const w of index.writesBySession.get(id) ?? []) {
    if (w.fragment.deleted !== undefined) return true;
    if ((w.fragment.lifetimes ?? []).some((l) => l.until <= now)) return true;
    const idle = w.fragment.idleMs?.value;
    if (idle != null) return true;
  }
  // Without observed writes, a revoke may have deleted it through its user.
  return !h.observedWrites && h.ops.some((op) => op.type === "revoke");
}
