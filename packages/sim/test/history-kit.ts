import { packValue, type SessionState, type Stamp } from "@meridian/core";
import type { FinalNodeState, History, OpRecord, WriteRecord } from "@meridian/sim";

/** Small builders of hand-made histories for checker tests. */
export const stamp = (wall: number, node: string, seq: number): Stamp => ({
  hlc: { wall, logical: 0, node },
  seq,
});

export function fragment(
  id: string,
  st: Stamp,
  fields: Record<string, string | null>,
  extra: Partial<SessionState> = {},
): SessionState {
  return {
    id,
    fields: new Map(
      Object.entries(fields).map(([k, v]) => [
        k,
        { kind: "value" as const, stamp: st, value: v === null ? null : packValue(v) },
      ]),
    ),
    ...extra,
  };
}

export function op(index: number, o: Partial<OpRecord>): OpRecord {
  return {
    index,
    type: "get",
    region: "eu",
    incarnation: "eu#1",
    sessionId: "session-000000000001",
    consistency: "local",
    after: undefined,
    set: {},
    unset: [],
    user: undefined,
    invokedAt: index * 10,
    completedAt: index * 10 + 5,
    status: "ok",
    code: undefined,
    answer: undefined,
    nodeNow: index * 10 + 5,
    ...o,
  };
}

export function write(opIndex: number | undefined, frag: SessionState, at = 0): WriteRecord {
  const first = [...frag.fields.values()][0];
  const st =
    first?.kind === "value"
      ? first.stamp
      : (frag.deleted ?? frag.lifetimes?.[0]?.stamp ?? stamp(0, "x", 0));
  return {
    op: opIndex,
    region: st.hlc.node.split("-")[0]!,
    incarnation: `${st.hlc.node.split("-")[0]}#1`,
    stamp: st,
    fragment: frag,
    committedAt: at,
  };
}

export function finals(sessions: SessionState[], digest = "d", now = 1_000): FinalNodeState[] {
  return ["eu", "us", "ap"].map((region) => ({
    region,
    nodeId: `${region}-1`,
    digest,
    sessions,
    now,
  }));
}

export function history(h: Partial<History>): History {
  return {
    regions: ["eu", "us", "ap"],
    maxClockSkewMs: 5_000,
    ops: [],
    writes: [],
    nodeEvents: [],
    clocks: [],
    anomalies: [],
    observedWrites: true,
    maxObservedSkewMs: 0,
    final: [],
    ...h,
  };
}
