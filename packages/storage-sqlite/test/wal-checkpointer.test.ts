import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setImmediate } from "node:timers/promises";
import { type Delta, unpackValue } from "@meridian/core";
import { testDelta, testSessionId, testStamp } from "@meridian/core/testing";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it, vi } from "vitest";
import { type CheckpointWorkerOptions, openSqliteStore, type SqliteStore } from "../src/index.ts";
import { WalCheckpointer } from "../src/wal-checkpointer.ts";
import { crashWriter, expectAcknowledgedWrites } from "./crash-kit.ts";
import { keyring, newKey, plaintextFound } from "./keyring-kit.ts";

const dir = mkdtempSync(join(tmpdir(), "meridian-checkpoint-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
const freshPath = () => join(dir, `store-${++files}.db`);
const MiB = 1024 * 1024;

/** Polls `ok` until it holds; fails after 30 s (a deadline, not a timing assertion). */
async function waitFor(ok: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 5));
  }
}

/** `n` writes of fresh sessions from `first` on, each with a value of `bytes` bytes. */
function writes(tag: string, first: number, n: number, bytes: number): Delta[] {
  return Array.from({ length: n }, (_, i) =>
    testDelta(testSessionId(`${tag}${first + i}`), testStamp("eu", first + i + 1), {
      set: { v: "x".repeat(bytes), i: first + i },
    }),
  );
}

/**
 * Sessions in the database file alone, as a copy of it without its WAL shows them; -1 when the
 * copy was torn: taken while a checkpoint was writing the file, which without the WAL is only
 * whole between checkpoints.
 */
function sessionsInFileAlone(path: string): number {
  const copy = `${path}.alone`;
  rmSync(`${copy}-wal`, { force: true });
  rmSync(`${copy}-shm`, { force: true });
  copyFileSync(path, copy);
  const raw = new Database(copy);
  try {
    // Before the first checkpoint even the schema is only in the WAL.
    const tables = raw.prepare("SELECT 1 FROM sqlite_master WHERE name = 'sessions'").all();
    if (tables.length === 0) return 0;
    return (raw.prepare("SELECT count(*) AS n FROM sessions").get() as { n: number }).n;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === "SQLITE_CORRUPT" || code === "SQLITE_NOTADB") return -1;
    throw e;
  } finally {
    raw.close();
  }
}

/** A store with a checkpoint worker whose failures make the test fail. */
function withWorker(path: string, options: CheckpointWorkerOptions = {}): SqliteStore {
  return openSqliteStore(path, {
    checkpointWorker: {
      intervalMs: 5,
      ...options,
      onFailure: (e) => {
        throw new Error(`the checkpoint worker failed: ${e.message}`);
      },
    },
  });
}

