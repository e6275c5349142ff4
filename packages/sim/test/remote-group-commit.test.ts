import type { Delta } from "@meridian/core";
import { describe, expect, it } from "vitest";
import { createWrite, deliverer, dotText, euToUs, HandLink } from "./hand-kit.ts";

describe("remote writes join the group commit of their tick", () => {
  async function setup() {
    const { settle, eu, us, store } = euToUs({ eu: 7, us: 7 });
    const pushed: Delta[] = [];
    for (const id of ["pushed-session-0001", "pushed-session-0002"]) {
      pushed.push((await settle(eu.replica.write(id, createWrite(1)))).delta);
    }
    const link = new HandLink(eu.replica.nodeId, "eu");
    const deliver = deliverer(us.replicator, link, eu.replica.nodeId);
    return { settle, eu, us, store, pushed, link, deliver };
  }

  it("commits the tick's pushed and local writes once, and acknowledges only after it", async () => {
    const { settle, us, store, pushed, link, deliver } = await setup();
    const [a, b] = pushed as [Delta, Delta];
    deliver([a]);
    deliver([b]);
    const local = us.replica.write("local-session-00002", createWrite(2));
    expect(link.acks()).toEqual([]);
    expect(us.replica.store.holds(a.dot)).toBe(false);

    await settle(local);
    expect(store.commits).toEqual([3]);
    // One ack for the messages of the tick, sent once the commit holds both writes.
    expect(link.acks()).toEqual([[a, b].map(dotText).join()]);
    expect([a, b].every((d) => us.replica.store.holds(d.dot))).toBe(true);
  });

  it("plans a local write without the tick's pushed writes: deleting a session being deleted succeeds", async () => {
    const { settle, us, pushed, deliver, eu } = await setup();
    const [a] = pushed as [Delta, Delta];
    deliver([a]);
    await settle(Promise.resolve());
    const { delta: remoteDelete } = await settle(eu.replica.write(a.session.id, { op: "delete" }));
    deliver([remoteDelete]);
    const { state } = await settle(us.replica.write(a.session.id, { op: "delete" }));
    expect(state.deleted).toBeDefined();
    expect(us.replica.store.holds(remoteDelete.dot)).toBe(true);
    expect(us.replica.get(a.session.id)?.deleted).toBeDefined();
  });

  it("acknowledges nothing of a failed commit, fails its local writes and closes the link", async () => {
    const { settle, us, store, pushed, link, deliver } = await setup();
    const faults: unknown[] = [];
    us.replicator.on("fault", (_peer, e) => faults.push(e));
    deliver(pushed);
    const local = us.replica.write("local-session-00001", createWrite(3)).catch((e: unknown) => e);
    store.failNext = true;
    expect(await settle(local)).toMatchObject({ message: "disk full" });
    expect(link.acks()).toEqual([]);
    expect(link.closedWith).toBe(1011);
    expect(faults).toHaveLength(1);
    expect(pushed.some((d) => us.replica.store.holds(d.dot))).toBe(false);
    // The sequence number of the failed local write is given back.
    const again = await settle(us.replica.write("local-session-00001", createWrite(4)));
    expect(again.delta.dot.seq).toBe(1);
  });
});
