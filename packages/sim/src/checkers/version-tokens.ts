import type { History } from "../history.ts";
import { HistoryIndex } from "./history-index.ts";
import { judge } from "./quorum-reads.ts";
import type { Violation } from "./violation.ts";

/**
 * Read-your-writes: a read with a version token sees the write the token names.
 *
 * @remarks The token of a write answer is that write's dot; an `after` read that answers must
 * show the write's values or newer ones (`MERIDIAN_ERR_VERSION_UNAVAILABLE` is an allowed
 * refusal). Also checks that every write answer's token is the dot the write really got.
 */
export function checkVersionTokens(history: History): Violation[] {
  const index = new HistoryIndex(history);
  const out: Violation[] = [];
  const byToken = new Map<string, (typeof history.ops)[number]>();
  for (const op of history.ops) {
    if (op.status !== "ok" || op.answer === undefined || op.type === "get") continue;
    byToken.set(op.answer.version, op);
    if (history.observedWrites) {
      const w = index.writeOf(op, op.answer.id);
      const dot = w === undefined ? undefined : `${w.stamp.seq}.${w.stamp.hlc.node}`;
      if (dot !== op.answer.version) {
        out.push({
          checker: "version-tokens",
          message: `op${op.index} answered version ${op.answer.version} but its write is ${dot ?? "missing"}`,
        });
      }
    }
  }
  for (const read of history.ops) {
    if (read.type !== "get" || read.after === undefined || read.sessionId === undefined) continue;
    const w = byToken.get(read.after);
    if (w === undefined) continue;
    if (index.wipedBetween(w.completedAt!, read.completedAt ?? read.invokedAt)) continue;
    const why = judge(index, w, read, read.sessionId);
    if (why !== undefined) {
      out.push({
        checker: "version-tokens",
        message: `op${read.index} (get after ${read.after} at ${read.region}) missed op${w.index}: ${why}`,
      });
    }
  }
  return out;
}
