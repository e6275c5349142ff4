import { packValue } from "@meridian/core";
import { VirtualScheduler } from "@meridian/sim";
import { describe, expect, it } from "vitest";
import { createWrite, HandLink, handNode } from "./hand-kit.ts";

describe("anti-entropy with a duplicated sync-request", () => {
  it("never claims a write whose registers it did not receive", async () => {
    // Found by `pnpm sim --seeds 1500 --from 400000 --regions 5 --max-faults 10 --max-ops 80`
    // (seed 400102): chaos duplicated a sync-request, the responder served the round twice with
    // different snapshots, and the requester completed the round with the chunks of the first
    // serve and the vector of the second, claiming a write it never got. It never converged.
    const scheduler = new VirtualScheduler();
    const a = handNode("eu", scheduler, { seed: 1 });
    const b = handNode("us", scheduler, { seed: 1 });
    const aToB = new HandLink(b.replica.nodeId, "us");
    const bToA = new HandLink(a.replica.nodeId, "eu");
    const id = "session-duplicated-1";
    const created = b.replica.write(id, createWrite(1));
    await scheduler.runUntil(1);
    await created;
    a.replicator.attach(aToB);
    const request = aToB.sent.find((m) => m.type === "sync-request")!;
    b.replicator.receive(bToA, request);
    await scheduler.runUntil(2);
    const firstServe = bToA.sent.splice(0);
    const patched = b.replica.write(id, {
      op: "patch",
      set: new Map([["y", packValue(2)]]),
      defaultTtlMs: null,
    });
    await scheduler.runUntil(3);
    const { delta } = await patched;
    b.replicator.receive(bToA, request); // the duplicate
    await scheduler.runUntil(4);
    const secondServe = bToA.sent.splice(0);
    // The first serve's chunks, then the second serve's end.
    for (const m of firstServe) if (m.type === "sync-chunk") a.replicator.receive(aToB, m);
    for (const m of secondServe) if (m.type === "sync-done") a.replicator.receive(aToB, m);
    const claims = a.replica.store.versionVector().has(delta.dot);
    const holds = a.replica.store.getSession(id)?.fields.has("y") ?? false;
    expect(claims).toBe(holds);
  });
});
