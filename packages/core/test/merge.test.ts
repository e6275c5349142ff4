import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import {
  canonicalYjs,
  compareHlc,
  compareStamp,
  type FieldRegister,
  HybridClock,
  firstRun,
  hardExpiry,
  type Lifetime,
  mergeRegister,
  mergeSession,
  packValue,
  planWrite,
  registerOrder,
  type SessionState,
  type SessionWrite,
  SessionDeletedError,
  type Stamp,
  sessionBytes,
  sessionStatus,
  softExpiry,
  type TimeRegister,
  type YjsRegister,
  yjsEpochAfter,
} from "../src/index.ts";
import {
  FakeClock,
  HISTORY_SESSION,
  historyArb,
  readTabDoc,
  tabsRunArb,
  tabUpdate,
} from "./arbitraries.ts";
import { fcSeed } from "./seed.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const stateKey = (s: SessionState) => hex(sessionBytes(s));
const registerKey = (r: FieldRegister) =>
  stateKey({ id: HISTORY_SESSION, fields: new Map([["f", r]]) });
const fold = (xs: readonly SessionState[]) => xs.reduce((a, b) => mergeSession(a, b));

/** Three joins of random subsets of one history: states, not just single deltas. */
const threeStatesArb = historyArb().chain((h) => {
  const pick = fc.array(fc.nat({ max: h.length - 1 }), { minLength: 1, maxLength: 4 });
  return fc.tuple(pick, pick, pick).map((picks) => picks.map((p) => fold(p.map((i) => h[i]!))));
});

/** A history, a delivery of it (every delta at least once, some twice, any order), and a batching. */
const deliveryArb = (h: fc.Arbitrary<SessionState[]>) =>
  h.chain((deltas) => {
    const n = deltas.length;
    return fc.array(fc.nat({ max: n - 1 }), { maxLength: n }).chain((extra) => {
      const items = [...deltas.keys(), ...extra];
      return fc.record({
        deltas: fc.constant(deltas),
        order: fc.shuffledSubarray(items, { minLength: items.length, maxLength: items.length }),
        groups: fc.array(fc.nat({ max: 3 }), { minLength: items.length, maxLength: items.length }),
      });
    });
  });

/** Joins the delivered deltas per group first, then the intermediate deltas, last group first. */
function batched(
  deltas: readonly SessionState[],
  order: readonly number[],
  groups: readonly number[],
) {
  const batches = new Map<number, SessionState>();
  order.forEach((i, k) => {
    const g = groups[k]!;
    const prev = batches.get(g);
    batches.set(g, prev === undefined ? deltas[i]! : mergeSession(prev, deltas[i]!));
  });
  return fold([...batches.entries()].sort((a, b) => b[0] - a[0]).map(([, s]) => s));
}

function yjsLog(update: Uint8Array): string[] {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, update);
  const keys = [...doc.getMap("log").keys()].sort();
  doc.destroy();
  return keys;
}

const maxTime = (regs: TimeRegister[]) =>
  regs.reduce((a, b) =>
    a.at !== b.at ? (a.at > b.at ? a : b) : compareStamp(a.stamp, b.stamp) >= 0 ? a : b,
  );

/**
 * The lifetimes no other contains (an equal interval with a greater stamp counts as
 * containing), by start: the model of the lifetime join, by brute force.
 */
const maximalLifetimes = (all: readonly Lifetime[]) =>
  all
    .filter(
      (l) =>
        !all.some(
          (m) =>
            m !== l &&
            m.from <= l.from &&
            l.until <= m.until &&
            (m.from < l.from || l.until < m.until || compareStamp(m.stamp, l.stamp) > 0),
        ),
    )
    .filter((l, i, kept) => kept.findIndex((m) => compareStamp(m.stamp, l.stamp) === 0) === i)
    .sort((a, b) => a.from - b.from);
const minTime = (regs: TimeRegister[]) =>
  regs.reduce((a, b) =>
    a.at !== b.at ? (a.at < b.at ? a : b) : compareStamp(a.stamp, b.stamp) >= 0 ? a : b,
  );

