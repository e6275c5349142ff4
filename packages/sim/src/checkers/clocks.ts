import { compareHlc } from "@meridian/core";
import type { History } from "../history.ts";
import type { Violation } from "./violation.ts";

/**
 * No node's clock moves backwards, restarts included.
 *
 * @remarks Two views. Every timestamp a node issued (recorded by the simulator, keyed by node id,
 * which a restart on the same disk keeps) must be greater than the one before. And in every
 * final state, the writes of one origin must have timestamps in the order of their sequence
 * numbers: a restart that reissued smaller timestamps shows up there, in processes too.
 */
export function checkClocks(history: History): Violation[] {
  const out: Violation[] = [];
  const last = new Map<string, { wall: number; logical: number; incarnation: string }>();
  for (const c of history.clocks) {
    const prev = last.get(c.nodeId);
    if (
      prev !== undefined &&
      (c.wall < prev.wall || (c.wall === prev.wall && c.logical <= prev.logical))
    ) {
      out.push({
        checker: "clocks",
        message: `${c.nodeId} issued ${c.wall}.${c.logical} at ${c.incarnation} after ${prev.wall}.${prev.logical} at ${prev.incarnation}`,
      });
    }
    last.set(c.nodeId, c);
  }
  for (const node of history.final) {
    const byOrigin = new Map<
      string,
      Map<number, { wall: number; logical: number; node: string }>
    >();
    for (const s of node.sessions) {
      for (const reg of s.fields.values()) {
        const stamps = reg.kind === "value" ? [reg.stamp] : reg.stamps;
        for (const st of stamps) {
          let m = byOrigin.get(st.hlc.node);
          if (m === undefined) {
            m = new Map();
            byOrigin.set(st.hlc.node, m);
          }
          m.set(st.seq, st.hlc);
        }
      }
    }
    for (const [origin, seqs] of byOrigin) {
      const sorted = [...seqs.entries()].sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < sorted.length; i++) {
        const [seqA, a] = sorted[i - 1]!;
        const [seqB, b] = sorted[i]!;
        if (compareHlc(a, b) >= 0) {
          out.push({
            checker: "clocks",
            message: `${node.region}: ${origin} write #${seqB} has ${b.wall}.${b.logical}, not after #${seqA}'s ${a.wall}.${a.logical}`,
          });
          break;
        }
      }
    }
  }
  return out;
}
