import { isCanonicalLifetimes, type Lifetime, type SessionState } from "@meridian/core";
import type { HistoryIndex } from "./history-index.ts";
import { sameWrite, stampText } from "./slots.ts";

const text = (l: Lifetime) => `[${l.from}, ${l.until}] ${stampText(l.stamp)}`;

const contains = (outer: Lifetime, inner: Lifetime) =>
  outer.from <= inner.from && inner.until <= outer.until;

/**
 * What is wrong with the lifetime register of a final `state`, judged against the writes of the
 * history: the register must be canonical, hold only lifetimes some write made (same write,
 * same interval), and cover every lifetime a write that must have been applied made (each lies
 * inside a held one, which is how the join drops a lifetime).
 *
 * @remarks The model of core's lifetime join, written independently of it: together the two
 * conditions say the register is the join of the applied writes' lifetimes, with the writes
 * that may or may not have been applied free to count or not. The expiry a node serves is the
 * end of the register's first run, so this pins it too.
 */
export function lifetimeProblems(index: HistoryIndex, state: SessionState): string[] {
  const writes = index.writesBySession.get(state.id) ?? [];
  const held = state.lifetimes ?? [];
  const out: string[] = [];
  if (state.lifetimes !== undefined && !isCanonicalLifetimes(state.lifetimes)) {
    out.push(`lifetimes ${held.map(text).join(", ")} are not canonical`);
  }
  for (const l of held) {
    const made = writes.some((w) =>
      (w.fragment.lifetimes ?? []).some(
        (m) => sameWrite(m.stamp, l.stamp) && m.from === l.from && m.until === l.until,
      ),
    );
    if (!made) out.push(`lifetime ${text(l)} is one no write made`);
  }
  for (const w of writes) {
    if (!index.isDurable(w)) continue;
    for (const m of w.fragment.lifetimes ?? []) {
      if (!held.some((l) => contains(l, m))) {
        out.push(`lifetime ${text(m)} of an applied write is not covered`);
      }
    }
  }
  return out;
}
