import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  canonicalYjs,
  effectiveExpiry,
  hardExpiry,
  mergeSession,
  packValue,
  planWrite,
  SessionDeletedError,
  SessionExpiredError,
  SessionNotFoundError,
  type SessionState,
  type SessionWrite,
  type Stamp,
  sessionStamps,
  sessionStatus,
  softExpiry,
  yjsEpochAfter,
} from "../src/index.ts";
import { fcSeed } from "./seed.ts";

const ID = "operations-session-01";
let counter = 0;
/** A fresh stamp; walls follow physical time like a real HLC would. */
const stampAt = (wall: number, node = "eu"): Stamp => {
  counter += 1;
  return { hlc: { wall, logical: counter, node }, seq: counter };
};
const v = (x: unknown) => packValue(x);

/** Plans a write at `now` and joins it into `state`, as a node does. */
function apply(state: SessionState | undefined, write: SessionWrite, now: number) {
  const delta = planWrite(state, write, stampAt(now), now, ID);
  return { delta, state: state === undefined ? delta : mergeSession(state, delta) };
}

describe("planWrite: create", () => {
  it("sets every field, the expiry, idle timeout, user, deadline and last access, all with its stamp", () => {
    const stamp = stampAt(1_000);
    const delta = planWrite(
      undefined,
      {
        op: "create",
        data: new Map([
          ["cart", v([1, 2])],
          ["user", v({ name: "ada" })],
        ]),
        ttlMs: 60_000,
        idleMs: 5_000,
        maxLifetimeMs: 3_600_000,
        userId: "ada",
      },
      stamp,
      1_000,
      ID,
    );
    expect(delta.id).toBe(ID);
    expect(delta.fields.get("cart")).toEqual({ kind: "value", stamp, value: v([1, 2]) });
    expect(delta.fields.get("user")).toEqual({ kind: "value", stamp, value: v({ name: "ada" }) });
    expect(delta.lifetimes).toEqual([{ from: 1_000, until: 61_000, stamp }]);
    expect(delta.lastAccess).toEqual({ at: 1_000, stamp });
    expect(delta.deadline).toEqual({ at: 3_601_000, stamp });
    expect(delta.idleMs).toEqual({ value: 5_000, stamp });
    expect(delta.userId).toEqual({ value: "ada", stamp });
    expect(delta.deleted).toBeUndefined();
    expect(hardExpiry(delta)).toBe(61_000);
    expect(effectiveExpiry(delta)).toBe(6_000); // idle: nobody touched it for 5 s
    expect(sessionStatus(delta, 1_000)).toBe("live");
    expect(sessionStatus(delta, 6_000)).toBe("live");
    expect(sessionStatus(delta, 6_001)).toBe("expired");
  });

  it("with a null ttl sets no expiry; without maxLifetime no deadline", () => {
    const { delta } = apply(
      undefined,
      { op: "create", data: new Map([["a", v(1)]]), ttlMs: null },
      0,
    );
    expect(delta.lifetimes).toBeUndefined();
    expect(delta.deadline).toBeUndefined();
    expect(hardExpiry(delta)).toBeNull();
    expect(sessionStatus(delta, 1e15)).toBe("live");
  });

  it("fixes the deadline only when the session is new", () => {
    let { state } = apply(
      undefined,
      { op: "create", data: new Map(), ttlMs: 1_000, maxLifetimeMs: 10_000 },
      0,
    );
    const again = apply(
      state,
      { op: "create", data: new Map(), ttlMs: 1_000, maxLifetimeMs: 50_000 },
      500,
    );
    expect(again.delta.deadline).toBeUndefined();
    state = again.state;
    expect(state.deadline?.at).toBe(10_000);
  });
});

describe("planWrite: replace", () => {
  it("sets the new data and unsets every other live field, Yjs fields included", () => {
    let { state } = apply(
      undefined,
      {
        op: "create",
        data: new Map([
          ["a", v(1)],
          ["b", v(2)],
        ]),
        ttlMs: 1_000,
      },
      0,
    );
    state = apply(
      state,
      { op: "patch", unset: ["b"], yjs: new Map([["doc", canonicalYjs([])]]), defaultTtlMs: null },
      10,
    ).state;
    const stamp = stampAt(20);
    const delta = planWrite(
      state,
      { op: "replace", data: new Map([["c", v(3)]]), ttlMs: 2_000, userId: null },
      stamp,
      20,
      ID,
    );
    expect([...delta.fields.keys()].sort()).toEqual(["a", "c", "doc"]); // "b" is already unset
    expect(delta.fields.get("a")).toEqual({ kind: "value", stamp, value: null });
    expect(delta.fields.get("doc")).toEqual({ kind: "value", stamp, value: null });
    expect(delta.fields.get("c")).toEqual({ kind: "value", stamp, value: v(3) });
    expect(delta.lifetimes).toEqual([{ from: 0, until: 2_020, stamp }]);
    expect(delta.userId).toEqual({ value: null, stamp });
    const after = mergeSession(state, delta);
    const live = [...after.fields]
      .filter(([, r]) => r.kind === "yjs" || r.value !== null)
      .map(([n]) => n);
    expect(live).toEqual(["c"]);
  });
});

