import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Delta,
  MemoryStore,
  type SessionState,
  type Store,
  sessionBytes,
  VersionVector,
} from "@meridian/core";
import {
  deltasArb,
  propertyParams,
  readAllPages,
  TEST_EPOCH_MS,
  TEST_USERS,
  testDelta,
  testSessionId,
  testStamp,
} from "@meridian/core/testing";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { openSqliteStore, type SqliteStore } from "../src/index.ts";
import { dotRows } from "./dot-rows.ts";
import { ROWS_PER_INSERT } from "../src/statements.ts";
import { keyring, newKey } from "./keyring-kit.ts";

const dir = mkdtempSync(join(tmpdir(), "meridian-bulk-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/** Everything a store says about `ids`, in a form two stores can be compared by. */
function view(store: Store, ids: readonly string[]) {
  const sessions = ids.map((id) => {
    const s = store.getSession(id);
    return [id, s === undefined ? null : Buffer.from(sessionBytes(s)).toString("hex")];
  });
  const expiry = [-1, 0, 1, 1_000, 100_000, 10_000_000].map((d) =>
    store.expiredBefore(TEST_EPOCH_MS + d, 10_000),
  );
  return {
    sessions,
    purged: ids.filter((id) => store.wasPurged(id)),
    count: store.sessionCount(),
    tombstones: store.tombstones(10_000),
    users: TEST_USERS.map((u) => store.sessionsOfUser(u)),
    expiry,
    digest: store.digest(),
  };
}

/**
 * The sessions of `source` under `copies` ids each: copy 0 under its own id, copy k under the id
 * suffixed `-k`. Chunks then hold more new sessions than one multi-row INSERT takes.
 */
function copied(source: Store, copies: number, from = 0): SessionState[] {
  const out: SessionState[] = [];
  for (let k = from; k < copies; k++) {
    for (const s of source.allSessions()) out.push(k === 0 ? s : { ...s, id: `${s.id}-${k}` });
  }
  return out;
}

/** Joins `states` into both stores in chunks of the sizes given (cycled); compares the counts. */
function joinInChunks(
  stores: readonly [SqliteStore, MemoryStore],
  states: readonly SessionState[],
  sizes: readonly number[],
): void {
  let at = 0;
  for (let k = 0; at < states.length; k++) {
    const chunk = states.slice(at, at + sizes[k % sizes.length]!);
    at += chunk.length;
    const got = stores[0].applyStates(chunk).rejectedFieldWrites;
    expect(got, `rejected writes of chunk ${k}`).toBe(
      stores[1].applyStates(chunk).rejectedFieldWrites,
    );
    expect(stores[0].sessionCount(), `sessions after chunk ${k}`).toBe(stores[1].sessionCount());
  }
}

/** One case: what both stores hold first, what they purge, then the chunks of states joined. */
const caseArb = deltasArb().chain((deltas) =>
  fc.record({
    deltas: fc.constant(deltas),
    copies: fc.integer({ min: 1, max: 40 }),
    // Which writes both stores hold before the states arrive (the rest only the source has).
    heldFirst: fc.array(fc.boolean(), { minLength: deltas.length, maxLength: deltas.length }),
    purgeEvery: fc.integer({ min: 2, max: 12 }),
    duplicates: fc.array(fc.nat(), { maxLength: 20 }),
    chunkSizes: fc.array(fc.integer({ min: 1, max: 3 * ROWS_PER_INSERT }), { minLength: 1 }),
    cached: fc.boolean(),
    encrypted: fc.boolean(),
  }),
);

describe("applyStates on SQLite", () => {
  it("joins chunks of states exactly as the reference store, on new, stored, deleted, purged and expiring ids", () => {
    const ring = keyring({ k1: newKey() }, "k1");
    fc.assert(
      fc.property(caseArb, (c) => {
        const path = join(dir, `bulk-${++files}.db`);
        const options = {
          cachedSessions: c.cached ? 50 : 0,
          ...(c.encrypted ? { keyring: ring } : {}),
        };
        let store = openSqliteStore(path, options);
        const reference = new MemoryStore();
        try {
          // The stores hold some writes first: copy 0 as deltas, the other copies as states.
          const held: Delta[] = c.deltas.filter((_, i) => c.heldFirst[i]);
          store.applyDeltas(held);
          reference.applyDeltas(held);
          const heldSource = new MemoryStore();
          heldSource.applyDeltas(held);
          joinInChunks([store, reference], copied(heldSource, c.copies, 1), c.chunkSizes);
          // Purge every n-th stored session (by its delete dot, if any), and one id never stored,
          // so states arriving for a purged id must be dropped.
          const stored = [...reference.allSessions()].map((s) => s.id);
          for (const [i, id] of stored.entries()) {
            if (i % c.purgeEvery !== 0) continue;
            store.purgeSession(id);
            reference.purgeSession(id);
            expect(store.sessionCount(), `sessions after purging ${id}`).toBe(
              reference.sessionCount(),
            );
          }
          const source = new MemoryStore();
          source.applyDeltas(c.deltas);
          const all = copied(source, c.copies);
          const unheld = all.find((s) => !stored.includes(s.id));
          if (unheld !== undefined) {
            store.applyPurged([{ id: unheld.id, dot: null }]);
            reference.applyPurged([{ id: unheld.id, dot: null }]);
          }
          const states: SessionState[] = [...all];
          for (const d of c.duplicates) if (all.length > 0) states.push(all[d % all.length]!);
          joinInChunks([store, reference], states, c.chunkSizes);
          const ids = all.map((s) => s.id);
          expect(view(store, ids)).toEqual(view(reference, ids));
          const dots = dotRows(store);
          expect(dots.stored).toEqual(dots.expected);
          // What is on disk, not only in the cache.
          store.close();
          store = openSqliteStore(path, options);
          expect(view(store, ids)).toEqual(view(reference, ids));
        } finally {
          store.close();
        }
      }),
      propertyParams("applyStates against the reference", 40),
    );
  });
});

describe("extractMissing on SQLite, reading sessions a chunk of ids at a time", () => {
  it("pages through exactly what the reference finds missing, over many candidates and partly cached", () => {
    const writes = Array.from({ length: 900 }, (_, i) =>
      testDelta(testSessionId(`many${i}`), testStamp(i % 3 ? "eu" : "us", Math.floor(i / 3) + 1), {
        set: { i },
      }),
    );
    const path = join(dir, `extract-${++files}.db`);
    // A small cache, filled by the last writes: some candidates come from it, most from rows.
    const store = openSqliteStore(path, { cachedSessions: 100 });
    const reference = new MemoryStore();
    try {
      store.applyDeltas(writes);
      reference.applyDeltas(writes);
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 7 }),
          fc.integer({ min: 1, max: 700 }),
          (every, limit) => {
            // The peer lacks every `every`-th write: from 129 to all 900 candidates.
            const peer = new VersionVector();
            for (const [i, w] of writes.entries()) if (i % every !== 0) peer.add(w.dot);
            const ids = (pages: SessionState[]) =>
              pages.map((s) => Buffer.from(sessionBytes(s)).toString("hex"));
            expect(ids(readAllPages(store, peer, limit))).toEqual(
              ids(readAllPages(reference, peer, limit)),
            );
          },
        ),
        propertyParams("extractMissing by chunks of ids", 30),
      );
    } finally {
      store.close();
    }
  });
});
