import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryStore, type SessionState, sessionBytes } from "@meridian/core";
import { deltasArb, propertyParams } from "@meridian/core/testing";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { openSqliteStore } from "../src/index.ts";

const dir = mkdtempSync(join(tmpdir(), "meridian-cache-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/** One step against both stores; `k` picks an id, `n` a number of writes or sessions. */
type Op =
  | { readonly op: "get" | "wasPurged" | "purge" | "purgeUnknownDot"; readonly k: number }
  | { readonly op: "deltas" | "states"; readonly n: number; readonly k: number }
  | { readonly op: "failingDeltas" | "failingStates"; readonly n: number; readonly k: number }
  | { readonly op: "count" | "reopen" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constantFrom("get", "wasPurged", "purge", "purgeUnknownDot"), k: fc.nat() }),
  fc.record({
    op: fc.constantFrom("deltas", "states", "failingDeltas", "failingStates"),
    n: fc.integer({ min: 1, max: 6 }),
    k: fc.nat(),
  }),
  fc.record({ op: fc.constantFrom("count", "reopen") }),
);

const hex = (s: SessionState | undefined) =>
  s === undefined ? null : Buffer.from(sessionBytes(s)).toString("hex");

/** A state that passes staging but cannot be written: the transaction throws after other writes. */
function unwritable(id: string): SessionState {
  return { id, fields: undefined } as unknown as SessionState;
}

describe("SqliteStore's session cache under interleaved reads, writes, purges and failures", () => {
  it("answers as the reference store after every step, with any cache size, and on disk", () => {
    fc.assert(
      fc.property(
        deltasArb({ maxSessions: 5 }).filter((d) => d.length > 0),
        fc.array(opArb, { minLength: 1, maxLength: 40 }),
        fc.constantFrom(0, 1, 2, 3, 50),
        (deltas, ops, cachedSessions) => {
          const ids = [...new Set(deltas.map((d) => d.session.id))];
          const source = new MemoryStore();
          source.applyDeltas(deltas);
          const path = join(dir, `cache-${++files}.db`);
          let store = openSqliteStore(path, { cachedSessions });
          const reference = new MemoryStore();
          let next = 0;
          const idOf = (k: number) => ids[k % ids.length]!;
          try {
            for (const [step, o] of ops.entries()) {
              const at = `step ${step} (${o.op})`;
              switch (o.op) {
                case "get":
                  expect(hex(store.getSession(idOf(o.k))), at).toBe(
                    hex(reference.getSession(idOf(o.k))),
                  );
                  break;
                case "wasPurged":
                  expect(store.wasPurged(idOf(o.k)), at).toBe(reference.wasPurged(idOf(o.k)));
                  break;
                case "purge":
                  store.purgeSession(idOf(o.k));
                  reference.purgeSession(idOf(o.k));
                  break;
                case "purgeUnknownDot":
                  store.applyPurged([{ id: idOf(o.k), dot: null }]);
                  reference.applyPurged([{ id: idOf(o.k), dot: null }]);
                  break;
                case "deltas": {
                  const batch = deltas.slice(next, next + o.n);
                  next += batch.length;
                  store.applyDeltas(batch);
                  reference.applyDeltas(batch);
                  break;
                }
                case "states": {
                  const states = ids
                    .slice(0, o.n)
                    .map((_, i) => source.getSession(idOf(o.k + i)))
                    .filter((s) => s !== undefined);
                  store.applyStates(states);
                  reference.applyStates(states);
                  break;
                }
                case "failingDeltas": {
                  const batch = deltas.slice(next, next + o.n);
                  const bad = {
                    dot: { origin: "zz", seq: o.k + 1 },
                    session: unwritable(`${idOf(o.k)}x`),
                  };
                  expect(() => store.applyDeltas([...batch, bad]), at).toThrow();
                  break;
                }
                case "failingStates": {
                  const states = ids
                    .slice(0, o.n)
                    .map((_, i) => source.getSession(idOf(o.k + i)))
                    .filter((s) => s !== undefined);
                  expect(
                    () => store.applyStates([...states, unwritable(`${idOf(o.k)}x`)]),
                    at,
                  ).toThrow();
                  break;
                }
                case "count":
                  expect(store.sessionCount(), at).toBe(reference.sessionCount());
                  break;
                case "reopen":
                  store.close();
                  store = openSqliteStore(path, { cachedSessions });
                  break;
              }
            }
            const view = (s: typeof store | MemoryStore) => ({
              sessions: ids.map((id) => hex(s.getSession(id))),
              purged: ids.map((id) => s.wasPurged(id)),
              count: s.sessionCount(),
              digest: s.digest(),
              vv: JSON.stringify([...s.versionVector().entries()]),
            });
            expect(view(store)).toEqual(view(reference));
            store.close();
            store = openSqliteStore(path, { cachedSessions });
            expect(view(store)).toEqual(view(reference));
          } finally {
            store.close();
          }
        },
      ),
      propertyParams("session cache against the reference", 150),
    );
  });
});