describe("planWrite: patch", () => {
  const created = () =>
    apply(undefined, { op: "create", data: new Map([["a", v(1)]]), ttlMs: 1_000 }, 0).state;

  it("sets, unsets and edits Yjs fields; keeps the expiry when no ttl is given", () => {
    const state = created();
    const stamp = stampAt(100);
    const update = canonicalYjs([]);
    const delta = planWrite(
      state,
      {
        op: "patch",
        set: new Map([["b", v(2)]]),
        unset: ["a"],
        yjs: new Map([["doc", update]]),
        defaultTtlMs: 9_999,
      },
      stamp,
      100,
      ID,
    );
    expect(delta.fields.get("b")).toEqual({ kind: "value", stamp, value: v(2) });
    expect(delta.fields.get("a")).toEqual({ kind: "value", stamp, value: null });
    expect(delta.fields.get("doc")).toEqual({
      kind: "yjs",
      epoch: yjsEpochAfter(undefined),
      update,
      stamps: [stamp],
    });
    expect(delta.lifetimes).toBeUndefined();
    expect(delta.lastAccess).toBeUndefined(); // no idle timeout: nothing to refresh
  });

  it("with a ttl moves the expiry", () => {
    const delta = planWrite(
      created(),
      { op: "patch", ttlMs: 5_000, defaultTtlMs: null },
      stampAt(100),
      100,
      ID,
    );
    expect(softExpiry(delta)).toBe(5_100);
  });

  it("creates an absent session with the default ttl", () => {
    const stamp = stampAt(7);
    const delta = planWrite(
      undefined,
      { op: "patch", set: new Map([["a", v(1)]]), defaultTtlMs: 3_000 },
      stamp,
      7,
      ID,
    );
    expect(delta.lifetimes).toEqual([{ from: 7, until: 3_007, stamp }]);
    expect(delta.lastAccess).toEqual({ at: 7, stamp });
    expect(sessionStatus(delta, 7)).toBe("live");
  });

  it("joins the epoch of an existing Yjs field, and starts a new one after a value", () => {
    let state = created();
    state = apply(
      state,
      { op: "patch", yjs: new Map([["doc", canonicalYjs([])]]), defaultTtlMs: null },
      10,
    ).state;
    const first = state.fields.get("doc")!;
    const join = planWrite(
      state,
      { op: "patch", yjs: new Map([["doc", canonicalYjs([])]]), defaultTtlMs: null },
      stampAt(20),
      20,
      ID,
    );
    expect(join.fields.get("doc")).toMatchObject({ kind: "yjs", epoch: yjsEpochAfter(first) });
    const restamp = stampAt(30);
    const reset = planWrite(
      state,
      { op: "patch", set: new Map([["doc", v("x")]]), defaultTtlMs: null },
      restamp,
      30,
      ID,
    );
    state = mergeSession(state, reset);
    const after = planWrite(
      state,
      { op: "patch", yjs: new Map([["doc", canonicalYjs([])]]), defaultTtlMs: null },
      stampAt(40),
      40,
      ID,
    );
    expect(after.fields.get("doc")).toMatchObject({
      kind: "yjs",
      epoch: { ...restamp.hlc, node: "eu\u0000" },
    });
  });
});

