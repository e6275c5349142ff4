import { sessionStatus } from "@meridian/core";
import type { History } from "../history.ts";
import type { Violation } from "./violation.ts";

/**
 * Garbage collection never brings anything back.
 *
 * @remarks For every purge the history records (a node dropping a tombstone or an expired
 * session): the session must have been deleted or expired before, the node must serve it or
 * accept a write to it never again, and no replica may hold it live at the end. Until the
 * nodes collect garbage the history holds no purge and this checker has nothing to judge.
 */
export function checkGarbageCollection(history: History): Violation[] {
  const out: Violation[] = [];
  for (const purge of history.nodeEvents) {
    if (purge.type !== "purge" || purge.sessionId === undefined) continue;
    const id = purge.sessionId;
    const deleted = history.writes.some(
      (w) => w.fragment.id === id && w.fragment.deleted !== undefined && w.committedAt <= purge.at,
    );
    const expired = history.writes.some(
      (w) => w.fragment.id === id && (w.fragment.lifetimes ?? []).some((l) => l.until <= purge.at),
    );
    if (history.observedWrites && !deleted && !expired) {
      out.push({
        checker: "garbage-collection",
        message: `${purge.incarnation} purged ${id}, which was neither deleted nor expired`,
      });
    }
    const back = history.ops.find(
      (op) =>
        op.sessionId === id &&
        op.incarnation === purge.incarnation &&
        op.status === "ok" &&
        op.type !== "delete" &&
        op.type !== "revoke" &&
        op.invokedAt > purge.at,
    );
    if (back !== undefined) {
      out.push({
        checker: "garbage-collection",
        message: `op${back.index} ${back.type} of ${id} succeeded at ${purge.incarnation} after it purged the session`,
      });
    }
    for (const node of history.final) {
      const s = node.sessions.find((x) => x.id === id);
      if (s !== undefined && sessionStatus(s, node.now) === "live") {
        out.push({
          checker: "garbage-collection",
          message: `${node.region} holds ${id} live at the end after ${purge.incarnation} purged it`,
        });
      }
    }
  }
  return out;
}
