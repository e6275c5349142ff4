import { describe } from "vitest";
import type { Store } from "../store.ts";
import { durabilityTests } from "./conformance-durability.ts";
import { extractTests } from "./conformance-extract.ts";
import { lifecycleTests } from "./conformance-lifecycle.ts";
import { purgedTests } from "./conformance-purged.ts";
import { readTests } from "./conformance-reads.ts";
import { writeTests } from "./conformance-writes.ts";
import { DEFAULT_RUNS } from "./seed.ts";

/** Options of {@link storeConformance}. */
export interface StoreConformanceOptions<S extends Store> {
  /**
   * Opens a new store over the durable data of `closed`, which the suite has already closed.
   * When given, the suite also checks that state, version vector, clock and meta survive.
   */
  readonly reopen?: (closed: S) => S | Promise<S>;
  /** Runs of each property (default 1000; the `RUNS` environment variable overrides it). */
  readonly runs?: number;
}

/** What each part of the suite gets: how to make stores, and how to use one safely. */
export interface ConformanceContext<S extends Store> {
  readonly name: string;
  readonly runs: number;
  readonly reopen: ((closed: S) => S | Promise<S>) | undefined;
  /** A fresh store the caller must close. */
  make(): Promise<S>;
  /** Runs `body` against a fresh store and closes it afterwards, whatever happens. */
  withStore<T>(body: (store: S) => T | Promise<T>): Promise<T>;
}

/**
 * Registers the storage conformance suite for one {@link Store} implementation as vitest
 * `describe`/`it` blocks. `makeStore` must return a fresh, empty store on every call; the suite
 * closes every store it makes.
 *
 * @remarks Checks the whole `Store` contract against the reference `MemoryStore`: joins record
 * dots, applying is idempotent and order-, duplication- and batching-insensitive (fast-check,
 * seed printed, `SEED=` replays), state fragments record no dot, `extractMissing` returns exactly
 * what a peer lacks with working pagination, Yjs fields survive, purged ids replicate as
 * permanent remove-wins tombstones (`applyPurged`, `extractPurged`), and, with `reopen`, that
 * every part survives a restart.
 */
export function storeConformance<S extends Store>(
  name: string,
  makeStore: () => S | Promise<S>,
  options: StoreConformanceOptions<S> = {},
): void {
  const ctx: ConformanceContext<S> = {
    name,
    runs: options.runs ?? DEFAULT_RUNS,
    reopen: options.reopen,
    make: async () => makeStore(),
    async withStore(body) {
      const store = await makeStore();
      try {
        return await body(store);
      } finally {
        store.close();
      }
    },
  };
  describe(`Store conformance: ${name}`, () => {
    writeTests(ctx);
    readTests(ctx);
    extractTests(ctx);
    durabilityTests(ctx);
    lifecycleTests(ctx);
    purgedTests(ctx);
  });
}
