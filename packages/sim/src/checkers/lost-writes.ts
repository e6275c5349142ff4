import type { History } from "../history.ts";
import { HistoryIndex } from "./history-index.ts";
import { slotOrder, slotsOf, stampText } from "./slots.ts";
import type { Violation } from "./violation.ts";

/**
 * No acknowledged write is lost unless a write with a greater (hlc, origin) replaced it.
 *
 * @remarks With observed writes: every register an acknowledged, durable write made must, in
 * every final state, still hold that write or one that wins over it. Without (processes): the
 * write's dot comes from its version token; each field it set must hold that dot, or a
 * timestamp not older than the write's invocation (a smaller one proves an older write won).
 */
export function checkLostWrites(history: History): Violation[] {
  const index = new HistoryIndex(history);
  const out: Violation[] = [];
  for (const op of history.ops) {
    if (op.status !== "ok" || op.type === "get") continue;
    const id = index.sessionOf(op);
    if (id === undefined || index.purged(id)) continue;
    if (history.observedWrites) {
      for (const w of index.writesByOp.get(op.index) ?? []) {
        // Garbage collection removes a session whole, on purpose (its own checker judges it).
        if (!index.isDurable(w) || index.purged(w.fragment.id)) continue;
        for (const node of history.final) {
          const state = node.sessions.find((s) => s.id === w.fragment.id);
          const finals = new Map((state ? slotsOf(state) : []).map((s) => [s.slot, s]));
          for (const mine of slotsOf(w.fragment)) {
            const now = finals.get(mine.slot);
            if (now === undefined || slotOrder(now, mine) < 0) {
              out.push({
                checker: "lost-writes",
                message: `${node.region} ${w.fragment.id}: op${op.index}'s ${mine.slot} (${stampText(mine.stamp)}) was lost${now ? ` to older ${stampText(now.stamp)}` : ""}`,
              });
            }
          }
        }
      }
      continue;
    }
    const version = op.answer?.version;
    if (version === undefined || Object.keys(op.set).length === 0) continue;
    for (const node of history.final) {
      const state = node.sessions.find((s) => s.id === id);
      for (const field of Object.keys(op.set)) {
        const reg = state?.fields.get(field);
        const dot = reg?.kind === "value" ? `${reg.stamp.seq}.${reg.stamp.hlc.node}` : undefined;
        if (dot === version) continue;
        if (reg === undefined || (reg.kind === "value" && reg.stamp.hlc.wall < op.invokedAt)) {
          out.push({
            checker: "lost-writes",
            message: `${node.region} ${id}: op${op.index}'s ${field} (version ${version}) was lost${reg?.kind === "value" ? ` to older ${stampText(reg.stamp)}` : ""}`,
          });
        }
      }
    }
  }
  return out;
}
