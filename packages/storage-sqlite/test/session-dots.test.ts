import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryStore, missingFragment, VersionVector } from "@meridian/core";
import { deliveryArb, deltasArb, propertyParams } from "@meridian/core/testing";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { openSqliteStore } from "../src/index.ts";
import { dotRows } from "./dot-rows.ts";
import { keyring, newKey } from "./keyring-kit.ts";

const dir = mkdtempSync(join(tmpdir(), "meridian-dots-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

type Step = "deltas" | "states" | "purge" | "purged" | "reencrypt" | "reopen";

describe("session_dots", () => {
  it("holds exactly each stored session's newest dot per origin, on every write path", () => {
    const ring = keyring({ k1: newKey(), k2: newKey() }, "k1");
    const ring2 = { ...ring, current: "k2" };
    const steps = fc.array(
      fc.constantFrom<Step>("deltas", "deltas", "states", "purge", "purged", "reencrypt", "reopen"),
      { minLength: 1, maxLength: 12 },
    );
    const caseArb = deltasArb().chain((deltas) =>
      fc.tuple(deliveryArb(deltas), steps, fc.nat(), fc.boolean()),
    );
    fc.assert(
      fc.property(caseArb, ([batches, plan, pick, cached]) => {
        const path = join(dir, `dots-${++files}.db`);
        const options = { keyring: ring, cachedSessions: cached ? 100 : 0 };
        let store = openSqliteStore(path, options);
        // A second replica that gets every batch, whose fragments come in through applyStates.
        const other = new MemoryStore();
        let next = 0;
        try {
          for (const step of plan) {
            const batch = batches[next % Math.max(1, batches.length)] ?? [];
            if (step === "deltas") {
              next += 1;
              store.applyDeltas(batch);
              other.applyDeltas(batch);
            } else if (step === "states") {
              next += 1;
              other.applyDeltas(batch);
              const peer = VersionVector.from([...store.versionVector().entries()]);
              const fragments = [...other.allSessions()]
                .map((s) => missingFragment(s, peer))
                .filter((s) => s !== undefined);
              store.applyStates(fragments);
            } else if (step === "purge" || step === "purged") {
              const ids = [...store.allSessions()].map((s) => s.id);
              const id = ids[pick % Math.max(1, ids.length)];
              if (id === undefined) continue;
              if (step === "purge") store.purgeSession(id);
              else store.applyPurged([{ id, dot: null }]);
            } else if (step === "reencrypt") {
              store.close();
              store = openSqliteStore(path, { ...options, keyring: ring2 });
              store.reencrypt();
            } else {
              store.close();
              store = openSqliteStore(path, options);
            }
            const { stored, expected } = dotRows(store);
            expect(stored, `after ${step}`).toEqual(expected);
          }
        } finally {
          store.close();
        }
      }),
      propertyParams("session_dots rows", 150),
    );
  });
});
