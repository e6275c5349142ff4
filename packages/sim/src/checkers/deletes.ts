import { sessionStatus } from "@meridian/core";
import type { History, OpRecord } from "../history.ts";
import { HistoryIndex, regionsReached } from "./history-index.ts";
import type { Violation } from "./violation.ts";

/** A delete acknowledged to the client: by `delete`, or by `revoke` for each session it wrote. */
interface AckedDelete {
  readonly op: OpRecord;
  readonly id: string;
}

/**
 * Remove-wins: no deleted or revoked session is readable again.
 *
 * @remarks After a delete is acknowledged, a read must answer 410 or 404 when it is bound to
 * see the delete: on the same node incarnation that made it, or when both are quorum or `all`
 * and their regions must overlap (unless a disk was wiped in between). A node that once answered
 * 410 never serves the session again, and a node that made a delete refuses later writes to the
 * session. At the end no replica holds the session live. Deleting a deleted session succeeds.
 */
export function checkDeletes(history: History): Violation[] {
  const index = new HistoryIndex(history);
  const out: Violation[] = [];
  const deletes: AckedDelete[] = [];
  for (const op of history.ops) {
    if (op.status !== "ok") continue;
    if (op.type === "delete" && op.sessionId !== undefined) deletes.push({ op, id: op.sessionId });
    if (op.type === "revoke") {
      for (const w of index.writesByOp.get(op.index) ?? []) deletes.push({ op, id: w.fragment.id });
    }
  }
  const n = index.clusterSize;
  for (const d of deletes) {
    const done = d.op.completedAt!;
    for (const r of history.ops) {
      if (r.sessionId !== d.id || r.invokedAt <= done || r.status !== "ok") continue;
      const sameNode = r.incarnation !== undefined && r.incarnation === d.op.incarnation;
      const overlap =
        regionsReached(d.op.consistency, n) + regionsReached(r.consistency, n) > n &&
        !index.wipedBetween(done, r.completedAt ?? r.invokedAt);
      if (r.type === "get" && (sameNode || overlap)) {
        out.push({
          checker: "deletes",
          message: `op${r.index} read ${d.id} at ${r.incarnation} after op${d.op.index} deleted it (${d.op.consistency}/${r.consistency})`,
        });
      }
      if (r.type !== "get" && r.type !== "delete" && r.type !== "revoke" && sameNode) {
        out.push({
          checker: "deletes",
          message: `op${r.index} ${r.type} to ${d.id} accepted at ${r.incarnation} after op${d.op.index} deleted it there`,
        });
      }
    }
  }
  // Deleting a deleted (or purged) session is not an error, nor revoking a user whose sessions
  // are already (being) deleted.
  for (const d of history.ops) {
    if ((d.type === "delete" || d.type === "revoke") && d.code === "MERIDIAN_ERR_SESSION_DELETED") {
      out.push({
        checker: "deletes",
        message: `op${d.index} ${d.type} of ${d.sessionId ?? d.user} at ${d.incarnation} answered "deleted" instead of succeeding`,
      });
    }
  }
  // Once a node answered "deleted", it never serves the session again.
  for (const gone of history.ops) {
    if (gone.code !== "MERIDIAN_ERR_SESSION_DELETED" || gone.completedAt === undefined) continue;
    const again = history.ops.find(
      (r) =>
        r.type === "get" &&
        r.status === "ok" &&
        r.sessionId === gone.sessionId &&
        r.incarnation === gone.incarnation &&
        r.invokedAt > gone.completedAt!,
    );
    if (again !== undefined) {
      out.push({
        checker: "deletes",
        message: `op${again.index} read ${gone.sessionId} at ${again.incarnation}, which answered deleted to op${gone.index}`,
      });
    }
  }
  for (const d of deletes) {
    if (index.history.observedWrites) {
      // The tombstone survives only if some delete of the session is on a disk never wiped
      // since (a repeated delete writes nothing: it relies on the tombstone already held).
      const tombstones = (index.writesBySession.get(d.id) ?? []).filter(
        (w) => w.fragment.deleted !== undefined,
      );
      if (!tombstones.some((w) => index.isDurable(w))) continue;
    }
    for (const node of history.final) {
      const s = node.sessions.find((x) => x.id === d.id);
      if (s !== undefined && sessionStatus(s, node.now) === "live") {
        out.push({
          checker: "deletes",
          message: `${node.region} holds ${d.id} live at the end though op${d.op.index} deleted it`,
        });
      }
    }
  }
  return out;
}
