import { compareStamp } from "@meridian/core";
import type { OpAnswer, OpRecord } from "../history.ts";
import type { HistoryIndex } from "./history-index.ts";

/**
 * Whether a read answer `seen` reflects the write `op` made to session `id`: every field the
 * write set or unset shows that write's value or a provably newer one.
 *
 * @remarks With observed writes (the simulator) "newer" compares stamps exactly. Without (real
 * processes on one machine, one clock) it is judged from real time, soundly: a write completed
 * before `op` was invoked has a smaller stamp, so showing its value instead is a stale read,
 * while overlapping writes may go either way. Returns the reason when not reflected.
 */
export function missedWrite(
  index: HistoryIndex,
  op: OpRecord,
  id: string,
  seen: OpAnswer,
): string | undefined {
  const effect = effectOf(index, op, id);
  for (const [field, expected] of effect.fields) {
    const shown = seen.data[field];
    if (shown === expected) continue;
    if (shown !== undefined) {
      const writer = index.writeOfValue.get(shown);
      if (writer === undefined) return `${field}=${shown} is a value no operation wrote`;
      if (!newer(index, writer, op, id)) {
        return `${field} shows ${shown} (op${writer.index}), older than op${op.index}'s ${expected ?? "unset"}`;
      }
      continue;
    }
    // Absent: fine only if a write not older than `op` may have unset the field.
    const unsetter = index.history.ops.find(
      (o) =>
        o !== op &&
        mayHaveApplied(index, o, id) &&
        index.sessionOf(o) === id &&
        unsets(index, o, id, field) &&
        newer(index, o, op, id),
    );
    if (expected !== null && unsetter === undefined) {
      return `${field} is absent, though op${op.index} set it to ${expected} and nothing newer unset it`;
    }
  }
  return undefined;
}

/** Whether `o` may have written to `id`: committed (observed), or not refused (processes). */
function mayHaveApplied(index: HistoryIndex, o: OpRecord, id: string): boolean {
  if (index.history.observedWrites) return index.writeOf(o, id) !== undefined;
  return o.status !== "fail" || o.code === "MERIDIAN_ERR_QUORUM_UNAVAILABLE";
}

interface Effect {
  /** Field name to the value written, or null for an unset. */
  readonly fields: Map<string, string | null>;
}

function effectOf(index: HistoryIndex, op: OpRecord, id: string): Effect {
  const fields = new Map<string, string | null>();
  const w = index.writeOf(op, id);
  if (w !== undefined) {
    for (const [name, reg] of w.fragment.fields) {
      if (reg.kind === "value")
        fields.set(name, reg.value === null ? null : (op.set[name] ?? null));
    }
    return { fields };
  }
  for (const [k, v] of Object.entries(op.set)) fields.set(k, v);
  for (const k of op.unset) fields.set(k, null);
  return { fields };
}

function unsets(index: HistoryIndex, op: OpRecord, id: string, field: string): boolean {
  const w = index.writeOf(op, id);
  if (w !== undefined) {
    const reg = w.fragment.fields.get(field);
    return reg?.kind === "value" && reg.value === null;
  }
  if (op.type === "put") return op.set[field] === undefined;
  return op.unset.includes(field);
}

/** Whether `a`'s write to `id` may be newer than `b`'s (exactly, when stamps are known). */
function newer(index: HistoryIndex, a: OpRecord, b: OpRecord, id: string): boolean {
  const wa = index.writeOf(a, id);
  const wb = index.writeOf(b, id);
  if (wa !== undefined && wb !== undefined) return compareStamp(wa.stamp, wb.stamp) > 0;
  if (index.history.observedWrites) return false;
  // Real time on one clock: a completed before b was invoked means a is older.
  return !(a.completedAt !== undefined && a.completedAt < b.invokedAt - 1);
}
