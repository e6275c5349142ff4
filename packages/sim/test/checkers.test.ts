import {
  checkClocks,
  checkConvergence,
  checkDeletes,
  checkExpiry,
  checkGarbageCollection,
  checkHistory,
  checkLostWrites,
  checkLwwOracle,
  checkQuorumReads,
  checkVersionTokens,
  type OpAnswer,
} from "@meridian/sim";
import { describe, expect, it } from "vitest";
import { finals, fragment, history, op, stamp, write } from "./history-kit.ts";

const ID = "session-000000000001";
const w1 = fragment(ID, stamp(100, "eu-1", 1), { a: "o1a" });
const w2 = fragment(ID, stamp(200, "us-1", 1), { a: "o2a" });
const writeOps = [
  op(1, { type: "put", set: { a: "o1a" }, consistency: "quorum", answer: answer("o1a", "1.eu-1") }),
  op(2, {
    type: "put",
    region: "us",
    incarnation: "us#1",
    set: { a: "o2a" },
    consistency: "quorum",
    answer: answer("o2a", "1.us-1"),
  }),
];

function answer(a: string | undefined, version: string): OpAnswer {
  const data: Record<string, string> = a === undefined ? {} : { a };
  return { id: ID, data, expiresAt: null, userId: null, version };
}

describe("checkers pass a correct history", () => {
  it("finds nothing wrong when the newest write wins everywhere", () => {
    const h = history({
      ops: [...writeOps, op(3, { consistency: "quorum", answer: answer("o2a", "1.us-1") })],
      writes: [write(1, w1), write(2, w2)],
      final: finals([w2]),
    });
    expect(checkHistory(h)).toEqual([]);
  });
});

