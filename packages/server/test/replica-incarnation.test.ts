import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteStore } from "@meridian/storage-sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { Replica } from "../src/replica.ts";
import { cryptoRng, eventLoopScheduler, systemClock } from "../src/scheduler.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dbPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "meridian-incarnation-"));
  dirs.push(dir);
  return join(dir, "meridian.db");
}

function replicaOn(path: string, synchronous: "FULL" | "NORMAL", bootId?: string) {
  const store = openSqliteStore(path, { synchronous });
  const replica = new Replica({
    store,
    clock: systemClock,
    rng: cryptoRng,
    scheduler: eventLoopScheduler,
    region: "eu",
    ...(bootId !== undefined ? { bootId } : {}),
  });
  return { store, replica };
}

describe("node incarnation across restarts", () => {
  it("keeps its node id and sequence after a clean stop", async () => {
    const path = dbPath();
    const first = replicaOn(path, "NORMAL");
    await first.replica.write("s-incarnation-0001", {
      op: "create",
      data: new Map([["a", new Uint8Array([1])]]),
      ttlMs: 60_000,
    });
    first.replica.markStopped();
    first.store.close();
    const second = replicaOn(path, "NORMAL");
    expect(second.replica.stoppedUncleanly).toBe(false);
    expect(second.replica.nodeId).toBe(first.replica.nodeId);
    const { delta } = await second.replica.write("s-incarnation-0001", {
      op: "patch",
      set: new Map([["b", new Uint8Array([2])]]),
      defaultTtlMs: 60_000,
    });
    expect(delta.dot).toEqual({ origin: first.replica.nodeId, seq: 2 });
    second.store.close();
  });

  it("takes a new incarnation after an unclean stop with synchronous NORMAL and a reboot", async () => {
    const path = dbPath();
    const first = replicaOn(path, "NORMAL", "boot-1");
    await first.replica.write("s-incarnation-0002", {
      op: "create",
      data: new Map([["a", new Uint8Array([1])]]),
      ttlMs: 60_000,
    });
    first.store.close(); // no markStopped: the machine lost power
    const second = replicaOn(path, "NORMAL", "boot-2");
    expect(second.replica.stoppedUncleanly).toBe(true);
    expect(second.replica.nodeId).not.toBe(first.replica.nodeId);
    expect(second.replica.nodeId.startsWith("eu-")).toBe(true);
    // The old incarnation's write is still held, and new writes start a fresh sequence.
    expect(second.store.versionVector().base(first.replica.nodeId)).toBe(1);
    const { delta } = await second.replica.write("s-incarnation-0002", {
      op: "patch",
      set: new Map([["b", new Uint8Array([2])]]),
      defaultTtlMs: 60_000,
    });
    expect(delta.dot).toEqual({ origin: second.replica.nodeId, seq: 1 });
    second.store.close();
  });

  it("keeps its incarnation after a process crash (same boot) with synchronous NORMAL", () => {
    const path = dbPath();
    const first = replicaOn(path, "NORMAL", "boot-1");
    first.store.close();
    const second = replicaOn(path, "NORMAL", "boot-1");
    expect(second.replica.stoppedUncleanly).toBe(false);
    expect(second.replica.nodeId).toBe(first.replica.nodeId);
    second.store.close();
    // Without a boot id the crash cannot be told from a power loss: a new incarnation.
    const third = replicaOn(path, "NORMAL");
    expect(third.replica.stoppedUncleanly).toBe(true);
    third.store.close();
  });

  it("judges a crashed run by its own durability, not by the next run's", () => {
    // A NORMAL run lost power; the next start asks for FULL. Its lost commits may still be
    // held by peers, so their sequence numbers must not be reused.
    const path = dbPath();
    const first = replicaOn(path, "NORMAL", "boot-1");
    first.store.close();
    const second = replicaOn(path, "FULL", "boot-2");
    expect(second.replica.stoppedUncleanly).toBe(true);
    expect(second.replica.nodeId).not.toBe(first.replica.nodeId);
    second.store.close();
  });

  it("keeps its incarnation after an unclean stop with synchronous FULL", () => {
    const path = dbPath();
    const first = replicaOn(path, "FULL");
    first.store.close();
    const second = replicaOn(path, "FULL");
    expect(second.replica.stoppedUncleanly).toBe(false);
    expect(second.replica.nodeId).toBe(first.replica.nodeId);
    second.store.close();
  });
});
