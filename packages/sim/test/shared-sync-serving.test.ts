import { MemoryStore, type MissingPage, VersionVector } from "@meridian/core";
import type { Replica } from "@meridian/server";
import { VirtualScheduler } from "@meridian/sim";
import { describe, expect, it } from "vitest";
import { createWrite, HandLink, handNode } from "./hand-kit.ts";

/** A memory store that counts the pages it extracts. */
class CountingStore extends MemoryStore {
  pages = 0;
  override extractMissing(
    peer: VersionVector,
    options?: { limit?: number; after?: string },
  ): MissingPage {
    this.pages += 1;
    return super.extractMissing(peer, options);
  }
}

async function server() {
  const scheduler = new VirtualScheduler();
  const store = new CountingStore();
  const { replica, replicator } = handNode("eu", scheduler, { seed: 3, store, syncPageSize: 1 });
  const ids = Array.from({ length: 6 }, (_, i) => `shared-session-000${i}`);
  for (const id of ids) {
    const write = replica.write(id, createWrite(id));
    await scheduler.runUntil(scheduler.now + 1);
    await write;
  }
  const early = new HandLink("us-1", "us");
  const late = new HandLink("ap-1", "ap");
  // Two pages go out before the second requester, with an equal vector, asks.
  early.onSend = () => {
    if (early.sent.length !== 2) return;
    replicator.receive(late, { type: "sync-request", round: 7, vv: new VersionVector() });
  };
  const run = async () => {
    replicator.receive(early, { type: "sync-request", round: 1, vv: new VersionVector() });
    await scheduler.runUntil(scheduler.now + 100);
  };
  return { replica, store, ids, early, late, run };
}

/** Checks that `link` got a complete round: every session, numbered chunks, the snapshot. */
function expectCompleteRound(link: HandLink, replica: Replica, ids: readonly string[]): void {
  const chunks = link.sent.filter((m) => m.type === "sync-chunk");
  const done = link.sent.find((m) => m.type === "sync-done");
  expect(done?.type === "sync-done" && done.chunks).toBe(chunks.length);
  expect(done?.type === "sync-done" && done.vv.toString()).toBe(
    replica.store.versionVector().toString(),
  );
  expect(chunks.map((m) => m.index)).toEqual(chunks.map((_, i) => i));
  const got = chunks.flatMap((m) => m.sessions.map((s) => s.id));
  expect(got.slice().sort()).toEqual(ids);
  // What the requester holds after applying the round equals the server's store.
  const requester = new MemoryStore();
  requester.applyStates(chunks.flatMap((m) => m.sessions));
  expect(requester.digest()).toBe(replica.store.digest());
}

describe("anti-entropy rounds with equal vectors", () => {
  it("share one extraction; a requester that joins late still gets every session and the snapshot", async () => {
    const { replica, store, ids, early, late, run } = await server();
    await run();
    expectCompleteRound(early, replica, ids);
    expectCompleteRound(late, replica, ids);
    // Joined, not served twice: the late one got the shared pages first, then read for itself
    // only the two pages before it joined.
    const order = late.sent.flatMap((m) => (m.type === "sync-chunk" ? [m.sessions[0]!.id] : []));
    expect(order).toEqual([...ids.slice(2), ...ids.slice(0, 2)]);
    expect(store.pages).toBe(ids.length + 2);
  });

  it("keep serving a requester that joined when the first one's link stops taking frames", async () => {
    const { replica, ids, early, late, run } = await server();
    const send = early.send.bind(early);
    early.send = (m) => early.sent.length < 3 && send(m);
    await run();
    expect(early.sent.some((m) => m.type === "sync-done")).toBe(false);
    expectCompleteRound(late, replica, ids);
  });
});
