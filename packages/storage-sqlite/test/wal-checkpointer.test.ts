import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { testDelta, testSessionId, testStamp } from "@meridian/core/testing";
import { afterAll, describe, expect, it } from "vitest";
import { openSqliteStore, startWalCheckpointer } from "../src/index.ts";

const dir = mkdtempSync(join(tmpdir(), "meridian-checkpoint-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Polls `ok` every 10 ms until it holds; fails after 10 s. */
async function waitFor(ok: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Writes `n` sessions of a few hundred bytes each, one transaction per 100. */
function fill(store: ReturnType<typeof openSqliteStore>, tag: string, n: number): void {
  for (let i = 0; i < n; i += 100) {
    const deltas = [];
    for (let j = i; j < i + 100; j++) {
      deltas.push(
        testDelta(testSessionId(`${tag}${j}`), testStamp("eu", j + 1), {
          set: { cart: "x".repeat(300), n: j },
        }),
      );
    }
    store.applyDeltas(deltas);
  }
}

describe("WAL checkpoint worker", () => {
  it("copies the WAL into the database file while the writer never checkpoints itself", async () => {
    // Control: without the worker, nothing reaches the database file.
    const alone = join(dir, "alone.db");
    const control = openSqliteStore(alone, { autoCheckpoint: false });
    const controlStart = statSync(alone).size;
    fill(control, "c", 2000);
    expect(statSync(alone).size).toBe(controlStart);
    control.close();

    const path = join(dir, "worker.db");
    const store = openSqliteStore(path, { autoCheckpoint: false });
    const start = statSync(path).size;
    const failures: string[] = [];
    const checkpointer = startWalCheckpointer(path, {
      intervalMs: 20,
      onFailure: (m) => failures.push(m),
    });
    fill(store, "w", 2000);
    await waitFor(() => statSync(path).size > start + 500_000, "the worker to checkpoint");
    await checkpointer.stop();
    await checkpointer.stop();
    expect(failures).toEqual([]);
    expect(store.getSession(testSessionId("w1999"))?.fields.size).toBe(2);
    store.close();
  });

  it("reports a worker that cannot open the database once, and never throws", async () => {
    const notADatabase = join(dir, "garbage.db");
    writeFileSync(notADatabase, "this is not a database file, not even close to one.".repeat(200));
    const failures: string[] = [];
    const checkpointer = startWalCheckpointer(notADatabase, {
      intervalMs: 10,
      onFailure: (m) => failures.push(m),
    });
    await waitFor(() => failures.length > 0, "the failure to be reported");
    await checkpointer.stop();
    expect(failures).toHaveLength(1);
  });
});
