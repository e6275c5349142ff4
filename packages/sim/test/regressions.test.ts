import {
  checkSchedule,
  type Schedule,
  type SimConsistency,
  type SimulationOptions,
  type Step,
} from "@meridian/sim";
import { describe, expect, it } from "vitest";

/** Hand-written schedules for bugs the simulator found; each failed before its fix. */
describe("simulator regressions", () => {
  it("a restart never issues a timestamp below one the node already sent (deltas `sent`)", async () => {
    // Found by campaign seed 1461: `deltas.sent` was an issued HLC timestamp that was never
    // persisted, so after a crash and a backwards clock jump the node issued it again.
    const schedule: Schedule = {
      seed: 3,
      regions: ["eu", "us", "ap"],
      storage: "sqlite",
      steps: [
        { kind: "op", at: 3000, region: 0, op: put(["a"]) },
        { kind: "fault", at: 3001, fault: { type: "jump", region: 0, ms: -2000 } },
        { kind: "fault", at: 3001, fault: { type: "crash", region: 0, downMs: 50, wipe: false } },
        { kind: "op", at: 3100, region: 0, op: put(["b"]) },
      ],
    };
    const lines: string[] = [];
    const { result, violations } = await checkSchedule(schedule, { traceLines: lines });
    expect(violations).toEqual([]);
    const crashAt = lines.findIndex((l) => l.includes('"type":"crash"'));
    const sentBefore = lines
      .slice(0, crashAt)
      .filter((l) => l.includes(" eu>") && l.includes(" deltas "))
      .map((l) => l.match(/sent=(\d+)\.(\d+)/))
      .filter((m) => m !== null)
      .map((m) => [Number(m[1]), Number(m[2])] as const);
    expect(sentBefore.length).toBeGreaterThan(0);
    const eu = result.history.writes.filter((w) => w.region === "eu");
    const afterRestart = eu.find((w) => w.incarnation === "eu#2");
    expect(afterRestart).toBeDefined();
    const { wall, logical } = afterRestart!.stamp.hlc;
    for (const [w, l] of sentBefore) expect(wall > w || (wall === w && logical > l)).toBe(true);
  });

  it("a repeated quorum delete answers only once a quorum holds the tombstone", async () => {
    // SessionService.delete returned at once when the session was already deleted locally, so
    // a quorum delete on an isolated region "succeeded" and a quorum read elsewhere saw the
    // session live.
    const violations = await violationsOf([
      { kind: "op", at: 2500, region: 1, op: put(["a"], "all") },
      {
        kind: "fault",
        at: 3000,
        fault: { type: "partition", shape: "isolate", target: 0, durationMs: 8000 },
      },
      { kind: "op", at: 3200, region: 0, op: { type: "delete", key: 0, consistency: "local" } },
      { kind: "op", at: 3400, region: 0, op: { type: "delete", key: 0, consistency: "quorum" } },
      { kind: "op", at: 3600, region: 1, op: get("quorum") },
    ]);
    expect(violations).toEqual([]);
  });

  it("a quorum read answers with the quorum's state even when skew makes this node refuse it", async () => {
    // The merged state held a register from a region more than maxClockSkew ahead; applyStates
    // refused it and the read answered the older local state, missing a completed quorum write.
    const violations = await violationsOf([
      { kind: "op", at: 2500, region: 1, op: put(["a"], "all") },
      { kind: "fault", at: 2600, fault: { type: "skew", region: 2, ms: 9000 } },
      {
        kind: "fault",
        at: 3000,
        fault: { type: "partition", shape: "bridge", target: 0, durationMs: 10000 },
      },
      { kind: "op", at: 3100, region: 2, op: patch(["b"], "local") },
      { kind: "op", at: 3300, region: 1, op: patch(["a"], "quorum") },
      { kind: "op", at: 4000, region: 0, op: get("quorum") },
      // With a version token as well: the quorum read then starts from the merged state the
      // `after` read could not store (campaign seed 401529, 5 regions).
      { kind: "op", at: 4500, region: 0, op: { ...get("quorum"), after: true } },
    ]);
    expect(violations).toEqual([]);
  });

  it("a read that renews an idle session answers with the state it read, not the stored one", async () => {
    // Found by `pnpm sim --seeds 1000 --from 300000 --max-faults 12 --max-ops 80` (seed 300266).
    // A read with `after` at a node whose clock lags more than maxClockSkew fetched the write
    // from its peers but could not store it (skew); the access write that renews an idle
    // timeout then answered with the stored state, which lacked the write the token named.
    const violations = await violationsOf([
      {
        kind: "op",
        at: 2500,
        region: 0,
        op: { type: "create", consistency: "all", set: ["a"], ttlS: null, idleS: 60 },
      },
      { kind: "fault", at: 3000, fault: { type: "skew", region: 2, ms: -9000 } },
      { kind: "op", at: 9000, region: 0, op: { ...put(["a"]), key: 3 } },
      { kind: "op", at: 10_000, region: 2, op: { ...get("local"), key: 3, after: true } },
      // A last step later on, so that the final heal does not lift the skew during the read.
      { kind: "op", at: 20_000, region: 1, op: get("local") },
    ]);
    expect(violations).toEqual([]);
  });

  it("an expired session stays expired when the node's clock steps back", async () => {
    // Reads judged expiry by the raw physical clock: after a backwards jump the node served a
    // session it had already reported expired.
    const violations = await violationsOf([
      { kind: "op", at: 2500, region: 0, op: put(["a"], "local", 3) },
      { kind: "op", at: 5000, region: 0, op: get("local") },
      { kind: "op", at: 6000, region: 0, op: get("local") },
      { kind: "fault", at: 6100, fault: { type: "jump", region: 0, ms: -2000 } },
      { kind: "op", at: 6200, region: 0, op: get("local") },
      { kind: "op", at: 6300, region: 0, op: { type: "touch", key: 0, consistency: "local" } },
      { kind: "op", at: 6400, region: 0, op: get("local") },
    ]);
    expect(violations).toEqual([]);
  });

  it("deleting a garbage-collected session succeeds", async () => {
    // With the janitor on, a delete of a purged id answered 410: SessionService.delete found no
    // tombstone, wrote a delete, and the purged-id check refused it. Found in campaign histories.
    const schedule: Schedule = {
      seed: 9,
      regions: ["eu", "us", "ap"],
      storage: "sqlite",
      steps: [
        { kind: "op", at: 2500, region: 0, op: put(["a"], "all", 2) },
        { kind: "op", at: 14000, region: 1, op: { type: "delete", key: 0, consistency: "quorum" } },
      ],
    };
    const { result, violations } = await checkSchedule(schedule, { gc: "on" });
    expect(result.history.nodeEvents.some((e) => e.type === "purge" && e.region === "us")).toBe(
      true,
    );
    expect(violations).toEqual([]);
    expect(result.history.ops.find((o) => o.type === "delete")?.status).toBe("ok");
  });

  it("two deletes of one session in one group commit both succeed", async () => {
    // Found by `pnpm sim --seeds 1000 --from 40000 --regions 5 --max-faults 10` (seed 40115):
    // the second delete, and a revoke, planned against the first one's pending tombstone and
    // answered 410 instead of succeeding.
    const violations = await violationsOf([
      { kind: "op", at: 2500, region: 0, op: { ...put(["a"], "all"), user: 0 } },
      { kind: "op", at: 3000, region: 0, op: { type: "delete", key: 0, consistency: "local" } },
      { kind: "op", at: 3000, region: 0, op: { type: "delete", key: 0, consistency: "all" } },
      { kind: "op", at: 3000, region: 0, op: { type: "revoke", user: 0, consistency: "quorum" } },
      { kind: "op", at: 3500, region: 1, op: get("all") },
    ]);
    expect(violations).toEqual([]);
  });

  it("a node restarted on a wiped disk learns the ids the others purged, and its writes to them lose", async () => {
    // Found by campaign seeds 153, 174 and 193 (CI budget, GC on). The janitor purges a
    // tombstone once every region holds the delete, and each store remembered the purged id
    // only locally. A node that then restarted on an empty disk remembered nothing, accepted a
    // write to the id, and kept the session live for good, while the others ignored it:
    // convergence and remove-wins both broke. Purged ids now replicate: anti-entropy sends them
    // to a node whose version vector lacks the purged delete, which drops the id's state.
    const schedule: Schedule = {
      seed: 9,
      regions: ["eu", "us", "ap"],
      storage: "sqlite",
      steps: [
        { kind: "op", at: 2500, region: 0, op: put(["a"], "all", 2) },
        { kind: "fault", at: 14000, fault: { type: "crash", region: 2, downMs: 1000, wipe: true } },
        { kind: "op", at: 18000, region: 2, op: put(["b"]) },
        { kind: "op", at: 18500, region: 2, op: get("local") },
        { kind: "op", at: 30000, region: 2, op: get("local") },
        { kind: "op", at: 30000, region: 2, op: put(["c"]) },
      ],
    };
    const { result, violations } = await checkSchedule(schedule, { gc: "on" });
    expect(violations).toEqual([]);
    const purges = result.history.nodeEvents.filter((e) => e.type === "purge");
    // eu, us and ap purge the expired tombstone; ap's second incarnation learns the purge.
    expect(purges.map((e) => e.incarnation).sort()).toEqual(["ap#1", "ap#2", "eu#1", "us#1"]);
    // Once it knows, the wiped node answers "deleted" and refuses writes, and nobody holds it.
    const late = result.history.ops.filter((o) => o.invokedAt === 30000);
    expect(late.map((o) => o.code)).toEqual([
      "MERIDIAN_ERR_SESSION_DELETED",
      "MERIDIAN_ERR_SESSION_DELETED",
    ]);
    for (const node of result.history.final) expect(node.sessions).toEqual([]);
  });

  it("a region that never saw an expired session cannot revive it with a write", async () => {
    // Found by `pnpm sim --seeds 1500 --from 400000 --regions 5 --max-faults 10 --max-ops 80`
    // (seed 400702). expiresAt merged by maximum, so a PUT of the same id at a region that never
    // received the session (partitioned, or restarted on a wiped disk) gave it a later expiry
    // that revived it everywhere after the heal. The expiry register now holds lifetimes: the
    // PUT at 8 s starts after the session's run [3 s, 6 s] ended, so it cannot extend it.
    const violations = await violationsOf(
      [
        {
          kind: "fault",
          at: 0,
          fault: { type: "partition", shape: "isolate", target: 2, durationMs: 20_000 },
        },
        { kind: "op", at: 3000, region: 0, op: put(["a"], "local", 3) },
        { kind: "op", at: 4000, region: 1, op: get("local") },
        { kind: "op", at: 7000, region: 1, op: get("local") },
        { kind: "op", at: 8000, region: 2, op: put(["b"], "local", 60) },
        { kind: "op", at: 25_000, region: 1, op: get("local") },
      ],
      { gc: "off" },
    );
    expect(violations).toEqual([]);
  });

  it("a region restarted on a wiped disk cannot revive an expired session either", async () => {
    // ap held the session, lost its disk after it expired and came back cut off: its PUT
    // creates a lifetime that starts after the session's run ended, which the others ignore.
    const schedule: Schedule = {
      seed: 7,
      regions: ["eu", "us", "ap"],
      storage: "sqlite",
      steps: [
        { kind: "op", at: 3000, region: 0, op: put(["a"], "all", 3) },
        { kind: "op", at: 4000, region: 1, op: get("local") },
        { kind: "fault", at: 6500, fault: { type: "crash", region: 2, downMs: 500, wipe: true } },
        {
          kind: "fault",
          at: 6600,
          fault: { type: "partition", shape: "isolate", target: 2, durationMs: 15_000 },
        },
        { kind: "op", at: 7000, region: 1, op: get("local") },
        { kind: "op", at: 8000, region: 2, op: put(["b"], "local", 60) },
        { kind: "op", at: 9000, region: 2, op: get("local") },
        { kind: "op", at: 25_000, region: 1, op: get("local") },
        { kind: "op", at: 25_000, region: 2, op: get("local") },
      ],
    };
    const { result, violations } = await checkSchedule(schedule, { gc: "off" });
    expect(violations).toEqual([]);
    const ops = result.history.ops;
    // The revival attempt itself succeeded where nothing was known, then lost after the heal.
    expect(ops.find((o) => o.type === "put" && o.region === "ap")?.status).toBe("ok");
    expect(ops.find((o) => o.invokedAt === 9000)?.status).toBe("ok");
    for (const o of ops.filter((x) => x.invokedAt === 25_000)) {
      expect(o.code).toBe("MERIDIAN_ERR_NOT_FOUND");
    }
  });

  it("a touch made while the session lived still bridges to a later lifetime (touch wins)", async () => {
    // eu creates at 3 s for 3 s; us touches at 5 s for 4 s ([3 s, 9 s]); ap, cut off, puts the
    // same id at 8 s for 60 s. 8 s lies inside the run the touch extended, so after the heal the
    // session lives to 68 s everywhere, in whatever order the regions learn the writes.
    const schedule: Schedule = {
      seed: 11,
      regions: ["eu", "us", "ap"],
      storage: "memory",
      steps: [
        {
          kind: "fault",
          at: 0,
          fault: { type: "partition", shape: "isolate", target: 2, durationMs: 20_000 },
        },
        { kind: "op", at: 3000, region: 0, op: put(["a"], "local", 3) },
        { kind: "op", at: 4000, region: 1, op: get("local") },
        { kind: "op", at: 5000, region: 1, op: touch(4) },
        { kind: "op", at: 8000, region: 2, op: put(["b"], "local", 60) },
        { kind: "op", at: 10_000, region: 0, op: get("local") },
        { kind: "op", at: 25_000, region: 0, op: get("local") },
        { kind: "op", at: 25_000, region: 1, op: get("local") },
      ],
    };
    const { result, violations } = await checkSchedule(schedule, { gc: "off" });
    expect(violations).toEqual([]);
    const ops = result.history.ops;
    expect(ops.find((o) => o.type === "touch")?.status).toBe("ok");
    expect(ops.find((o) => o.invokedAt === 10_000)?.code).toBe("MERIDIAN_ERR_NOT_FOUND");
    const late = ops.filter((o) => o.invokedAt === 25_000);
    expect(late).toHaveLength(2);
    for (const o of late) {
      expect(o.status).toBe("ok");
      expect(o.answer?.expiresAt).toBeGreaterThanOrEqual(68_000);
    }
  });
});

function touch(ttlS: number) {
  return { type: "touch" as const, key: 0, consistency: "local" as const, ttlS };
}

function put(set: string[], consistency: SimConsistency = "local", ttlS: number | null = null) {
  return { type: "put" as const, key: 0, consistency, set, ttlS };
}

function get(consistency: SimConsistency) {
  return { type: "get" as const, key: 0, consistency, after: false };
}

function patch(set: string[], consistency: SimConsistency) {
  return { type: "patch" as const, key: 0, consistency, set, unset: [] };
}

async function violationsOf(steps: Step[], options: SimulationOptions = {}) {
  const schedule: Schedule = { seed: 5, regions: ["eu", "us", "ap"], storage: "memory", steps };
  return (await checkSchedule(schedule, options)).violations;
}
