import {
  MemoryStore,
  type PeerLink,
  type PeerMessage,
  packValue,
  SessionDeletedError,
} from "@meridian/core";
import { Replica, Replicator } from "@meridian/server";
import { SimRandom, VirtualClock, VirtualScheduler } from "@meridian/sim";
import { describe, expect, it } from "vitest";

/** A link that keeps what is sent on it, for delivering by hand. */
class HandLink implements PeerLink {
  readonly sent: PeerMessage[] = [];
  constructor(
    readonly peerId: string,
    readonly region: string,
  ) {}
  send(message: PeerMessage): boolean {
    this.sent.push(message);
    return true;
  }
  close(): void {}
}

function node(region: string, scheduler: VirtualScheduler, seed: number) {
  const replica = new Replica({
    store: new MemoryStore(),
    clock: new VirtualClock(scheduler),
    rng: SimRandom.derive(seed, region),
    scheduler,
    region,
  });
  // Pages of one item, so that a round has several chunks of each kind.
  const replicator = new Replicator(replica, scheduler, {
    syncIntervalMs: 60_000,
    syncPageSize: 1,
  });
  return { replica, replicator };
}

const create = (x: number) => ({
  op: "create" as const,
  data: new Map([["x", packValue(x)]]),
  ttlMs: null,
});

describe("anti-entropy carries purged ids", () => {
  it("to a node with a new identity, which drops what it wrote to them; not to peers holding the delete", async () => {
    const scheduler = new VirtualScheduler();
    let t = 0;
    const settle = async <T>(p: Promise<T>): Promise<T> => {
      t += 1;
      await scheduler.runUntil(t);
      return p;
    };
    const eu = node("eu", scheduler, 1);
    const us = node("us", scheduler, 2);
    const gone = ["purged-session-0001", "purged-session-0002"];
    const kept = "kept-session-00001";
    for (const id of [...gone, kept]) {
      const { delta } = await settle(eu.replica.write(id, create(1)));
      await settle(us.replica.applyRemote([delta]));
    }
    for (const id of gone) {
      const { delta } = await settle(eu.replica.write(id, { op: "delete" }));
      await settle(us.replica.applyRemote([delta]));
      eu.replica.store.purgeSession(id);
    }

    // us held both deletes before eu purged them: its rounds carry no purged id.
    const usToEu = new HandLink(eu.replica.nodeId, "eu");
    const euFromUs = new HandLink(us.replica.nodeId, "us");
    us.replicator.attach(usToEu);
    eu.replicator.receive(euFromUs, usToEu.sent.find((m) => m.type === "sync-request")!);
    await settle(Promise.resolve());
    expect(euFromUs.sent.map((m) => m.type)).toEqual(["sync-done"]);

    // ap restarts on a wiped disk (a new node id) and takes a write to a purged id first.
    const ap = node("ap", scheduler, 3);
    await settle(ap.replica.write(gone[0]!, create(2)));
    expect(ap.replica.get(gone[0]!)).toBeDefined();
    const apToEu = new HandLink(eu.replica.nodeId, "eu");
    const euFromAp = new HandLink(ap.replica.nodeId, "ap");
    ap.replicator.attach(apToEu);
    eu.replicator.receive(euFromAp, apToEu.sent.find((m) => m.type === "sync-request")!);
    for (let i = 0; i < 5; i++) await settle(Promise.resolve());
    const served = euFromAp.sent.splice(0);
    expect(served.map((m) => m.type)).toEqual([
      "sync-chunk",
      "sync-purged",
      "sync-purged",
      "sync-done",
    ]);
    const done = served.at(-1);
    expect(done?.type === "sync-done" && done.chunks).toBe(3);

    // Without one of its chunks the round is incomplete: ap claims nothing of eu's vector.
    for (const m of served.filter((_, i) => i !== 2)) ap.replicator.receive(apToEu, m);
    expect(ap.replica.store.wasPurged(gone[0]!)).toBe(true);
    expect(ap.replica.store.wasPurged(gone[1]!)).toBe(false);
    expect(ap.replica.store.versionVector().max(eu.replica.nodeId)).toBe(0);

    // The next round sends what is still missing, and completes.
    const apToEu2 = new HandLink(eu.replica.nodeId, "eu");
    ap.replicator.attach(apToEu2);
    const euFromAp2 = new HandLink(ap.replica.nodeId, "ap");
    eu.replicator.receive(euFromAp2, apToEu2.sent.find((m) => m.type === "sync-request")!);
    for (let i = 0; i < 5; i++) await settle(Promise.resolve());
    for (const m of euFromAp2.sent) ap.replicator.receive(apToEu2, m);
    for (const id of gone) {
      expect(ap.replica.store.wasPurged(id)).toBe(true);
      expect(ap.replica.get(id)).toBeUndefined();
      await expect(ap.replica.write(id, create(3))).rejects.toBeInstanceOf(SessionDeletedError);
    }
    expect(ap.replica.store.versionVector().covers(eu.replica.store.versionVector())).toBe(true);
    expect(ap.replica.store.digest()).toBe(eu.replica.store.digest());
  });
});
