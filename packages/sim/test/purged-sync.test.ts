import { SessionDeletedError } from "@meridian/core";
import { VirtualScheduler } from "@meridian/sim";
import { describe, expect, it } from "vitest";
import { createWrite, HandLink, handNode, settler } from "./hand-kit.ts";

describe("anti-entropy carries purged ids", () => {
  it("to a node with a new identity, which drops what it wrote to them; not to peers holding the delete", async () => {
    const scheduler = new VirtualScheduler();
    const settle = settler(scheduler);
    const eu = handNode("eu", scheduler, { seed: 1, syncPageSize: 1 });
    const us = handNode("us", scheduler, { seed: 2, syncPageSize: 1 });
    const gone = ["purged-session-0001", "purged-session-0002"];
    const kept = "kept-session-00001";
    for (const id of [...gone, kept]) {
      const { delta } = await settle(eu.replica.write(id, createWrite(1)));
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
    const ap = handNode("ap", scheduler, { seed: 3, syncPageSize: 1 });
    await settle(ap.replica.write(gone[0]!, createWrite(2)));
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
      await expect(ap.replica.write(id, createWrite(3))).rejects.toBeInstanceOf(
        SessionDeletedError,
      );
    }
    expect(ap.replica.store.versionVector().covers(eu.replica.store.versionVector())).toBe(true);
    expect(ap.replica.store.digest()).toBe(eu.replica.store.digest());
  });
});
