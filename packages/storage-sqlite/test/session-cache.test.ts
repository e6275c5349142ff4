import { emptySession, type SessionState } from "@meridian/core";
import { propertyParams } from "@meridian/core/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type CachedSession, SessionCache } from "../src/session-cache.ts";

type Op =
  | { readonly op: "get" | "delete"; readonly id: string }
  | { readonly op: "set"; readonly id: string; readonly state: CachedSession }
  | { readonly op: "refresh"; readonly id: string; readonly state: SessionState }
  | { readonly op: "clear" };

/** The obvious LRU: ids youngest first in an array; a new known-absent entry joins as the oldest. */
class ModelCache {
  readonly order: { id: string; state: CachedSession }[] = [];
  constructor(private readonly capacity: number) {}

  get(id: string): CachedSession | undefined {
    const i = this.order.findIndex((e) => e.id === id);
    if (i < 0) return undefined;
    const [e] = this.order.splice(i, 1);
    this.order.unshift(e!);
    return e!.state;
  }

  set(id: string, state: CachedSession): void {
    if (this.capacity <= 0) return;
    const i = this.order.findIndex((e) => e.id === id);
    if (i >= 0) {
      this.order.splice(i, 1);
      this.order.unshift({ id, state });
      return;
    }
    if (this.order.length >= this.capacity) this.order.pop();
    if (state === null) this.order.push({ id, state });
    else this.order.unshift({ id, state });
  }

  refresh(id: string, state: SessionState): void {
    const e = this.order.find((x) => x.id === id);
    if (e !== undefined) e.state = state;
  }

  delete(id: string): void {
    const i = this.order.findIndex((e) => e.id === id);
    if (i >= 0) this.order.splice(i, 1);
  }
}

const idArb = fc.constantFrom("a", "b", "c", "d", "e", "f", "g");
const stateArb = idArb.map((id) => emptySession(`${id}-session-id-00`));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constantFrom("get" as const, "delete" as const), id: idArb }),
  fc.record({ op: fc.constant("set" as const), id: idArb, state: fc.option(stateArb) }),
  fc.record({ op: fc.constant("refresh" as const), id: idArb, state: stateArb }),
  fc.constant({ op: "clear" as const }),
);

describe("SessionCache", () => {
  it("answers and evicts exactly as a least-recently-used list of its capacity", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5 }),
        fc.array(opArb, { maxLength: 60 }),
        (cap, ops) => {
          const cache = new SessionCache(cap);
          let model = new ModelCache(cap);
          for (const o of ops) {
            if (o.op === "get") expect(cache.get(o.id)).toBe(model.get(o.id));
            else if (o.op === "set") {
              cache.set(o.id, o.state);
              model.set(o.id, o.state);
            } else if (o.op === "refresh") {
              cache.refresh(o.id, o.state);
              model.refresh(o.id, o.state);
            } else if (o.op === "delete") {
              cache.delete(o.id);
              model.delete(o.id);
            } else {
              cache.clear();
              model = new ModelCache(cap);
            }
          }
          // Every id reads as the model says (reads refresh both alike, in the same order).
          for (const id of ["a", "b", "c", "d", "e", "f", "g"]) {
            expect(cache.get(id)).toBe(model.get(id));
          }
        },
      ),
      propertyParams("SessionCache against a model LRU", 500),
    );
  });

  it("lets ids known to be absent take one slot at a time, not the sessions in use", () => {
    const cache = new SessionCache(100);
    const hot = Array.from({ length: 100 }, (_, i) =>
      emptySession(`hot-session-${String(i).padStart(6, "0")}`),
    );
    for (const s of hot) cache.set(s.id, s);
    for (let i = 0; i < 10_000; i++) cache.set(`probe-${String(i).padStart(10, "0")}`, null);
    // The first probe evicted the oldest session; every later one evicted the probe before it.
    expect(hot.slice(1).every((s) => cache.get(s.id) === s)).toBe(true);
    expect(cache.get(hot[0]!.id)).toBeUndefined();
    expect(cache.get("probe-0000009999")).toBeNull();
    expect(cache.get("probe-0000009998")).toBeUndefined();
  });
});
