import type { History } from "../history.ts";
import { HistoryIndex } from "./history-index.ts";
import { lifetimeProblems } from "./lifetimes.ts";
import { type SlotValue, sameWrite, slotOrder, slotsOf, stampText } from "./slots.ts";
import type { Violation } from "./violation.ts";

/**
 * The final state of every session equals what a last-writer-wins oracle computes from the
 * history's committed writes.
 *
 * @remarks Each register (a field, last access, deadline, idle, user, deleted) must hold a
 * contribution some write really made, with the same contents, and one that wins (by its join:
 * greatest (hlc, origin) for last-writer-wins, latest time for last access, earliest delete)
 * over every write that must have been applied. The lifetime register (expiry) is a set: see
 * {@link lifetimeProblems}. Writes that may or may not have been applied
 * (committed on a disk later wiped) may win or lose; they are never required. A register no
 * write made is a phantom. Checked on every replica's final state.
 */
export function checkLwwOracle(history: History): Violation[] {
  if (!history.observedWrites) return [];
  const index = new HistoryIndex(history);
  const out: Violation[] = [];
  for (const node of history.final) {
    const seen = new Set<string>();
    for (const state of node.sessions) {
      seen.add(state.id);
      const writes = index.writesBySession.get(state.id) ?? [];
      const finals = new Map(slotsOf(state).map((s) => [s.slot, s]));
      const contributions = new Map<string, { slot: SlotValue; durable: boolean }[]>();
      for (const w of writes) {
        const durable = index.isDurable(w);
        for (const slot of slotsOf(w.fragment)) {
          let list = contributions.get(slot.slot);
          if (list === undefined) {
            list = [];
            contributions.set(slot.slot, list);
          }
          list.push({ slot, durable });
        }
      }
      for (const [name, final] of finals) {
        const list = contributions.get(name) ?? [];
        const made = list.find((c) => sameWrite(c.slot.stamp, final.stamp));
        if (made === undefined) {
          out.push(
            violation(
              node.region,
              state.id,
              `${name} holds ${stampText(final.stamp)}, a write nobody made`,
            ),
          );
          continue;
        }
        if (made.slot.value !== final.value) {
          out.push(
            violation(
              node.region,
              state.id,
              `${name} holds ${final.value} under ${stampText(final.stamp)}, which wrote ${made.slot.value}`,
            ),
          );
        }
        const beaten = list.find((c) => c.durable && slotOrder(c.slot, final) > 0);
        if (beaten !== undefined) {
          out.push(
            violation(
              node.region,
              state.id,
              `${name} holds ${final.value} (${stampText(final.stamp)}) but the applied write ` +
                `${stampText(beaten.slot.stamp)} (${beaten.slot.value}) should win`,
            ),
          );
        }
      }
      for (const problem of lifetimeProblems(index, state)) {
        out.push(violation(node.region, state.id, problem));
      }
      for (const [name, list] of contributions) {
        if (finals.has(name)) continue;
        const lost = list.find((c) => c.durable);
        if (lost !== undefined) {
          out.push(
            violation(
              node.region,
              state.id,
              `${name} is missing though ${stampText(lost.slot.stamp)} wrote it`,
            ),
          );
        }
      }
    }
    for (const [id, writes] of index.writesBySession) {
      if (seen.has(id) || index.purged(id)) continue;
      const durable = writes.find((w) => index.isDurable(w));
      if (durable !== undefined) {
        out.push(
          violation(
            node.region,
            id,
            `session is missing though ${stampText(durable.stamp)} wrote it`,
          ),
        );
      }
    }
  }
  return out;
}

function violation(region: string, id: string, text: string): Violation {
  return { checker: "lww-oracle", message: `${region} ${id}: ${text}` };
}