/** Checks a merged state against what the set of writes alone says it must be. */
function expectMatchesModel(merged: SessionState, deltas: readonly SessionState[]) {
  const names = new Set(deltas.flatMap((d) => [...d.fields.keys()]));
  expect(new Set(merged.fields.keys())).toEqual(names);
  for (const name of names) {
    const regs = deltas.flatMap((d) => {
      const r = d.fields.get(name);
      return r === undefined ? [] : [r];
    });
    const top = regs.reduce((a, b) =>
      compareHlc(registerOrder(a), registerOrder(b)) >= 0 ? a : b,
    );
    const got = merged.fields.get(name)!;
    expect(got.kind).toBe(top.kind);
    if (top.kind === "value" && got.kind === "value") {
      expect(got.stamp).toEqual(top.stamp);
      expect(got.value === null ? null : hex(got.value)).toBe(
        top.value === null ? null : hex(top.value),
      );
    } else if (top.kind === "yjs" && got.kind === "yjs") {
      const same = regs.filter(
        (r): r is YjsRegister => r.kind === "yjs" && compareHlc(r.epoch, top.epoch) === 0,
      );
      expect(got.epoch).toEqual(top.epoch);
      expect(got.stamps).toEqual(same.flatMap((r) => r.stamps).sort(compareStamp));
      expect(yjsLog(got.update)).toEqual(same.flatMap((r) => yjsLog(r.update)).sort());
    }
  }
  const times = (k: "lastAccess" | "deadline") =>
    deltas.flatMap((d) => (d[k] === undefined ? [] : [d[k]]));
  const lifetimes = deltas.flatMap((d) => d.lifetimes ?? []);
  expect(merged.lifetimes).toEqual(
    lifetimes.length === 0 ? undefined : maximalLifetimes(lifetimes),
  );
  const last = times("lastAccess");
  expect(merged.lastAccess).toEqual(last.length === 0 ? undefined : maxTime(last));
  const dl = times("deadline");
  expect(merged.deadline).toEqual(dl.length === 0 ? undefined : minTime(dl));
  const latest = <T>(regs: { value: T; stamp: Stamp }[]) =>
    regs.length === 0
      ? undefined
      : regs.reduce((a, b) => (compareStamp(a.stamp, b.stamp) >= 0 ? a : b));
  expect(merged.idleMs).toEqual(latest(deltas.flatMap((d) => (d.idleMs ? [d.idleMs] : []))));
  expect(merged.userId).toEqual(latest(deltas.flatMap((d) => (d.userId ? [d.userId] : []))));
  const deletes = deltas.flatMap((d) => (d.deleted ? [d.deleted] : []));
  expect(merged.deleted).toEqual(
    deletes.length === 0 ? undefined : [...deletes].sort(compareStamp)[0],
  );
}

describe("mergeRegister", () => {
  it("is commutative, associative and idempotent", () => {
    fc.assert(
      fc.property(threeStatesArb, ([x, y, z]) => {
        for (const name of ["a", "b", "c"]) {
          const a = x!.fields.get(name);
          const b = y!.fields.get(name);
          const c = z!.fields.get(name);
          if (a === undefined || b === undefined) continue;
          expect(registerKey(mergeRegister(a, a))).toBe(registerKey(a));
          expect(registerKey(mergeRegister(a, b))).toBe(registerKey(mergeRegister(b, a)));
          if (c === undefined) continue;
          expect(registerKey(mergeRegister(mergeRegister(a, b), c))).toBe(
            registerKey(mergeRegister(a, mergeRegister(b, c))),
          );
        }
      }),
      { numRuns: 1000, seed: fcSeed() },
    );
  });

  it("keeps the greater write; an unset is a write like any other", () => {
    const older = {
      kind: "value",
      stamp: { hlc: { wall: 5, logical: 0, node: "us" }, seq: 1 },
      value: packValue(1),
    } as const;
    const unset = {
      kind: "value",
      stamp: { hlc: { wall: 5, logical: 0, node: "eu" }, seq: 1 },
      value: null,
    } as const;
    const newer = {
      kind: "value",
      stamp: { hlc: { wall: 5, logical: 1, node: "ap" }, seq: 1 },
      value: packValue(2),
    } as const;
    expect(mergeRegister(older, unset)).toBe(older); // same time: "us" > "eu"
    expect(mergeRegister(unset, older)).toBe(older);
    expect(mergeRegister(older, newer)).toBe(newer);
    expect(mergeRegister(newer, unset)).toBe(newer);
  });

  it("lets a Yjs epoch derived from a value write beat that write, and nothing earlier", () => {
    const value = {
      kind: "value",
      stamp: { hlc: { wall: 9, logical: 2, node: "us" }, seq: 4 },
      value: packValue("x"),
    } as const;
    const epoch = yjsEpochAfter(value);
    expect(epoch).toEqual({ wall: 9, logical: 2, node: "us\u0000" });
    const doc: FieldRegister = {
      kind: "yjs",
      epoch,
      update: canonicalYjs([]),
      stamps: [value.stamp],
    };
    expect(mergeRegister(value, doc)).toBe(doc);
    expect(mergeRegister(doc, value)).toBe(doc);
    const later = {
      kind: "value",
      stamp: { hlc: { wall: 9, logical: 3, node: "ap" }, seq: 1 },
      value: null,
    } as const;
    expect(mergeRegister(doc, later)).toBe(later);
  });
});

