import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Delta, MemoryStore } from "@meridian/core";
import { propertyParams, testDelta, testSessionId, testStamp } from "@meridian/core/testing";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { openSqliteStore } from "../src/index.ts";
import { EXPIRY_BUCKET_MS } from "../src/schema.ts";

const dir = mkdtempSync(join(tmpdir(), "meridian-sweep-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

// Times a few ms either side of bucket edges, around zero and around a realistic epoch.
const B = EXPIRY_BUCKET_MS;
const EDGES = [0, 1_700_000_000_000 - (1_700_000_000_000 % B)];
const timeArb = fc
  .tuple(
    fc.constantFrom(...EDGES),
    fc.integer({ min: -2, max: 2 }),
    fc.integer({ min: -3, max: 3 }),
  )
  .map(([edge, k, d]) => edge + k * B + d);

const writeArb = fc.record({
  session: fc.nat({ max: 3 }),
  origin: fc.constantFrom("eu", "us"),
  lifetime: fc.option(fc.tuple(timeArb, timeArb), { nil: undefined }),
  deadline: fc.option(timeArb, { nil: undefined }),
  lastAccess: fc.option(timeArb, { nil: undefined }),
  idleMs: fc.option(fc.option(fc.integer({ min: 1, max: 3 * B }), { nil: null }), {
    nil: undefined,
  }),
  deleted: fc.nat({ max: 9 }).map((n) => n === 0),
});

describe("expiredBefore", () => {
  it("returns what the reference returns after any writes, expiry moving either way", () => {
    fc.assert(
      fc.property(
        fc.array(writeArb, { minLength: 1, maxLength: 12 }),
        fc.array(fc.tuple(timeArb, fc.constantFrom(0, 0.5, -0.5)), { minLength: 1, maxLength: 6 }),
        (writes, sweeps) => {
          const store = openSqliteStore(join(dir, `sweep-${++files}.db`));
          const ref = new MemoryStore();
          const seqs = new Map<string, number>();
          try {
            for (const w of writes) {
              const seq = (seqs.get(w.origin) ?? 0) + 1;
              seqs.set(w.origin, seq);
              const lifetime =
                w.lifetime === undefined
                  ? undefined
                  : ([Math.min(...w.lifetime), Math.max(...w.lifetime) + 1] as const);
              const d: Delta = testDelta(
                testSessionId(`sw${w.session}`),
                testStamp(w.origin, seq),
                {
                  set: { n: seq },
                  ...(lifetime === undefined ? {} : { lifetime }),
                  ...(w.deadline === undefined ? {} : { deadline: w.deadline }),
                  ...(w.lastAccess === undefined ? {} : { lastAccess: w.lastAccess }),
                  ...(w.idleMs === undefined ? {} : { idleMs: w.idleMs }),
                  deleted: w.deleted,
                },
              );
              store.applyDeltas([d]);
              ref.applyDeltas([d]);
              for (const [t, frac] of sweeps) {
                for (const limit of [1, 3, 10]) {
                  expect(store.expiredBefore(t + frac, limit)).toEqual(
                    ref.expiredBefore(t + frac, limit),
                  );
                }
              }
            }
          } finally {
            store.close();
          }
        },
      ),
      propertyParams("expiredBefore against the reference", 200),
    );
  });
});
