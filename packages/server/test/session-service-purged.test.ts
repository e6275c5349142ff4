import { MemoryStore, SessionDeletedError, type SessionState } from "@meridian/core";
import { describe, expect, it } from "vitest";
import { Replica } from "../src/replica.ts";
import type { Replicator } from "../src/replicator.ts";
import { cryptoRng, eventLoopScheduler, systemClock } from "../src/scheduler.ts";
import { SessionService } from "../src/session-service.ts";

const ID = "purged-session-0001";

/**
 * A replicator standing in for two peers: one answers reads with `peerCopy` (a wiped node that
 * took a write to the id before it learned the purge); pushes and repairs go nowhere.
 */
function peersAnswering(peerCopy: SessionState): Replicator {
  const stub = {
    connectedPeers: () => 2,
    readFromPeers: async () => new Map([["ap-2", { session: peerCopy, vv: undefined }]]),
    repair: () => {},
    push: () => {},
    waitForAcks: async () => 0,
  };
  return stub as unknown as Replicator;
}

describe("reads of a purged session", () => {
  it("answer deleted even when a peer's live copy is merged in (quorum read)", async () => {
    // The peer's copy: a live session written at a wiped node that did not know the purge.
    const elsewhere = new Replica({
      store: new MemoryStore(),
      clock: systemClock,
      rng: cryptoRng,
      scheduler: eventLoopScheduler,
      region: "ap",
    });
    const { state: peerCopy } = await elsewhere.write(ID, {
      op: "create",
      data: new Map([["b", new Uint8Array([2])]]),
      ttlMs: 60_000,
    });

    const replica = new Replica({
      store: new MemoryStore(),
      clock: systemClock,
      rng: cryptoRng,
      scheduler: eventLoopScheduler,
      region: "eu",
    });
    await replica.write(ID, { op: "create", data: new Map(), ttlMs: 60_000 });
    await replica.write(ID, { op: "delete" });
    replica.store.purgeSession(ID);
    const service = new SessionService(replica, peersAnswering(peerCopy), cryptoRng, {
      defaultTtlMs: 60_000,
      clusterSize: 3,
    });
    await expect(service.get(ID)).rejects.toBeInstanceOf(SessionDeletedError);
    await expect(service.get(ID, { consistency: "quorum" })).rejects.toBeInstanceOf(
      SessionDeletedError,
    );
    // The peer's copy was dropped, not stored.
    expect(replica.get(ID)).toBeUndefined();
  });
});