describe("mergeSession", () => {
  it("is commutative, associative and idempotent", () => {
    fc.assert(
      fc.property(threeStatesArb, ([x, y, z]) => {
        expect(stateKey(mergeSession(x!, x!))).toBe(stateKey(x!));
        expect(stateKey(mergeSession(x!, y!))).toBe(stateKey(mergeSession(y!, x!)));
        expect(stateKey(mergeSession(mergeSession(x!, y!), z!))).toBe(
          stateKey(mergeSession(x!, mergeSession(y!, z!))),
        );
      }),
      { numRuns: 1000, seed: fcSeed() },
    );
  });

  it("refuses to join two different sessions", () => {
    expect(() =>
      mergeSession(
        { id: "a".repeat(16), fields: new Map() },
        { id: "b".repeat(16), fields: new Map() },
      ),
    ).toThrow();
  });

  it("gives the same state whatever the order, duplication and batching of the deltas", () => {
    fc.assert(
      fc.property(deliveryArb(historyArb()), ({ deltas, order, groups }) => {
        const reference = fold(deltas);
        expectMatchesModel(reference, deltas);
        const sequential = fold(order.map((i) => deltas[i]!));
        expect(stateKey(sequential)).toBe(stateKey(reference));
        expect(stateKey(batched(deltas, order, groups))).toBe(stateKey(reference));
      }),
      { numRuns: 1000, seed: fcSeed() },
    );
  });
});

const everyWrite: SessionWrite[] = [
  { op: "create", data: new Map([["a", packValue(1)]]), ttlMs: 1000 },
  { op: "replace", data: new Map(), ttlMs: null },
  { op: "patch", set: new Map([["a", packValue(2)]]), defaultTtlMs: 1000 },
  { op: "patch", yjs: new Map([["d", canonicalYjs([])]]), defaultTtlMs: null },
  { op: "touch", ttlMs: 5000, defaultTtlMs: null },
  { op: "access" },
  { op: "delete" },
];

describe("delete", () => {
  it("beats concurrent writes in every order, and refuses every later write", () => {
    fc.assert(
      fc.property(deliveryArb(historyArb({ forceDelete: true })), ({ deltas, order }) => {
        let state: SessionState | undefined;
        let seenDelete = false;
        for (const i of order) {
          const d = deltas[i]!;
          state = state === undefined ? d : mergeSession(state, d);
          seenDelete ||= d.deleted !== undefined;
          if (seenDelete)
            for (const now of [0, 50, 1e12]) expect(sessionStatus(state, now)).toBe("deleted");
        }
        const stamp = { hlc: { wall: 1e12, logical: 0, node: "eu" }, seq: 1_000 };
        for (const write of everyWrite) {
          expect(() => planWrite(state, write, stamp, 1000, HISTORY_SESSION)).toThrow(
            SessionDeletedError,
          );
        }
      }),
      { numRuns: 1000, seed: fcSeed() },
    );
  });
});

