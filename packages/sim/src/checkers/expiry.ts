import { lifetimeEnd } from "@meridian/core";
import type { History, OpRecord } from "../history.ts";
import type { Violation } from "./violation.ts";

/**
 * No expired session is readable again.
 *
 * @remarks Judged per node incarnation. A node's state of a session only grows by joins, so once
 * the node has served the session and then answered 404 for it, or refused a write to it as
 * expired, at its clock time T, the session had expired there by T. A later successful read on
 * the same incarnation is a violation when it answers an expiry not after T (the node's time
 * went back), or, with observed writes, when the later expiry comes only from writes issued
 * after T (beyond the clock skew seen): a write brought the session back. An expiry extended
 * by a write made before T on the other side of a partition is the merge rule (touch wins), not
 * a resurrection; so is any expiry reached from a lifetime that writes made by T kept alive past
 * T (core's rule: a lifetime that starts while the session lives extends it).
 */
export function checkExpiry(history: History): Violation[] {
  const out: Violation[] = [];
  const byNode = new Map<string, OpRecord[]>();
  for (const op of history.ops) {
    if (op.incarnation === undefined || op.sessionId === undefined) continue;
    if (op.status === "unknown" || op.completedAt === undefined) continue;
    const key = `${op.incarnation} ${op.sessionId}`;
    const list = byNode.get(key);
    if (list === undefined) byNode.set(key, [op]);
    else list.push(op);
  }
  for (const ops of byNode.values()) {
    ops.sort((a, b) => a.completedAt! - b.completedAt! || a.index - b.index);
    // When the node first answered with the session (completion of a successful operation).
    let servedAt = Number.POSITIVE_INFINITY;
    let expiredBy: OpRecord | undefined;
    for (const op of ops) {
      const live = op.status === "ok" && op.type === "get";
      if (
        live &&
        expiredBy !== undefined &&
        op.invokedAt > expiredBy.completedAt! &&
        cameBack(history, op, expiredBy.nodeNow ?? expiredBy.completedAt!)
      ) {
        out.push({
          checker: "expiry",
          message:
            `op${op.index} read ${op.sessionId} at ${op.incarnation} after op${expiredBy.index} ` +
            `found it expired there (${expiredBy.code})`,
        });
        break;
      }
      // A 404 counts only for a read invoked after the node had served the session: one that
      // overlapped the creating write may simply have come first.
      const expired =
        op.code === "MERIDIAN_ERR_SESSION_EXPIRED" ||
        (op.type === "get" && op.code === "MERIDIAN_ERR_NOT_FOUND" && op.invokedAt > servedAt);
      if (expired && expiredBy === undefined) expiredBy = op;
      if (op.status === "ok" && op.type !== "delete" && op.type !== "revoke") {
        servedAt = Math.min(servedAt, op.completedAt!);
      }
    }
  }
  return out;
}

/** Whether `read`, live after its node found the session expired at time `t`, breaks the rule. */
function cameBack(history: History, read: OpRecord, t: number): boolean {
  const expiry = read.answer?.expiresAt;
  if (expiry == null || expiry <= t) return true;
  if (!history.observedWrites) return false;
  // The merge rule, as core computes expiry: if the writes made by `t` (beyond the skew seen)
  // already kept the session alive past `t`, the node only lacked one of them; what they reach,
  // later lifetimes they bridge to included, is the merge rule (touch wins), not a revival.
  const early = history.writes.flatMap((w) =>
    w.fragment.id === read.sessionId && w.stamp.hlc.wall <= t + history.maxObservedSkewMs
      ? (w.fragment.lifetimes ?? [])
      : [],
  );
  if (early.length > 0 && lifetimeEnd(early) > t) return false;
  const extenders = history.writes.filter(
    (w) =>
      w.fragment.id === read.sessionId &&
      (w.fragment.lifetimes ?? []).some((l) => l.until === expiry),
  );
  // An expiry no write set directly (idle timeout, lifetime cap) is not attributed: let it pass.
  return (
    extenders.length > 0 && extenders.every((w) => w.stamp.hlc.wall > t + history.maxObservedSkewMs)
  );
}