describe("checkers fail a broken history", () => {
  it("convergence: different digests", () => {
    const f = finals([w2]);
    const h = history({ final: [f[0]!, { ...f[1]!, digest: "other" }, f[2]!] });
    expect(checkConvergence(h)).toHaveLength(1);
  });

  it("oracle and lost writes: an older write won", () => {
    const h = history({ ops: writeOps, writes: [write(1, w1), write(2, w2)], final: finals([w1]) });
    expect(checkLwwOracle(h).length).toBeGreaterThan(0);
    expect(checkLostWrites(h).length).toBeGreaterThan(0);
  });

  it("oracle: a register no write made", () => {
    const h = history({ ops: writeOps.slice(0, 1), writes: [write(1, w1)], final: finals([w2]) });
    expect(checkLwwOracle(h).some((v) => v.message.includes("nobody made"))).toBe(true);
  });

  it("quorum reads: a quorum read older than a completed quorum write", () => {
    const h = history({
      ops: [...writeOps, op(3, { consistency: "quorum", answer: answer("o1a", "1.eu-1") })],
      writes: [write(1, w1), write(2, w2)],
      final: finals([w2]),
    });
    expect(checkQuorumReads(h)).toHaveLength(1);
  });

  it("version tokens: a read after a token that misses its write", () => {
    const h = history({
      ops: [...writeOps, op(3, { after: "1.us-1", answer: answer("o1a", "1.eu-1") })],
      writes: [write(1, w1), write(2, w2)],
      final: finals([w2]),
    });
    expect(checkVersionTokens(h)).toHaveLength(1);
  });

  it("deletes: a session read on the node that deleted it", () => {
    const del = fragment(ID, stamp(300, "eu-1", 2), {}, { deleted: stamp(300, "eu-1", 2) });
    const h = history({
      ops: [...writeOps, op(3, { type: "delete" }), op(4, { answer: answer("o2a", "1.us-1") })],
      writes: [write(1, w1), write(2, w2), write(3, del)],
      final: finals([{ ...w2, deleted: stamp(300, "eu-1", 2) }]),
    });
    expect(checkDeletes(h)).toHaveLength(1);
  });

  it("expiry: served, then expired, then served again on one node", () => {
    const h = history({
      ops: [
        op(1, { answer: answer("o1a", "1.eu-1") }),
        op(2, { status: "fail", code: "MERIDIAN_ERR_NOT_FOUND" }),
        op(3, { answer: answer("o1a", "1.eu-1") }),
      ],
    });
    expect(checkExpiry(h)).toHaveLength(1);
  });

  it("expiry: an extension by a write issued after the node saw the session expire", () => {
    const extended = (wall: number) =>
      history({
        ops: [
          op(1, { answer: answer("o1a", "1.eu-1") }),
          op(2, {
            type: "put",
            status: "fail",
            code: "MERIDIAN_ERR_SESSION_EXPIRED",
            nodeNow: 5_000,
          }),
          op(3, { answer: { ...answer("o1a", "1.eu-1"), expiresAt: 90_000 } }),
        ],
        writes: [
          write(
            undefined,
            fragment(
              ID,
              stamp(wall, "us-1", 1),
              {},
              { lifetimes: [{ from: wall, until: 90_000, stamp: stamp(wall, "us-1", 1) }] },
            ),
          ),
        ],
      });
    // Made before the node saw it expire (a concurrent write across a partition): touch wins.
    expect(checkExpiry(extended(4_000))).toEqual([]);
    // Made after: a write brought an expired session back.
    expect(checkExpiry(extended(6_000))).toHaveLength(1);
  });

  it("expiry: a later lifetime that a write made before T bridges to is the merge rule", () => {
    // The node saw the session expire at 7000 (its run [3000, 6000]); a touch made at 5000
    // ([3000, 9000]) arrives later and reaches a lifetime created at 8000: expiry 68000.
    const life = (from: number, until: number, st: ReturnType<typeof stamp>) =>
      fragment(ID, st, {}, { lifetimes: [{ from, until, stamp: st }] });
    const h = (withBridge: boolean) =>
      history({
        ops: [
          op(1, { answer: answer("o1a", "1.eu-1") }),
          op(2, {
            type: "put",
            status: "fail",
            code: "MERIDIAN_ERR_SESSION_EXPIRED",
            nodeNow: 7_000,
          }),
          op(3, { answer: { ...answer("o1a", "1.eu-1"), expiresAt: 68_000 } }),
        ],
        writes: [
          write(undefined, life(3000, 6000, stamp(3000, "eu-1", 1))),
          write(undefined, life(8000, 68_000, stamp(8000, "ap-1", 1))),
          ...(withBridge ? [write(undefined, life(3000, 9000, stamp(5000, "us-1", 1)))] : []),
        ],
      });
    expect(checkExpiry(h(true))).toEqual([]);
    expect(checkExpiry(h(false))).toHaveLength(1);
  });

  it("oracle: a lifetime no write made, and an applied write's lifetime left out", () => {
    const st1 = stamp(100, "eu-1", 1);
    const st2 = stamp(200, "us-1", 1);
    const a = fragment(
      ID,
      st1,
      { a: "o1a" },
      { lifetimes: [{ from: 100, until: 900, stamp: st1 }] },
    );
    const b = fragment(ID, st2, {}, { lifetimes: [{ from: 100, until: 1_500, stamp: st2 }] });
    const ops = writeOps.slice(0, 1);
    const ok = history({
      ops,
      writes: [write(1, a), write(undefined, b)],
      final: finals([{ ...a, lifetimes: b.lifetimes! }]),
    });
    expect(checkLwwOracle(ok)).toEqual([]);
    const phantom = history({
      ops,
      writes: [write(1, a)],
      final: finals([{ ...a, lifetimes: [{ from: 100, until: 901, stamp: st1 }] }]),
    });
    expect(checkLwwOracle(phantom).some((v) => v.message.includes("no write made"))).toBe(true);
    const lost = history({ ops, writes: [write(1, a), write(undefined, b)], final: finals([a]) });
    expect(checkLwwOracle(lost).some((v) => v.message.includes("not covered"))).toBe(true);
  });

  it("clocks: a restart that issues a smaller timestamp", () => {
    const h = history({
      clocks: [
        { nodeId: "eu-1", incarnation: "eu#1", wall: 500, logical: 0, at: 1 },
        { nodeId: "eu-1", incarnation: "eu#2", wall: 400, logical: 3, at: 2 },
      ],
    });
    expect(checkClocks(h)).toHaveLength(1);
  });

  it("clocks: later writes of one origin with smaller timestamps in a final state", () => {
    const a = fragment(ID, stamp(500, "eu-1", 1), { a: "o1a" });
    const b = fragment(ID, stamp(400, "eu-1", 2), { b: "o2b" });
    const both = { ...a, fields: new Map([...a.fields, ...b.fields]) };
    expect(checkClocks(history({ final: finals([both]) }))).toHaveLength(3);
  });

  it("a write to a purged id at a node restarted on a wiped disk loses to the delete; any other vanishing write is lost", () => {
    // eu deletes the session, every region purges it, ap restarts on a wiped disk (ap#2, a new
    // node id), takes a write to the id before it learns the purge, then learns it and drops it.
    const del = fragment(ID, stamp(300, "eu-1", 2), {}, { deleted: stamp(300, "eu-1", 2) });
    const late = fragment(ID, stamp(900, "ap-2", 1), { a: "o7a" });
    const purge = (region: string, incarnation: string, at: number) => ({
      type: "purge" as const,
      region,
      incarnation,
      at,
      wiped: false,
      sessionId: ID,
    });
    const ops = [
      op(1, {
        type: "put",
        set: { a: "o1a" },
        consistency: "all",
        answer: answer("o1a", "1.eu-1"),
      }),
      op(6, { type: "delete", consistency: "all" }),
      op(7, {
        type: "put",
        region: "ap",
        incarnation: "ap#2",
        invokedAt: 900,
        completedAt: 905,
        set: { a: "o7a" },
        answer: answer("o7a", "1.ap-2"),
      }),
    ];
    const writes = [
      write(1, w1, 10),
      write(6, del, 65),
      { ...write(7, late, 905), region: "ap", incarnation: "ap#2" },
    ];
    const crash = {
      type: "crash" as const,
      region: "ap",
      incarnation: "ap#1",
      at: 500,
      wiped: true,
    };
    const restart = {
      ...crash,
      type: "restart" as const,
      incarnation: "ap#2",
      at: 600,
      wiped: false,
    };
    const h = history({
      ops,
      writes,
      nodeEvents: [
        purge("eu", "eu#1", 200),
        purge("us", "us#1", 200),
        purge("ap", "ap#1", 200),
        crash,
        restart,
        purge("ap", "ap#2", 950),
      ],
      final: finals([]),
    });
    expect(checkHistory(h)).toEqual([]);
    // The same write vanishing from an id nobody deleted or purged is a lost write.
    const unpurged = history({ ops: [ops[0]!, ops[2]!], writes: [writes[0]!, writes[2]!] });
    const vanished = { ...unpurged, nodeEvents: [crash, restart], final: finals([w1]) };
    expect(checkLostWrites(vanished).map((v) => v.message)).toEqual([
      expect.stringContaining("op7's field:a"),
      expect.stringContaining("op7's field:a"),
      expect.stringContaining("op7's field:a"),
    ]);
    // A purge without a delete (or expiry) before it does not excuse it either.
    const premature = { ...vanished, nodeEvents: [crash, restart, purge("ap", "ap#2", 950)] };
    expect(checkGarbageCollection(premature).map((v) => v.message)).toContainEqual(
      expect.stringContaining("ap#2 purged session-000000000001, which was neither deleted"),
    );
  });

  it("garbage collection: a purged session served again, and live at the end", () => {
    const h = history({
      ops: [op(5, { answer: answer("o1a", "1.eu-1") })],
      writes: [write(1, w1)],
      nodeEvents: [
        { type: "purge", region: "eu", incarnation: "eu#1", at: 10, wiped: false, sessionId: ID },
      ],
      final: finals([w1]),
    });
    const found = checkGarbageCollection(h).map((v) => v.message);
    expect(found.some((m) => m.includes("neither deleted nor expired"))).toBe(true);
    expect(found.some((m) => m.includes("after it purged"))).toBe(true);
    expect(found.some((m) => m.includes("live at the end"))).toBe(true);
  });
});