describe("expiry under merge", () => {
  it("lifetimes only grow and lastAccess only moves forward; the deadline only moves down and caps expiry", () => {
    fc.assert(
      fc.property(deliveryArb(historyArb({ yjs: false })), ({ deltas, order }) => {
        let state: SessionState | undefined;
        for (const i of order) {
          const d = deltas[i]!;
          const next = state === undefined ? d : mergeSession(state, d);
          for (const input of state === undefined ? [d] : [state, d]) {
            for (const l of input.lifetimes ?? []) {
              const inside = next.lifetimes!.some((m) => m.from <= l.from && l.until <= m.until);
              expect(inside).toBe(true);
            }
            if (input.lastAccess)
              expect(next.lastAccess!.at).toBeGreaterThanOrEqual(input.lastAccess.at);
            if (input.deadline) expect(next.deadline!.at).toBeLessThanOrEqual(input.deadline.at);
          }
          const hard = hardExpiry(next);
          const soft = softExpiry(next) ?? Number.POSITIVE_INFINITY;
          const cap = next.deadline?.at ?? Number.POSITIVE_INFINITY;
          expect(hard ?? Number.POSITIVE_INFINITY).toBe(Math.min(soft, cap));
          // Without a new cap or an earlier start, a session that had an expiry never expires
          // earlier. (One with no lifetimes has not been given a ttl yet: "no information". An
          // earlier start means a write older than the run this state knew: its run decides.)
          if (
            state?.lifetimes !== undefined &&
            state.deadline?.at === next.deadline?.at &&
            firstRun(next.lifetimes!).from === firstRun(state.lifetimes).from
          ) {
            expect(hard).toBeGreaterThanOrEqual(hardExpiry(state)!);
          }
          state = next;
        }
      }),
      { numRuns: 1000, seed: fcSeed() },
    );
  });

  it("a touch wins over a concurrent shorter ttl, but never past the deadline", () => {
    const stamp = (wall: number, node: string) => ({ hlc: { wall, logical: 0, node }, seq: 1 });
    const id = "expiry-session-0001";
    const created: SessionState = {
      id,
      fields: new Map(),
      lifetimes: [{ from: 0, until: 1_000, stamp: stamp(0, "eu") }],
      deadline: { at: 5_000, stamp: stamp(0, "eu") },
    };
    const touchedLate: SessionState = {
      id,
      fields: new Map(),
      lifetimes: [{ from: 0, until: 9_000, stamp: stamp(10, "us") }],
    };
    const shortened: SessionState = {
      id,
      fields: new Map(),
      lifetimes: [{ from: 0, until: 2_000, stamp: stamp(20, "ap") }],
    };
    for (const s of [
      fold([created, touchedLate, shortened]),
      fold([shortened, touchedLate, created]),
      fold([touchedLate, created, shortened]),
    ]) {
      expect(s.lifetimes?.map((l) => l.until)).toEqual([9_000]);
      expect(softExpiry(s)).toBe(9_000);
      expect(hardExpiry(s)).toBe(5_000);
      expect(sessionStatus(s, 5_000)).toBe("live");
      expect(sessionStatus(s, 5_001)).toBe("expired");
    }
  });
});

