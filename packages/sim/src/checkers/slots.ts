import { compareHlc, compareStamp, type SessionState, type Stamp } from "@meridian/core";

/** How a slot's join picks between two contributions. */
export type SlotRule = "lww" | "max-time" | "min-time" | "first";

/**
 * One register of a session as the oracle sees it: a field, or a metadata register.
 *
 * @remarks `value` is a comparable rendering of what the register holds (field bytes as hex,
 * `null` for an unset, a time, a user id), so that two contributions with the same stamp but
 * different contents are told apart.
 */
export interface SlotValue {
  readonly slot: string;
  readonly rule: SlotRule;
  readonly stamp: Stamp;
  readonly at: number;
  readonly value: string;
}

const hex = (b: Uint8Array | null) => (b === null ? "null" : Buffer.from(b).toString("hex"));

/**
 * Every slot a state or write fragment holds. Yjs fields are left out (not in workloads), and so
 * is the lifetime register, which is a set rather than one winner (see `lifetimes.ts`).
 */
export function slotsOf(s: SessionState): SlotValue[] {
  const out: SlotValue[] = [];
  for (const [name, reg] of s.fields) {
    if (reg.kind !== "value") continue;
    out.push({
      slot: `field:${name}`,
      rule: "lww",
      stamp: reg.stamp,
      at: 0,
      value: hex(reg.value),
    });
  }
  const time = (slot: string, rule: SlotRule, r: { at: number; stamp: Stamp } | undefined) => {
    if (r !== undefined) out.push({ slot, rule, stamp: r.stamp, at: r.at, value: String(r.at) });
  };
  time("lastAccess", "max-time", s.lastAccess);
  time("deadline", "min-time", s.deadline);
  if (s.idleMs) {
    out.push({
      slot: "idleMs",
      rule: "lww",
      stamp: s.idleMs.stamp,
      at: 0,
      value: String(s.idleMs.value),
    });
  }
  if (s.userId) {
    out.push({
      slot: "userId",
      rule: "lww",
      stamp: s.userId.stamp,
      at: 0,
      value: String(s.userId.value),
    });
  }
  if (s.deleted) out.push({ slot: "deleted", rule: "first", stamp: s.deleted, at: 0, value: "" });
  return out;
}

/**
 * Positive when `a` wins over `b` in their slot's join, negative when `b` wins, 0 when they are
 * the same contribution.
 */
export function slotOrder(a: SlotValue, b: SlotValue): number {
  switch (a.rule) {
    case "lww":
      return compareStamp(a.stamp, b.stamp);
    case "max-time":
      return a.at !== b.at ? a.at - b.at : compareStamp(a.stamp, b.stamp);
    case "min-time":
      return a.at !== b.at ? b.at - a.at : compareStamp(a.stamp, b.stamp);
    case "first":
      return compareHlc(b.stamp.hlc, a.stamp.hlc);
  }
}

/** Whether two stamps are the same write. */
export function sameWrite(a: Stamp, b: Stamp): boolean {
  return a.seq === b.seq && a.hlc.node === b.hlc.node;
}

/** A stamp as text for messages. */
export function stampText(s: Stamp): string {
  return `${s.hlc.wall}.${s.hlc.logical}@${s.hlc.node}#${s.seq}`;
}
