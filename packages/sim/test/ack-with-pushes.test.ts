import type { Delta } from "@meridian/core";
import { describe, expect, it } from "vitest";
import { createWrite, deliverer, dotText, euToUs, HandLink } from "./hand-kit.ts";

describe("a tick's acks travel with its pushes", () => {
  async function setup() {
    const { settle, eu, us, store } = euToUs({ eu: 3, us: 4 });
    const pushed = (await settle(eu.replica.write("pushed-session-0001", createWrite(1)))).delta;
    // us's own link to eu, which its pushes take, and the one eu dialled, which eu pushes on.
    const outbound = new HandLink(eu.replica.nodeId, "eu");
    const inbound = new HandLink(eu.replica.nodeId, "eu");
    us.replicator.attach(outbound);
    outbound.sent.length = 0; // the anti-entropy request of the attach
    const deliver = deliverer(us.replicator, inbound, eu.replica.nodeId);
    return { settle, us, store, pushed, outbound, inbound, deliver };
  }

  it("sends the ack and the deltas of one commit on the outbound link, ack first", async () => {
    const { settle, us, pushed, outbound, inbound, deliver } = await setup();
    deliver([pushed]);
    const local = us.replica.write("local-session-00001", createWrite(2)).then((w) => {
      us.replicator.push(w.delta);
      return w;
    });
    const { delta } = await settle(local);
    expect(inbound.sent).toEqual([]);
    expect(outbound.sent.map((m) => m.type)).toEqual(["ack", "deltas"]);
    expect(outbound.acks()).toEqual([dotText(pushed)]);
    const deltas = outbound.sent[1];
    expect(deltas?.type === "deltas" && deltas.deltas.map(dotText)).toEqual([dotText(delta)]);
  });

  it("acknowledges only once the commit is durable, in the tick of the commit", async () => {
    const { settle, us, pushed, outbound, deliver } = await setup();
    let heldWhenAcked: boolean | undefined;
    outbound.onSend = () => {
      heldWhenAcked ??= us.replica.store.holds(pushed.dot);
    };
    deliver([pushed]);
    await Promise.resolve();
    expect(outbound.sent).toEqual([]);
    await settle(Promise.resolve());
    expect(outbound.acks()).toEqual([dotText(pushed)]);
    expect(heldWhenAcked).toBe(true);
  });

  it("falls back to the link the writes came in on when the outbound link refuses", async () => {
    const { settle, pushed, outbound, inbound, deliver } = await setup();
    outbound.send = () => false;
    deliver([pushed]);
    await settle(Promise.resolve());
    expect(inbound.acks()).toEqual([dotText(pushed)]);
  });

  it("acknowledges on the link the writes came in on when there is no outbound link", async () => {
    const { settle, us, pushed, outbound, inbound, deliver } = await setup();
    us.replicator.detach(outbound);
    deliver([pushed]);
    await settle(Promise.resolve());
    expect(outbound.sent).toEqual([]);
    expect(inbound.acks()).toEqual([dotText(pushed)]);
  });

  it("acknowledges nothing on either link when the commit fails", async () => {
    const { settle, us, store, pushed, outbound, inbound, deliver } = await setup();
    deliver([pushed]);
    const local = us.replica.write("local-session-00001", createWrite(2)).catch((e: unknown) => e);
    store.failNext = true;
    expect(await settle(local)).toMatchObject({ message: "disk full" });
    await settle(Promise.resolve());
    expect(outbound.sent).toEqual([]);
    expect(inbound.acks()).toEqual([]);
    expect(inbound.closedWith).toBe(1011);
  });

  it("keeps each commit's ack and deltas together and in commit order", async () => {
    const { settle, us, pushed, outbound, deliver } = await setup();
    const commit = async (id: string, x: number, remote: Delta[]) => {
      deliver(remote);
      const write = us.replica.write(id, createWrite(x)).then((w) => {
        us.replicator.push(w.delta);
        return w;
      });
      return (await settle(write)).delta;
    };
    const first = await commit("local-session-00001", 1, [pushed]);
    const second = await commit("local-session-00002", 2, [pushed]);
    expect(
      outbound.sent.map((m) =>
        m.type === "deltas" ? `deltas ${m.deltas.map(dotText).join()}` : m.type,
      ),
    ).toEqual(["ack", `deltas ${dotText(first)}`, "ack", `deltas ${dotText(second)}`]);
    expect(outbound.acks()).toEqual([dotText(pushed), dotText(pushed)]);
  });
});