describe("Yjs fields", () => {
  const ZERO_EPOCH = { wall: 0, logical: 0, node: "" };
  const tabsDeliveryArb = tabsRunArb()
    .filter((run) => run.updates.length > 0)
    .chain((run) => {
      const n = run.updates.length;
      const delivery = fc.array(fc.nat({ max: n - 1 }), { maxLength: n }).chain((extra) => {
        const items = [...run.updates.keys(), ...extra];
        return fc.shuffledSubarray(items, { minLength: items.length, maxLength: items.length });
      });
      return fc.tuple(fc.constant(run), delivery, delivery);
    });

  it("merges concurrent edits from several tabs to the same document, whatever the delivery", () => {
    fc.assert(
      fc.property(tabsDeliveryArb, ([run, first, second]) => {
        const writes = run.updates.map(
          (update, i): YjsRegister => ({
            kind: "yjs",
            epoch: ZERO_EPOCH,
            update,
            stamps: [
              { hlc: { wall: 100 + i, logical: 0, node: ["ap", "eu", "us"][i % 3]! }, seq: i + 1 },
            ],
          }),
        );
        const deliver = (order: readonly number[]) =>
          order.map((i): FieldRegister => writes[i]!).reduce((a, b) => mergeRegister(a, b));
        const a = deliver(first);
        const b = deliver(second);
        const inOrder = deliver([...writes.keys()]);
        expect(registerKey(a)).toBe(registerKey(inOrder));
        expect(registerKey(b)).toBe(registerKey(inOrder));
        if (a.kind !== "yjs") throw new Error("a Yjs field turned into a value");
        expect(a.stamps).toHaveLength(writes.length);
        if (writes.length > 1) expect(hex(a.update)).toBe(hex(canonicalYjs(run.updates)));
        const doc = new Y.Doc();
        Y.applyUpdate(doc, a.update);
        const got = readTabDoc(doc);
        doc.destroy();
        expect(got).toEqual(run.final);
        expect([...got.list].sort()).toEqual([...run.pushed].sort());
      }),
      { numRuns: 1000, seed: fcSeed() },
    );
  });

  it("regression: erased text gives the same bytes whether it or its deletion arrives first", () => {
    // A tab types and erases. Its debounced send carries the text and the delete; its resync
    // carries the item already garbage-collected. canonicalYjs used a document without gc,
    // which kept the text in one delivery order and not in the other: replicas never agreed.
    const tab = new Y.Doc();
    tab.clientID = 7;
    const local: Uint8Array[] = [];
    tab.on("update", (u: Uint8Array) => local.push(u));
    tab.getText("draft").insert(0, "secret");
    tab.getText("draft").delete(0, 6);
    const sent = Y.mergeUpdates(local);
    const resync = Y.encodeStateAsUpdate(tab);
    tab.destroy();
    const reg = (update: Uint8Array, seq: number): YjsRegister => ({
      kind: "yjs",
      epoch: ZERO_EPOCH,
      update,
      stamps: [{ hlc: { wall: seq, logical: 0, node: "eu" }, seq }],
    });
    const ab = mergeRegister(reg(sent, 1), reg(resync, 2));
    const ba = mergeRegister(reg(resync, 2), reg(sent, 1));
    expect(registerKey(ab)).toBe(registerKey(ba));
    expect(hex(canonicalYjs([sent, resync]))).toBe(hex(canonicalYjs([resync, sent])));
    expect(Buffer.from((ab as YjsRegister).update).includes("secret")).toBe(false);
  });

  it("a value write replaces a Yjs field, and a Yjs write after it starts a new epoch that wins", () => {
    const clock = new FakeClock(1_000);
    const clocks = {
      eu: new HybridClock("eu", clock),
      us: new HybridClock("us", clock),
      ap: new HybridClock("ap", clock),
    };
    const seqs = { eu: 0, us: 0, ap: 0 };
    const id = "yjs-reset-session-01";
    const write = (node: keyof typeof clocks, seen: SessionState | undefined, w: SessionWrite) => {
      for (const reg of seen?.fields.values() ?? []) {
        for (const s of reg.kind === "value" ? [reg.stamp] : reg.stamps)
          clocks[node].receive(s.hlc);
      }
      seqs[node] += 1;
      return planWrite(seen, w, { hlc: clocks[node].now(), seq: seqs[node] }, clock.t, id);
    };
    const edit = (client: number, text: string): SessionWrite => ({
      op: "patch",
      yjs: new Map([["draft", tabUpdate(client, text)]]),
      defaultTtlMs: 60_000,
    });

    // eu: the first edit creates the session with the zero epoch.
    const d1 = write("eu", undefined, edit(1, "one"));
    expect(d1.fields.get("draft")).toMatchObject({ kind: "yjs", epoch: ZERO_EPOCH });
    // us saw it and overwrites the field with a plain value.
    const d2 = write("us", d1, {
      op: "patch",
      set: new Map([["draft", packValue("plain")]]),
      defaultTtlMs: null,
    });
    const reset = d2.fields.get("draft")!;
    expect(reset.kind).toBe("value");
    // eu, not having seen the value yet, edits the old document: joins the old epoch and loses.
    const d3 = write("eu", d1, edit(2, "two"));
    expect(d3.fields.get("draft")).toMatchObject({ kind: "yjs", epoch: ZERO_EPOCH });
    for (const order of permutations([d1, d2, d3])) {
      expect(fold(order).fields.get("draft")).toEqual(reset);
    }
    // ap and eu both saw the value; their concurrent edits start the same new epoch and merge.
    const d4 = write("ap", fold([d1, d2]), edit(3, "three"));
    const d5 = write("eu", fold([d1, d3, d2]), edit(4, "four"));
    const epoch = yjsEpochAfter(reset);
    expect(epoch).toEqual({ ...(reset as { stamp: Stamp }).stamp.hlc, node: "us\u0000" });
    expect(d4.fields.get("draft")).toMatchObject({ kind: "yjs", epoch });
    expect(d5.fields.get("draft")).toMatchObject({ kind: "yjs", epoch });
    const keys = new Set<string>();
    for (const order of permutations([d1, d2, d3, d4, d5])) {
      const merged = fold(order);
      keys.add(stateKey(merged));
      const draft = merged.fields.get("draft")!;
      if (draft.kind !== "yjs") throw new Error("expected the new Yjs epoch to win");
      expect(draft.epoch).toEqual(epoch);
      expect(yjsLog(draft.update)).toEqual(["tab-3", "tab-4"]);
      expect(sessionStatus(merged, clock.t)).toBe("live");
    }
    expect(keys.size).toBe(1);
    // A later value write replaces the new document too.
    const d6 = write("us", fold([d1, d2, d4, d5]), {
      op: "patch",
      unset: ["draft"],
      defaultTtlMs: null,
    });
    expect(fold([d6, d5, d4, d3, d2, d1]).fields.get("draft")).toMatchObject({
      kind: "value",
      value: null,
    });
  });
});

function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [[...xs]];
  return xs.flatMap((x, i) =>
    permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest]),
  );
}
