import { afterEach, describe, expect, it } from "vitest";
import { call, SteppingClock, TestCluster, waitFor } from "./cluster-kit.ts";

const REGIONS = ["eu", "us", "ap"];
const id = (n: number) => `lifecycle-session-${String(n).padStart(4, "0")}`;
const LIFE = { expiryGraceMs: 5_000, tombstoneMinAgeMs: 1_000, janitorIntervalMs: 3_600_000 };

describe("session lifecycle across regions", () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  async function statusEverywhere(c: TestCluster, sid: string): Promise<number[]> {
    return Promise.all(
      c.regions.map(async (r) => (await call("GET", `${c.url(r)}/v1/sessions/${sid}`)).status),
    );
  }

  it("expires by ttl, idle timeout and maxLifetime in every region, and refuses writes after", async () => {
    const clock = new SteppingClock();
    cluster = await TestCluster.start(REGIONS, LIFE, { clock });
    const c = cluster;
    await call("PUT", `${c.url("eu")}/v1/sessions/${id(1)}`, { data: { a: 1 }, ttl: 10 });
    await call("PUT", `${c.url("us")}/v1/sessions/${id(2)}`, {
      data: { a: 1 },
      ttl: 1000,
      idle: 5,
    });
    const life = await call("POST", `${c.url("ap")}/v1/sessions`, {
      data: { a: 1 },
      ttl: 1000,
      maxLifetime: 20,
    });
    // PUT takes maxLifetime as well when it creates the session.
    await call("PUT", `${c.url("ap")}/v1/sessions/${id(6)}`, {
      data: { a: 1 },
      ttl: 1000,
      maxLifetime: 20,
    });
    await c.converge();
    expect(await statusEverywhere(c, id(1))).toEqual([200, 200, 200]);

    clock.advance(4_000);
    // Reading an idle-timed session is an access: it keeps it alive.
    expect((await call("GET", `${c.url("eu")}/v1/sessions/${id(2)}`)).status).toBe(200);
    await c.converge();
    clock.advance(4_000);
    expect(await statusEverywhere(c, id(2))).toEqual([200, 200, 200]);
    // Touch with a longer ttl cannot outlive maxLifetime.
    expect(
      (await call("POST", `${c.url("eu")}/v1/sessions/${life.body.id}/touch`, { ttl: 500 })).status,
    ).toBe(200);
    await c.converge();

    clock.advance(6_000);
    expect(await statusEverywhere(c, id(1))).toEqual([404, 404, 404]);
    expect(await statusEverywhere(c, id(2))).toEqual([404, 404, 404]);
    expect(await statusEverywhere(c, life.body.id!)).toEqual([200, 200, 200]);
    clock.advance(10_000);
    expect(await statusEverywhere(c, life.body.id!)).toEqual([404, 404, 404]);
    expect(await statusEverywhere(c, id(6))).toEqual([404, 404, 404]);
    for (const r of REGIONS) {
      const w = await call("PATCH", `${c.url(r)}/v1/sessions/${id(1)}`, { set: { back: true } });
      expect(w.status).toBe(410);
      expect(w.body.error?.code).toBe("MERIDIAN_ERR_SESSION_EXPIRED");
    }
  });

  it("lets a touch made before expiry win over the expiry another region saw", async () => {
    const clock = new SteppingClock();
    cluster = await TestCluster.start(REGIONS, LIFE, { clock });
    const c = cluster;
    await call("PUT", `${c.url("eu")}/v1/sessions/${id(3)}`, { data: { a: 1 }, ttl: 10 });
    await c.converge();
    c.isolate("eu");
    await waitFor(() => c.node("eu").replicator.connectedPeers() === 0, "eu to be cut off");
    clock.advance(8_000);
    expect(
      (await call("POST", `${c.url("eu")}/v1/sessions/${id(3)}/touch`, { ttl: 60 })).status,
    ).toBe(200);
    clock.advance(3_000);
    // us and ap have not heard of the touch: for them the session is gone...
    expect((await call("GET", `${c.url("us")}/v1/sessions/${id(3)}`)).status).toBe(404);
    c.healAll();
    await c.converge();
    // ...until it arrives: expiry only moves forward, and the touch wins everywhere.
    expect(await statusEverywhere(c, id(3))).toEqual([200, 200, 200]);
  });

  it("sweeps expired sessions into tombstones and collects them only when every region holds the delete", async () => {
    const clock = new SteppingClock();
    cluster = await TestCluster.start(REGIONS, LIFE, { clock });
    const c = cluster;
    await call("PUT", `${c.url("eu")}/v1/sessions/${id(4)}`, { data: { a: 1 }, ttl: 1 });
    await call("PUT", `${c.url("eu")}/v1/sessions/${id(5)}`, { data: { a: 1 }, ttl: 1000 });
    await c.converge();
    clock.advance(10_000);
    const swept = await c.node("us").janitor.runOnce();
    expect(swept.expired).toBe(1);
    await c.converge();
    for (const n of c.nodes) expect(n.replica.get(id(4))?.deleted).toBeDefined();

    // ap is cut off before the delete of id(5) and writes to it concurrently.
    c.isolate("ap");
    await waitFor(() => c.node("ap").replicator.connectedPeers() === 0, "ap to be cut off");
    expect((await call("DELETE", `${c.url("eu")}/v1/sessions/${id(5)}`)).status).toBe(204);
    expect(
      (await call("PATCH", `${c.url("ap")}/v1/sessions/${id(5)}`, { set: { late: 1 } })).status,
    ).toBe(200);
    clock.advance(5_000);
    // Not every region holds the delete: nothing may be collected.
    await waitFor(
      async () => (await c.node("eu").janitor.runOnce()).collected === 0,
      "a janitor pass",
    );
    expect(c.node("eu").replica.get(id(5))).toBeDefined();

    c.healAll();
    await c.converge();
    // Once every region has reported a vector holding the deletes, every tombstone goes.
    await waitFor(
      async () => {
        for (const n of c.nodes) await n.janitor.runOnce();
        return c.nodes.every((n) => n.replica.store.sessionCount() === 0);
      },
      "tombstones to be collected everywhere",
      30_000,
    );
    // Nothing comes back: reads say deleted, writes are refused, and a resync changes nothing.
    expect(await statusEverywhere(c, id(5))).toEqual([410, 410, 410]);
    expect(await statusEverywhere(c, id(4))).toEqual([410, 410, 410]);
    const w = await call("PATCH", `${c.url("us")}/v1/sessions/${id(5)}`, { set: { again: 1 } });
    expect(w.status).toBe(410);
    c.isolate("us");
    c.healAll();
    await waitFor(() => c.nodes.every((n) => n.replicator.connectedPeers() === 2), "reconnect");
    await c.converge();
    expect(c.nodes.every((n) => n.replica.store.sessionCount() === 0)).toBe(true);
  });

  it("a region restarted on a wiped disk learns the purged ids, and what it wrote to them meanwhile loses", async () => {
    const clock = new SteppingClock();
    cluster = await TestCluster.start(REGIONS, LIFE, { clock });
    const c = cluster;
    await call("PUT", `${c.url("eu")}/v1/sessions/${id(7)}`, { data: { a: 1 } });
    await c.converge();
    expect((await call("DELETE", `${c.url("us")}/v1/sessions/${id(7)}`)).status).toBe(204);
    await c.converge();
    clock.advance(5_000);
    await waitFor(
      async () => {
        for (const n of c.nodes) await n.janitor.runOnce();
        return c.nodes.every((n) => n.replica.store.wasPurged(id(7)));
      },
      "the tombstone to be collected everywhere",
      30_000,
    );

    // ap comes back on an empty disk, cut off, and takes a write to the purged id.
    c.isolate("ap");
    const before = c.node("ap").nodeId;
    const ap = await c.restartWiped("ap");
    expect(ap.nodeId).not.toBe(before);
    const w = await call("PUT", `${c.url("ap")}/v1/sessions/${id(7)}`, { data: { b: 2 } });
    expect(w.status).toBe(201);

    c.healAll();
    await waitFor(() => c.nodes.every((n) => n.replicator.connectedPeers() === 2), "reconnect");
    await c.converge();
    expect(ap.replica.store.wasPurged(id(7))).toBe(true);
    expect(c.nodes.every((n) => n.replica.store.sessionCount() === 0)).toBe(true);
    expect(await statusEverywhere(c, id(7))).toEqual([410, 410, 410]);
    const again = await call("PATCH", `${c.url("ap")}/v1/sessions/${id(7)}`, { set: { c: 3 } });
    expect(again.status).toBe(410);
  });

  it("revokes a user's sessions everywhere, and they stay gone when a partitioned region writes to them", async () => {
    cluster = await TestCluster.start(REGIONS, LIFE);
    const c = cluster;
    const ids: string[] = [];
    for (const r of REGIONS) {
      const res = await call("POST", `${c.url(r)}/v1/sessions`, { data: { r }, userId: "alice" });
      ids.push(res.body.id!);
    }
    // A patch can attach a session to a user too.
    const patched = id(9);
    const viaPatch = await call("PATCH", `${c.url("us")}/v1/sessions/${patched}`, {
      set: { p: 1 },
      userId: "alice",
    });
    expect(viaPatch.status).toBe(200);
    ids.push(patched);
    const bob = await call("POST", `${c.url("eu")}/v1/sessions`, { data: {}, userId: "bob" });
    await c.converge();
    expect(
      (await call("GET", `${c.url("us")}/v1/users/alice/sessions`)).body.sessions,
    ).toHaveLength(4);
    c.isolate("ap");
    await waitFor(() => c.node("ap").replicator.connectedPeers() === 0, "ap to be cut off");
    const started = performance.now();
    const revoked = await call("DELETE", `${c.url("eu")}/v1/users/alice/sessions`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revoked).toBe(4);
    await waitFor(
      async () => (await statusEverywhere(c, ids[0]!))[1] === 410,
      "us to see the revocation",
    );
    const toUs = performance.now() - started;
    // ap keeps writing to alice's sessions during the partition.
    for (const sid of ids) {
      expect(
        (await call("PATCH", `${c.url("ap")}/v1/sessions/${sid}`, { set: { still: true } })).status,
      ).toBe(200);
    }
    c.healAll();
    await c.converge();
    for (const sid of ids) expect(await statusEverywhere(c, sid)).toEqual([410, 410, 410]);
    expect(await statusEverywhere(c, bob.body.id!)).toEqual([200, 200, 200]);
    for (const r of REGIONS) {
      expect((await call("GET", `${c.url(r)}/v1/users/alice/sessions`)).body.sessions).toEqual([]);
    }
    console.log(`revocation reached a connected region in ${toUs.toFixed(1)} ms`);
  });
});