describe("planWrite: touch and access", () => {
  it("touch sets expiry to now + ttl and refreshes last access", () => {
    const { state } = apply(
      undefined,
      { op: "create", data: new Map([["a", v(1)]]), ttlMs: 1_000 },
      0,
    );
    const stamp = stampAt(500);
    const delta = planWrite(
      state,
      { op: "touch", ttlMs: 4_000, defaultTtlMs: null },
      stamp,
      500,
      ID,
    );
    expect(delta.lifetimes).toEqual([{ from: 0, until: 4_500, stamp }]);
    expect(delta.lastAccess).toEqual({ at: 500, stamp });
    expect(delta.fields.size).toBe(0);
  });

  it("touch without ttl reuses the session's last ttl, else the default", () => {
    const { state } = apply(
      undefined,
      { op: "create", data: new Map([["a", v(1)]]), ttlMs: 1_000 },
      0,
    );
    const delta = planWrite(state, { op: "touch", defaultTtlMs: 99 }, stampAt(600), 600, ID);
    expect(softExpiry(delta)).toBe(1_600);
    const noTtl = apply(
      undefined,
      { op: "create", data: new Map([["a", v(1)]]), ttlMs: null },
      0,
    ).state;
    expect(
      softExpiry(planWrite(noTtl, { op: "touch", defaultTtlMs: 99 }, stampAt(600), 600, ID)),
    ).toBe(699);
  });

  it("access refreshes only last access", () => {
    const { state } = apply(
      undefined,
      { op: "create", data: new Map([["a", v(1)]]), ttlMs: 1_000 },
      0,
    );
    const stamp = stampAt(300);
    const delta = planWrite(state, { op: "access" }, stamp, 300, ID);
    expect(delta).toEqual({ id: ID, fields: new Map(), lastAccess: { at: 300, stamp } });
  });

  it("touch and access need an existing session", () => {
    for (const write of [{ op: "touch", defaultTtlMs: 1 }, { op: "access" }] as const) {
      expect(() => planWrite(undefined, write, stampAt(0), 0, ID)).toThrow(SessionNotFoundError);
    }
  });
});

describe("planWrite: delete", () => {
  it("writes a tombstone, on live, absent and expired sessions alike", () => {
    const { state } = apply(
      undefined,
      { op: "create", data: new Map([["a", v(1)]]), ttlMs: 1_000 },
      0,
    );
    for (const [current, now] of [
      [state, 10],
      [undefined, 10],
      [state, 5_000],
    ] as const) {
      const stamp = stampAt(now);
      const delta = planWrite(current, { op: "delete" }, stamp, now, ID);
      expect(delta).toEqual({ id: ID, fields: new Map(), deleted: stamp });
      const after = current === undefined ? delta : mergeSession(current, delta);
      expect(sessionStatus(after, now)).toBe("deleted");
    }
  });
});

const allWrites: SessionWrite[] = [
  { op: "create", data: new Map([["a", v(2)]]), ttlMs: 1_000 },
  { op: "replace", data: new Map([["a", v(2)]]), ttlMs: 1_000 },
  { op: "patch", set: new Map([["a", v(2)]]), ttlMs: 1_000, defaultTtlMs: 1_000 },
  { op: "patch", yjs: new Map([["d", canonicalYjs([])]]), defaultTtlMs: 1_000 },
  { op: "touch", ttlMs: 1_000_000, defaultTtlMs: null },
  { op: "access" },
];

describe("expiry", () => {
  it("an expired session refuses every write but delete", () => {
    const { state } = apply(
      undefined,
      { op: "create", data: new Map([["a", v(1)]]), ttlMs: 1_000 },
      0,
    );
    expect(sessionStatus(state, 1_000)).toBe("live");
    expect(sessionStatus(state, 1_001)).toBe("expired");
    for (const write of allWrites) {
      expect(() => planWrite(state, write, stampAt(1_001), 1_001, ID)).toThrow(SessionExpiredError);
      expect(() => planWrite(state, write, stampAt(1_000), 1_000, ID)).not.toThrow();
    }
  });

  it("idle timeout: expired once now > lastAccess + idle; access pushes it back", () => {
    let { state } = apply(
      undefined,
      { op: "create", data: new Map([["a", v(1)]]), ttlMs: null, idleMs: 1_000 },
      0,
    );
    expect(effectiveExpiry(state)).toBe(1_000);
    expect(sessionStatus(state, 1_000)).toBe("live");
    expect(sessionStatus(state, 1_001)).toBe("expired");
    state = apply(state, { op: "access" }, 900).state;
    expect(sessionStatus(state, 1_900)).toBe("live");
    expect(sessionStatus(state, 1_901)).toBe("expired");
    // With an idle timeout, a patch counts as activity too.
    state = apply(
      state,
      { op: "patch", set: new Map([["b", v(2)]]), defaultTtlMs: null },
      1_800,
    ).state;
    expect(sessionStatus(state, 2_800)).toBe("live");
    expect(() => planWrite(state, { op: "access" }, stampAt(2_801), 2_801, ID)).toThrow(
      SessionExpiredError,
    );
    // A delayed, older access never pulls lastAccess back.
    state = mergeSession(state, {
      id: ID,
      fields: new Map(),
      lastAccess: { at: 100, stamp: stampAt(100, "us") },
    });
    expect(state.lastAccess?.at).toBe(1_800);
  });

  it("the maxLifetime deadline caps every later ttl extension", () => {
    let { state } = apply(
      undefined,
      { op: "create", data: new Map([["a", v(1)]]), ttlMs: 1_000, maxLifetimeMs: 5_000 },
      0,
    );
    state = apply(state, { op: "touch", ttlMs: 100_000, defaultTtlMs: null }, 900).state;
    expect(softExpiry(state)).toBe(100_900);
    expect(hardExpiry(state)).toBe(5_000);
    state = apply(state, { op: "patch", ttlMs: 1_000_000, defaultTtlMs: null }, 4_000).state;
    expect(hardExpiry(state)).toBe(5_000);
    expect(sessionStatus(state, 5_000)).toBe("live");
    expect(sessionStatus(state, 5_001)).toBe("expired");
    for (const write of allWrites) {
      expect(() => planWrite(state, write, stampAt(5_001), 5_001, ID)).toThrow(SessionExpiredError);
    }
  });
});