describe("WAL checkpoint worker", () => {
  it("copies committed pages into the database file; the writer does not checkpoint", async () => {
    const path = freshPath();
    const store = withWorker(path);
    try {
      // Well under SQLite's own 1,000-page trigger: only the worker can have copied these.
      for (let i = 0; i < 300; i += 100) store.applyDeltas(writes("copy", i, 100, 50));
      await waitFor(() => sessionsInFileAlone(path) === 300, "the file alone to hold every write");
      expect(store.walStatus()).toMatchObject({
        offThread: true,
        checkpoints: { writer: 0 },
      });
      expect(store.walStatus().checkpoints.worker).toBeGreaterThan(0);
    } finally {
      store.close();
    }
  });

  it("keeps the WAL bounded under a steady stream of commits: past its limit the writer relieves it", async () => {
    const store = withWorker(freshPath(), { walLimitPages: 256 });
    try {
      let largest = 0;
      // About 30 MiB of values: without restarts the WAL would grow past twice that.
      for (let i = 0; i < 80_000; i += 100) {
        store.applyDeltas(writes("steady", i, 100, 400));
        largest = Math.max(largest, store.walStatus().bytes);
        // A node returns to its event loop between commits; that is where relief is asked.
        await setImmediate();
      }
      expect(store.walStatus().checkpoints.writer).toBeGreaterThan(0);
      expect(largest).toBeLessThan(12 * MiB);
    } finally {
      store.close();
    }
  });

  it("checkpoints and truncates on demand, taking its turn with the worker", () => {
    const path = freshPath();
    const store = withWorker(path);
    try {
      for (let i = 0; i < 2000; i += 100) {
        store.applyDeltas(writes("demand", i, 100, 200));
        expect(store.checkpoint()).toBe(true);
        expect(store.walStatus().bytes).toBe(0);
      }
      expect(sessionsInFileAlone(path)).toBe(2000);
    } finally {
      store.close();
    }
  });

  it("stops the worker on close, so that closing folds the WAL into the database file", () => {
    const path = freshPath();
    const store = withWorker(path);
    store.applyDeltas(writes("close", 0, 500, 100));
    store.close();
    expect(store.walStatus()).toMatchObject({ bytes: 0, offThread: false });
    expect(existsSync(`${path}-wal`)).toBe(false);
    expect(sessionsInFileAlone(path)).toBe(500);
    store.close(); // idempotent
  });

  it("does not keep the process alive", async () => {
    const script = resolve(import.meta.dirname, "fixtures/open-and-leave.ts");
    const child = spawn(process.execPath, ["--import", "tsx", script, freshPath()], {
      cwd: resolve(import.meta.dirname, "../../.."),
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const deadline = setTimeout(() => child.kill("SIGKILL"), 30_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done) =>
      child.on("exit", (c, s) => done([c, s])),
    );
    clearTimeout(deadline);
    expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: "" });
  });

  it("loses no acknowledged write when the writer is killed with SIGKILL while the worker copies", async () => {
    const path = freshPath();
    const acked = await crashWriter(
      path,
      ["NORMAL", "worker"],
      ([seq, checkpoints]) => (seq ?? 0) >= 3000 && (checkpoints ?? 0) >= 10,
    );
    expect(acked).toBeGreaterThanOrEqual(3000);
    expectAcknowledgedWrites(path, acked);
  });

  it("works on an encrypted store: only ciphertext is copied, and it reads back", async () => {
    const path = freshPath();
    const ring = keyring({ k1: newKey() }, "k1");
    const secret = "correct horse battery staple";
    const store = openSqliteStore(path, { keyring: ring, checkpointWorker: { intervalMs: 5 } });
    store.applyDeltas([
      testDelta(testSessionId("sealed"), testStamp("eu", 1), { set: { secret } }),
      ...writes("sealed", 1, 99, 50),
    ]);
    await waitFor(() => sessionsInFileAlone(path) === 100, "the file alone to hold every write");
    expect(plaintextFound(path, [secret])).toEqual([]);
    store.close();
    const again = openSqliteStore(path, { keyring: ring });
    try {
      const field = again.getSession(testSessionId("sealed"))?.fields.get("secret");
      expect(field?.kind === "value" && field.value !== null && unpackValue(field.value)).toBe(
        secret,
      );
    } finally {
      again.close();
    }
  });
});

describe("WalCheckpointer failing", () => {
  it("reports the error and hands checkpoints back to SQLite, which keeps the WAL bounded", async () => {
    const path = freshPath();
    const db = new Database(path);
    db.pragma("journal_mode = WAL");
    db.exec("CREATE TABLE t (v BLOB)");
    const failures: Error[] = [];
    const failing = new URL("./fixtures/failing-checkpoint-worker.mjs", import.meta.url);
    const checkpointer = new WalCheckpointer(
      db,
      path,
      "NORMAL",
      { onFailure: (e) => failures.push(e) },
      failing,
    );
    try {
      expect(db.pragma("wal_autocheckpoint", { simple: true })).toBe(0);
      await waitFor(() => failures.length > 0, "the failure to be reported");
      expect(failures.map((e) => e.message)).toEqual([
        "checkpoint worker fixture: failing on purpose",
      ]);
      expect(checkpointer.running).toBe(false);
      expect(db.pragma("wal_autocheckpoint", { simple: true })).toBe(1000);
      const insert = db.prepare("INSERT INTO t VALUES (?)");
      // About 40 MiB through the WAL; SQLite's own checkpoints restart it.
      for (let i = 0; i < 10_000; i++) insert.run(Buffer.alloc(4000));
      expect(statSync(`${path}-wal`).size).toBeLessThan(8 * MiB);
    } finally {
      checkpointer.stop();
      db.close();
    }
  });
  it("regression: once the worker has failed, a checkpoint on demand does not wait for its turn", async () => {
    const path = freshPath();
    const db = new Database(path);
    db.pragma("journal_mode = WAL");
    const failures: Error[] = [];
    const dying = new URL("./fixtures/turn-holding-checkpoint-worker.mjs", import.meta.url);
    const checkpointer = new WalCheckpointer(
      db,
      path,
      "NORMAL",
      { onFailure: (e) => failures.push(e) },
      dying,
    );
    const wait = vi.spyOn(Atomics, "wait");
    try {
      await waitFor(() => failures.length > 0, "the failure to be reported");
      // The dead worker never gives its turn back: waiting for it blocked the event loop.
      expect(checkpointer.exclusive(() => "checkpointed")).toBe("checkpointed");
      expect(wait).not.toHaveBeenCalled();
    } finally {
      wait.mockRestore();
      checkpointer.stop();
      db.close();
    }
  });
});