type Step = { readonly dt: number; readonly write: SessionWrite };

const stepArb: fc.Arbitrary<Step> = fc.record({
  dt: fc.nat({ max: 700 }),
  write: fc.oneof(
    fc.record({
      op: fc.constant("create" as const),
      data: fc.constant(new Map([["a", v(1)]])),
      ttlMs: fc.option(fc.nat({ max: 2_000 }), { nil: null }),
      idleMs: fc.option(fc.nat({ max: 1_500 }), { nil: null }),
      maxLifetimeMs: fc.option(fc.nat({ max: 5_000 }), { nil: null }),
    }),
    fc.record({
      op: fc.constant("replace" as const),
      data: fc.constant(new Map([["b", v(2)]])),
      ttlMs: fc.option(fc.nat({ max: 2_000 }), { nil: null }),
    }),
    fc.record({
      op: fc.constant("patch" as const),
      set: fc.constant(new Map([["c", v(3)]])),
      ttlMs: fc.option(fc.option(fc.nat({ max: 2_000 }), { nil: null }), { nil: undefined }),
      defaultTtlMs: fc.option(fc.nat({ max: 2_000 }), { nil: null }),
    }),
    fc.record({
      op: fc.constant("touch" as const),
      ttlMs: fc.option(fc.nat({ max: 2_000 }), { nil: undefined }),
      defaultTtlMs: fc.option(fc.nat({ max: 2_000 }), { nil: null }),
    }),
    fc.constant({ op: "access" as const }),
    fc.constant({ op: "delete" as const }),
  ),
});

describe("planWrite under random histories", () => {
  it("refuses writes exactly when deleted or expired, stamps every register, never revives", () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 25 }), (steps) => {
        let state: SessionState | undefined;
        let now = 0;
        let deadline: number | undefined;
        for (const { dt, write } of steps) {
          now += dt;
          const before = sessionStatus(state, now);
          const stamp = stampAt(now);
          let delta: SessionState;
          try {
            delta = planWrite(state, write, stamp, now, ID);
          } catch (e) {
            if (before === "deleted") expect(e).toBeInstanceOf(SessionDeletedError);
            else if (before === "expired") expect(e).toBeInstanceOf(SessionExpiredError);
            else {
              expect(e).toBeInstanceOf(SessionNotFoundError);
              expect(["touch", "access"]).toContain(write.op);
            }
            continue;
          }
          expect(before === "deleted" || (before === "expired" && write.op !== "delete")).toBe(
            false,
          );
          for (const s of sessionStamps(delta)) expect(s).toBe(stamp);
          const next = state === undefined ? delta : mergeSession(state, delta);
          // A node's own writes never shorten the life it sees, nor start a second run.
          if (state?.lifetimes)
            expect(softExpiry(next)!).toBeGreaterThanOrEqual(softExpiry(state)!);
          if (next.lifetimes !== undefined) expect(next.lifetimes.length).toBe(1);
          // The deadline is fixed by the first create and never moves.
          deadline ??= next.deadline?.at;
          expect(next.deadline?.at).toBe(deadline);
          if (deadline !== undefined) expect(hardExpiry(next)).toBeLessThanOrEqual(deadline);
          if (write.op === "delete") expect(sessionStatus(next, now)).toBe("deleted");
          if (before === "live" && write.op !== "delete")
            expect(sessionStatus(next, now)).toBe("live");
          state = next;
        }
      }),
      { numRuns: 1000, seed: fcSeed() },
    );
  });
});
